// Builds the voice pipeline for one call: Silero VAD -> Groq Whisper (OpenAI plugin, Groq mode) ->
// Groq LLM streaming into ElevenLabs TTS. Every base URL and key comes from config. Tests reuse
// these factories with the providers pointed at the emulators.
//
// Two turn pipelines (decision 011):
//  - 'overlapped' (default): the VAD closes a speech segment after a short silence and Whisper
//    transcribes it at once, while the turn itself is still committed by the endpointing rule; the
//    LLM reply and its first TTS audio are generated speculatively from that transcript, so they
//    are ready when the turn commits. A caller who resumes speaking discards the speculation.
//    With AGENT_STT_EARLY_REQUEST_MS set, a second VAD with a shorter silence sends each segment
//    to Whisper before the segment VAD has closed it (agent/early_segment_stt.ts); same segments.
//  - 'serial' (the first wave's): the segment ends only after the full endpointing silence, and
//    the LLM and TTS start after the turn commits. Kept for comparison (npm run bench:turn).
import { inference, llm, stt as sttNs, type tts as ttsNs, type VAD, voice } from '@livekit/agents';
import * as elevenlabs from '@livekit/agents-plugin-elevenlabs';
import * as openai from '@livekit/agents-plugin-openai';
import { EarlySegmentSTT } from './early_segment_stt.js';

export interface ProviderSettings {
  groqApiKey: string;
  /** Bare origin, e.g. https://api.groq.com; the OpenAI plugin needs `/openai/v1` appended. */
  groqBaseUrl: string;
  sttModel: string;
  elevenLabsApiKey: string;
  /** Bare origin, e.g. https://api.elevenlabs.io; the plugin needs `/v1` appended. */
  elevenLabsBaseUrl: string;
  elevenLabsModel: string;
}

export type TurnPipeline = 'overlapped' | 'serial';
/** 'vad': the turn ends after a fixed silence. 'model': LiveKit's local end-of-turn model stretches it when the caller sounds unfinished. */
export type TurnDetectorChoice = 'vad' | 'model';

export interface TurnSettings {
  pipeline: TurnPipeline;
  turnDetector: TurnDetectorChoice;
  /** Silence after the caller stops before the persona answers (the turn commits). */
  endpointingMinDelayMs: number;
  /** Turn detector 'model': the longest silence waited when the model says the caller is not done. */
  endpointingMaxDelayMs: number;
  /** Overlapped pipeline: silence that closes a speech segment and sends it to Whisper. */
  sttSegmentSilenceMs: number;
  /**
   * Overlapped pipeline: silence after which the open segment is already sent to Whisper, its answer
   * used if the segment then ends with no more speech (agent/early_segment_stt.ts). 0: off.
   */
  sttEarlyRequestMs: number;
  /** Overlapped pipeline: speculative replies started per rep turn at most. */
  preemptiveMaxRetries: number;
  /** Caller speech over the persona shorter than this is a backchannel. */
  interruptionMinDurationMs: number;
  /** A transcript over the persona needs this many words to interrupt. */
  interruptionMinWords: number;
}

const trimSlash = (url: string) => url.replace(/\/+$/, '');
export const groqOpenAiBaseUrl = (origin: string) => `${trimSlash(origin)}/openai/v1`;
export const elevenLabsApiBaseUrl = (origin: string) => `${trimSlash(origin)}/v1`;

/** What the Silero VAD shared by turn detection and the STT segmenter is loaded with. */
export interface VadSettings {
  /** Silence Silero waits out before it ends a speech segment. */
  minSilenceDuration: number;
  /** Audio before the detected onset that goes to Whisper with the segment. */
  prefixPaddingDuration?: number;
}

/**
 * Serial: segments end after the full endpointing silence (the turn ends at the larger of the two,
 * so one knob is the truth). Overlapped: the short segment silence, so Whisper hears each stretch
 * of speech as soon as the caller pauses, while endpointing still decides when the turn commits.
 * Its padding is short too: segments now follow each other after pauses of ~300 ms, and Silero's
 * default 500 ms reaches back into the previous segment, so its last word would go to Whisper twice.
 */
export function vadSettings(turns: Pick<TurnSettings, 'pipeline' | 'turnDetector' | 'endpointingMinDelayMs' | 'sttSegmentSilenceMs'>): VadSettings {
  if (turns.pipeline === 'serial') return { minSilenceDuration: turns.endpointingMinDelayMs };
  const segment = Math.min(turns.sttSegmentSilenceMs, turns.endpointingMinDelayMs);
  // The end-of-turn model refuses to start (and the call with it) on a VAD silence under 250 ms.
  const minSilenceDuration = turns.turnDetector === 'model' ? Math.max(segment, MODEL_MIN_VAD_SILENCE_MS) : segment;
  return { minSilenceDuration, prefixPaddingDuration: 200 };
}

/** @livekit/agents' TurnDetector needs at least this much VAD silence (checked when the session starts). */
const MODEL_MIN_VAD_SILENCE_MS = 250;

/**
 * The VAD whose end of speech sends a segment to Whisper early: the segment VAD's settings with the
 * shorter silence, so both hear the same speech. Undefined when off: serial pipeline, 0, or not
 * shorter than the segment silence actually used.
 */
