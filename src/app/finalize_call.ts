// Finalisation: the one function the three end-of-call triggers (the agent's shutdown, LiveKit's
// room_finished webhook, Twilio's status callback) all call. Idempotent: whichever comes first
// closes the call row and enqueues the post-call job; the others find it done.
import { eq } from 'drizzle-orm';
import type pg from 'pg';
import { calls } from '../adapters/db/schema.js';
import { type SqlExecutor, withTransaction } from '../adapters/db/transaction.js';
import { applyCallEvent, callDurationSeconds, type CallEvent, isTerminal } from '../domain/call_state.js';
import { type AppLogger, type CallEndTrigger, type OnCallEnded, nowOf, type Clock } from './ports.js';

export type FinalizeTrigger = 'agent' | 'livekit' | 'twilio' | 'dispatch' | 'sweeper';

export interface FinalizeCallDeps {
  pool: pg.Pool;
  /** Enqueues the post-call job on the given transaction (post_call_queue.ts `enqueue`), to start after `delaySeconds`. */
  enqueuePostCall(callId: string, tx: SqlExecutor, delaySeconds: number): Promise<unknown>;
  /**
   * When a webhook or status callback finalises before the agent has shut down, the agent may still
   * be writing the last turn; the job waits this long first (default 10). The agent's own trigger
   * comes after its last write and starts the job at once.
   */
  settleSeconds?: number;
  logger?: AppLogger;
  now?: Clock;
}

export interface FinalizeCallInput {
  callId: string;
  trigger: FinalizeTrigger;
  /** 'failed' closes a call that is still open as failed; otherwise the state machine picks completed or abandoned. */
  status?: 'completed' | 'failed' | 'abandoned';
  endReason?: string;
  /** When the call ended, if the trigger knows better than "now". */
  endedAt?: Date;
  /** The agent only: turns it could not write before shutting down (the transcript is then incomplete). */
  unwrittenTurns?: number;
}

export type FinalizeCallResult =
  | { outcome: 'finalized'; status: string }
  | { outcome: 'already_finalized'; status: string }
  | { outcome: 'not_found' };

const defaultReason: Record<FinalizeTrigger, string> = {
  agent: 'agent_ended',
  livekit: 'room_finished',
  twilio: 'twilio_completed',
  dispatch: 'dispatch_failed',
  sweeper: 'no_end_signal_past_time_limit',
};

export async function finalizeCall(deps: FinalizeCallDeps, input: FinalizeCallInput): Promise<FinalizeCallResult> {
  const now = nowOf(deps);
  const result = await withTransaction(deps.pool, async (tx): Promise<FinalizeCallResult> => {
    // The row lock serialises concurrent triggers: the first sees finalized_at null and wins.
    const [call] = await tx.db.select().from(calls).where(eq(calls.id, input.callId)).for('update');
    if (!call) return { outcome: 'not_found' };
    // The agent's word that its last turn is written counts even when a webhook closed the call first.
    const agentReport: Partial<typeof calls.$inferInsert> =
      input.trigger === 'agent' ? { agentFinishedAt: now, ...((input.unwrittenTurns ?? 0) > 0 ? { transcriptIncomplete: true } : {}) } : {};
    if (call.finalizedAt) {
      if (input.trigger === 'agent') await tx.db.update(calls).set(agentReport).where(eq(calls.id, call.id));
      return { outcome: 'already_finalized', status: call.status };
    }

    const reason = input.endReason ?? defaultReason[input.trigger];
    const at = input.endedAt ?? now;
    const event: CallEvent = input.status === 'failed' ? { type: 'failed', at, reason } : { type: 'ended', at, reason };
    const transition = applyCallEvent({ status: call.status, answeredAt: call.answeredAt, endedAt: call.endedAt }, event);
    const changes: Partial<typeof calls.$inferInsert> = transition.changed ? { ...transition.changes } : {};
    // Closed without a duration: never answered (the state machine leaves it unset), or by a writer
    // outside the state machine (a hand-edited row).
    const endedAt = changes.endedAt ?? call.endedAt;
    if (call.durationSeconds === null && changes.durationSeconds === undefined && endedAt) {
      changes.durationSeconds = callDurationSeconds(call.answeredAt, endedAt);
    }
    const status = transition.status;
    if (!isTerminal(status)) throw new Error(`call ${call.id} is still ${status} after an end event`);

    await tx.db.update(calls).set({ ...changes, ...agentReport, finalizedAt: now }).where(eq(calls.id, call.id));
    await deps.enqueuePostCall(call.id, tx, input.trigger === 'agent' ? 0 : (deps.settleSeconds ?? 10));
    return { outcome: 'finalized', status };
  });
  if (result.outcome === 'finalized') deps.logger?.info({ callId: input.callId, trigger: input.trigger, status: result.status }, 'call finalised');
  else deps.logger?.debug({ callId: input.callId, trigger: input.trigger, outcome: result.outcome }, 'finalisation skipped');
  return result;
}

const triggerOf: Record<CallEndTrigger, FinalizeTrigger> = {
  agent: 'agent',
  agent_worker: 'agent',
  twilio_status: 'twilio',
  livekit_webhook: 'livekit',
  dispatch_failed: 'dispatch',
  sweeper: 'sweeper',
};

/** The call-routing use cases' end-of-call port, backed by finalisation. */
export function makeOnCallEnded(deps: FinalizeCallDeps): OnCallEnded {
  return async (callId, trigger) => {
    await finalizeCall(deps, { callId, trigger: triggerOf[trigger] });
  };
}
