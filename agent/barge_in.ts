// Barge-in for a non-streaming STT. The framework's own audio-activity interruption also checks
// `minWords` against the live transcript, and Whisper only transcribes once the caller stops, so
// with `minWords` set (needed to ignore "yeah"/"mm-hm" heard over the persona) a real
// interruption would only land after the caller finished talking. Instead: caller speech that
// lasts `minSpeechMs` while the persona talks cuts it off at once; shorter speech is a backchannel
// and the framework's `minWords` check drops its one-word transcript.
import { voice } from '@livekit/agents';

export interface BargeInOptions {
  minSpeechMs: number;
  onInterrupt?: () => void;
}

export function attachBargeIn(session: voice.AgentSession, options: BargeInOptions): () => void {
  let timer: NodeJS.Timeout | undefined;
  const clear = () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
  };
  const onUserState = (event: voice.UserStateChangedEvent) => {
    clear();
    if (event.newState !== 'speaking') return;
    timer = setTimeout(() => {
      timer = undefined;
      if (session.agentState !== 'speaking' || session.userState !== 'speaking') return;
      try {
        session.interrupt();
        options.onInterrupt?.();
      } catch {
        // The session is closing; nothing left to interrupt.
      }
    }, options.minSpeechMs);
  };
  session.on(voice.AgentSessionEventTypes.UserStateChanged, onUserState);
  return () => {
    clear();
    session.off(voice.AgentSessionEventTypes.UserStateChanged, onUserState);
  };
}
