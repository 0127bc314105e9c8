// Barge-in that tells a backchannel from a real interruption.
//
// The framework's own audio-activity interruption does not fit a phone line with Whisper:
//  - it measures `speechDuration`, which keeps growing through the VAD's trailing silence
//    (minSilenceDuration, 500 ms here), so even a 300 ms "yeah" counts as 800 ms of speech;
//  - with `minWords` set (needed so a one-word "yeah"/"mm-hm" transcript heard over the persona is
//    dropped) it also waits for a live transcript, which a non-streaming STT never provides, so a
//    real interruption would only land after the caller has finished talking.
// So: watch the VAD's own inference events and interrupt once the caller has *voiced* speech
// (speech so far minus the silence since the last voiced window) of at least `minSpeechMs` while
// the persona is talking. Shorter speech is a backchannel: the persona carries on, and the
// framework's `minWords` check drops its transcript.
import { VAD, type VADEvent, VADEventType, type VADStream, voice } from '@livekit/agents';

export interface BargeIn {
  /** The VAD to give the session: the real one, observed. */
  readonly vad: VAD;
  attach(session: voice.AgentSession): void;
}

/** Voiced speech in the current utterance, excluding the trailing silence the VAD is still waiting out. */
export function voicedMs(event: Pick<VADEvent, 'speaking' | 'speechDuration' | 'rawAccumulatedSilence'>): number {
  if (!event.speaking) return 0;
  return Math.max(0, event.speechDuration - event.rawAccumulatedSilence);
}

export type BargeInDecision = 'interrupt' | 'backchannel' | 'ignore';

/** Pure: what caller speech heard over the persona means. */
export function bargeInDecision(input: { voicedMs: number; minSpeechMs: number; personaSpeaking: boolean; msSinceLastInterrupt: number }): BargeInDecision {
  if (!input.personaSpeaking) return 'ignore';
  if (input.voicedMs < input.minSpeechMs) return 'backchannel';
  // Both VAD streams (turn detection and the STT adapter) report the same speech, and the
  // persona's state changes a moment after the interrupt: act once.
  return input.msSinceLastInterrupt < 1000 ? 'ignore' : 'interrupt';
}

class ObservedVAD extends VAD {
  readonly label: string;

  constructor(
    private readonly inner: VAD,
    private readonly observe: (event: VADEvent) => void,
  ) {
    super(inner.capabilities);
    this.label = inner.label;
    inner.on('metrics_collected', (metrics) => this.emit('metrics_collected', metrics));
  }

  override get minSilenceDuration(): number | null {
    return this.inner.minSilenceDuration;
  }

  stream(): VADStream {
    const stream = this.inner.stream();
    const next = stream.next.bind(stream);
    // Consumers iterate with `for await`, which calls next() on the stream itself.
    stream.next = async () => {
      const result = await next();
      if (!result.done) this.observe(result.value);
      return result;
    };
    return stream;
  }
}

export function createBargeIn(vad: VAD, options: { minSpeechMs: number; onInterrupt?: () => void }): BargeIn {
  let session: voice.AgentSession | undefined;
  let firedAt = 0;
  const observe = (event: VADEvent) => {
    if (session === undefined || event.type !== VADEventType.INFERENCE_DONE) return;
    const decision = bargeInDecision({ voicedMs: voicedMs(event), minSpeechMs: options.minSpeechMs, personaSpeaking: session.agentState === 'speaking', msSinceLastInterrupt: Date.now() - firedAt });
    if (decision !== 'interrupt') return;
    firedAt = Date.now();
    try {
      session.interrupt();
      options.onInterrupt?.();
    } catch {
      // The session is closing; nothing left to interrupt.
    }
  };
  return {
    vad: new ObservedVAD(vad, observe),
    attach(value) {
      session = value;
    },
  };
}