export function earlyVadSettings(turns: Pick<TurnSettings, 'pipeline' | 'turnDetector' | 'endpointingMinDelayMs' | 'sttSegmentSilenceMs' | 'sttEarlyRequestMs'>): VadSettings | undefined {
  if (turns.pipeline !== 'overlapped' || turns.sttEarlyRequestMs <= 0) return undefined;
  const segment = vadSettings(turns);
  if (turns.sttEarlyRequestMs >= segment.minSilenceDuration) return undefined;
  return { ...segment, minSilenceDuration: turns.sttEarlyRequestMs };
}

/**
 * Groq Whisper (batch). Overlapped: segmented by the session's own VAD, so it is a stream; with an
 * early VAD too, each segment's request leaves at the early VAD's pause (same segments, same events).
 */
export function createStt(settings: ProviderSettings, language: string, segmentVad?: VAD, earlyVad?: VAD): sttNs.STT {
  const whisper = openai.STT.withGroq({
    apiKey: settings.groqApiKey,
    baseURL: groqOpenAiBaseUrl(settings.groqBaseUrl),
    model: settings.sttModel,
    language: language.split('-')[0] ?? 'en',
  });
  // Without a VAD here the session wraps Whisper in the same adapter with its own VAD.
  if (segmentVad === undefined) return whisper;
  return earlyVad === undefined ? new sttNs.StreamAdapter(whisper, segmentVad) : new EarlySegmentSTT(whisper, { segment: segmentVad, early: earlyVad });
}

export function createLlm(settings: ProviderSettings, model: string, temperature: number): llm.LLM {
  return openai.LLM.withGroq({ apiKey: settings.groqApiKey, baseURL: groqOpenAiBaseUrl(settings.groqBaseUrl), model, temperature });
}

export function createTts(settings: ProviderSettings, voiceId: string, language: string): ttsNs.TTS {
  return new elevenlabs.TTS({
    apiKey: settings.elevenLabsApiKey,
    baseURL: elevenLabsApiBaseUrl(settings.elevenLabsBaseUrl),
    model: settings.elevenLabsModel,
    voiceId,
    language: language.split('-')[0] ?? 'en',
    // PCM, not μ-law: LiveKit SIP transcodes to G.711 for the phone, and 16 kHz is plenty for it.
    encoding: 'pcm_16000',
  });
}

export interface SessionParts {
  vad: VAD;
  stt: sttNs.STT;
  /** Omitted when each agent brings its own (the persona's model is chosen per call). */
  llm?: llm.LLM;
  tts: ttsNs.TTS;
}

/**
 * Leaving turnDetection unset would build the cloud turn detector. 'vad' is local and model-free;
 * 'model' pins the in-process `turn-detector-v1-mini` (its weights ship in @livekit/local-inference
 * and run in the worker's inference process), so LIVEKIT_DEV_MODE cannot switch it to the cloud.
 */
function turnDetection(turns: TurnSettings): { turnDetection: 'vad' | inference.TurnDetector; endpointing: voice.EndpointingOptions } {
  const minDelay = turns.endpointingMinDelayMs;
  if (turns.turnDetector === 'model') {
    return {
      turnDetection: new inference.TurnDetector({ version: 'v1-mini' }),
      endpointing: { mode: 'dynamic', minDelay, maxDelay: Math.max(turns.endpointingMaxDelayMs, minDelay), alpha: 0.9 },
    };
  }
  return { turnDetection: 'vad', endpointing: { mode: 'fixed', minDelay, maxDelay: Math.max(3000, minDelay), alpha: 0.9 } };
}

const PHONE_RETRY = { maxRetry: 2, retryIntervalMs: 300, timeoutMs: 6000 } as const;

export function createPersonaSession(parts: SessionParts, turns: TurnSettings): voice.AgentSession {
  return new voice.AgentSession({
    ...parts,
    turnHandling: {
      ...turnDetection(turns),
      interruption: {
        enabled: true,
        // 'vad', not the adaptive (cloud) detector.
        mode: 'vad',
        minDuration: turns.interruptionMinDurationMs,
        minWords: turns.interruptionMinWords,
      },
      // Overlapped: the reply (LLM and the first TTS audio) is generated from each segment's
      // transcript before the turn commits, and used only if the committed transcript is the same.
      preemptiveGeneration:
        turns.pipeline === 'overlapped'
          ? { enabled: true, preemptiveTts: true, maxRetries: turns.preemptiveMaxRetries }
          : { enabled: true, preemptiveTts: false },
    },
    // No echo warm-up on a phone line: it would mute barge-in for the first 3 s of the greeting.
    aecWarmupDuration: null,
    userAwayTimeout: null,
    connOptions: {
      // A caller is waiting in silence: retry fast and give up soon (the defaults wait 2 s between
      // tries, up to ~16 s per turn), then the persona says a fallback line (provider_failures.ts).
      sttConnOptions: PHONE_RETRY,
      llmConnOptions: PHONE_RETRY,
      ttsConnOptions: PHONE_RETRY,
      // The agent decides itself when providers are "down" (provider_failures.ts) so it can still speak.
      maxUnrecoverableErrors: 10,
    },
  });
}
