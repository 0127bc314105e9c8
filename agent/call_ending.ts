// Ending a call: one idempotent "end this call because X" for every path (end_call, time limit,
// caller hang-up, providers down, a failed PIN). The first reason wins; later calls get the same
// ending. Deleting the room is what hangs up the phone (livekit-sip sends BYE).
import { type JobContext, type tts as ttsNs, type VAD, voice } from '@livekit/agents';
import type { Logger } from 'pino';
import type { CallEndOutcome } from './call_store.js';
import { CALLER_KINDS, waitForCaller } from './caller.js';

/** Every reason the agent ends a call, and how the state machine reads it (src/domain/call_state.ts). */
export const CALL_END_REASONS = {
  /** The caller left (or the session closed for no other reason). */
  caller_hung_up: 'ended',
  /** The persona said goodbye and used end_call. */
  persona_ended: 'ended',
  time_limit: 'ended',
  caller_never_joined: 'ended',
  pin_failed: 'ended',
  /** Provider failures in a row (provider_failures.ts). */
  providers_down: 'failed',
  session_error: 'failed',
} as const satisfies Record<string, CallEndOutcome>;

export type CallEndReason = keyof typeof CALL_END_REASONS;

export interface CallEndingDeps {
  logger: Logger;
  session: voice.AgentSession;
  /** Deletes the room: the phone hears BYE, a browser is disconnected. */
  hangUp(): Promise<void>;
  /** Ends the job (JobContext.shutdown); its shutdown callbacks record the end. */
  shutdown(reason: string): void;
}

export interface CallEnding {
  /** Says `goodbye` (uninterruptible) if given, closes the session, hangs up and shuts down. Idempotent. */
  end(reason: CallEndReason, goodbye?: string): Promise<void>;
  /** Why the call ended; 'caller_hung_up' until something else ends it. */
  readonly reason: CallEndReason;
  readonly outcome: CallEndOutcome;
  /** True from the moment an ending starts. */
  readonly started: boolean;
  /** Runs once when the ending starts (timers stop here). */
  onStart(listener: () => void): void;
}

export function createCallEnding(deps: CallEndingDeps): CallEnding {
  const { logger, session } = deps;
  const listeners: (() => void)[] = [];
  let reason: CallEndReason = 'caller_hung_up';
  let ending: Promise<void> | undefined;

  const run = async (why: CallEndReason, goodbye: string | undefined): Promise<void> => {
    for (const listener of listeners) listener();
    logger.info({ reason: why, outcome: CALL_END_REASONS[why] }, 'ending call');
    try {
      if (goodbye !== undefined) await session.say(goodbye, { allowInterruptions: false }).waitForPlayout();
    } catch (error) {
      logger.warn({ err: error }, 'goodbye could not be spoken');
    }
    await session.close().catch((error: unknown) => logger.warn({ err: error }, 'session close failed'));
    await deps.hangUp().catch((error: unknown) => logger.warn({ err: error }, 'room delete failed'));
    deps.shutdown(why);
  };

  const callEnding: CallEnding = {
    end(why, goodbye) {
      if (ending) return ending;
      reason = why;
      ending = run(why, goodbye);
      return ending;
    },
    get reason() {
      return reason;
    },
    get outcome() {
      return CALL_END_REASONS[reason];
    },
    get started() {
      return ending !== undefined;
    },
    onStart(listener) {
      listeners.push(listener);
    },
  };
  // A session that closes on its own (the caller left, or it broke) ends the call too.
  session.on(voice.AgentSessionEventTypes.Close, (event) => {
    void callEnding.end(reasonForSessionClose(event.reason) ?? reason);
  });
  return callEnding;
}

/** Why a session that closed by itself ended the call, if the close reason says. */
export function reasonForSessionClose(closeReason: voice.CloseReason | string): CallEndReason | undefined {
  if (closeReason === voice.CloseReason.PARTICIPANT_DISCONNECTED) return 'caller_hung_up';
  if (closeReason === voice.CloseReason.ERROR) return 'session_error';
  return undefined;
}

/** Bad metadata: a short apology in the default voice and a hang-up. No persona, no LLM. */
export async function apologiseAndHangUp(ctx: JobContext, deps: { vad: VAD; tts: ttsNs.TTS; logger: Logger }, line: string): Promise<void> {
  const { logger } = deps;
  const session = new voice.AgentSession({ vad: deps.vad, tts: deps.tts, turnHandling: { turnDetection: 'vad' } });
  try {
    const caller = waitForCaller(ctx.room);
    await session.start({ agent: new voice.Agent({ instructions: '' }), room: ctx.room, inputOptions: { participantKinds: CALLER_KINDS }, record: false });
    await Promise.race([caller, new Promise((resolve) => setTimeout(resolve, 30_000))]);
    await session.say(line, { allowInterruptions: false }).waitForPlayout();
  } catch (error) {
    logger.warn({ err: error }, 'apology could not be spoken');
  } finally {
    await session.close().catch(() => undefined);
    await ctx.deleteRoom().catch(() => undefined);
    ctx.shutdown('bad_metadata');
  }
}
