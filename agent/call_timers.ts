// The scenario's time limit: a wrap-up nudge shortly before it (the persona says it has to go),
// then a polite closing line and the end. Cancelled when the call ends for any other reason.
import type { voice } from '@livekit/agents';
import type { Logger } from 'pino';
import type { ReadyRoomMetadata, RoomPersona } from '../src/domain/room_metadata.js';
import type { CallEnding } from './call_ending.js';
import { timeUpLine, wrapUpInstructions } from './persona_instructions.js';

export interface CallTimers {
  cancel(): void;
}

export function startTimeLimit(
  /** speakingPersona: staged calls, the persona on the line now (after a transfer, not the one who answered). */
  call: { session: voice.AgentSession; ending: CallEnding; logger: Logger; speakingPersona?(): RoomPersona | undefined },
  metadata: ReadyRoomMetadata,
  /** How long before the limit the persona is asked to wrap up; no nudge if the call is shorter. */
  wrapUpWarningSeconds: number,
): CallTimers {
  const { session, ending, logger } = call;
  const now = (): ReadyRoomMetadata => ({ ...metadata, persona: call.speakingPersona?.() ?? metadata.persona });
  const limitMs = metadata.scenario.timeLimitSeconds * 1000;
  const warnMs = limitMs - wrapUpWarningSeconds * 1000;
  const wrapUp = () => {
    if (ending.started) return;
    logger.info('time limit near; persona wraps up');
    try {
      session.generateReply({ instructions: wrapUpInstructions(now()) });
    } catch {
      // The session is closing.
    }
  };
  const timeUp = () => {
    logger.info('time limit reached');
    session.interrupt();
    void ending.end('time_limit', timeUpLine(now()));
  };
  const timers = [setTimeout(timeUp, limitMs)];
  if (warnMs > 0) timers.push(setTimeout(wrapUp, warnMs));
  const cancel = () => timers.forEach(clearTimeout);
  ending.onStart(cancel);
  return { cancel };
}
