// The call row as the agent moves it. Status changes go through the same CallEvents and
// compare-and-set as the webhooks, the Twilio status callback and the sweeper
// (src/app/record_call_event.ts over src/domain/call_state.ts), so a late or repeated write from the
// agent never overwrites a call another trigger already closed, and the duration is the state
// machine's. Finalisation (src/app/finalize_call.ts) follows the end event, as it does for them.
import { eq, sql } from 'drizzle-orm';
import type { Database } from '../src/adapters/db/client.js';
import { type CallUsage, calls } from '../src/adapters/db/schema.js';
import type { FinalizeCallInput } from '../src/app/finalize_call.js';
import type { AppLogger } from '../src/app/ports.js';
import { recordCallEvent, type RecordCallEventDeps } from '../src/app/record_call_event.js';
import type { CallEvent } from '../src/domain/call_state.js';

/** How the agent's end reads to the state machine: a normal end (completed or abandoned), or a failure. */
export type CallEndOutcome = 'ended' | 'failed';

export interface CallEnd {
  at: Date;
  outcome: CallEndOutcome;
  reason: string;
  usage: CallUsage;
  estimatedCostUsd: number;
  /** Turns the agent could not write before shutting down (the transcript is then incomplete). */
  unwrittenTurns: number;
}

export interface CallStore {
  markAnswered(callId: string, at: Date): Promise<void>;
  recordProviderError(callId: string, error: { at: Date; provider: string; message: string }): Promise<void>;
  /** Usage and cost, then the end event, then finalisation with the agent as the trigger. */
  recordEnd(callId: string, end: CallEnd): Promise<void>;
}

export interface CallStoreDeps {
  db: Database;
  logger: AppLogger;
  /** Idempotent finalisation shared with the webhooks (createCallFinalizer in the worker). */
  finalize(input: FinalizeCallInput): Promise<unknown>;
}

export function createCallStore(deps: CallStoreDeps): CallStore {
  const { db } = deps;
  const apply = (callId: string, event: CallEvent, unwrittenTurns = 0) => {
    const events: RecordCallEventDeps = {
      db,
      logger: deps.logger,
      onCallEnded: async (id) => {
        await deps.finalize({ callId: id, trigger: 'agent', unwrittenTurns });
      },
    };
    return recordCallEvent(events, { callId, event, trigger: 'agent' });
  };
  return {
    async markAnswered(callId, at) {
      await apply(callId, { type: 'answered', at });
    },
    async recordProviderError(callId, error) {
      const entry = JSON.stringify([{ at: error.at.toISOString(), provider: error.provider, message: error.message.slice(0, 500) }]);
      await db
        .update(calls)
        .set({ providerErrors: sql`${calls.providerErrors} || ${entry}::jsonb` })
        .where(eq(calls.id, callId));
    },
    async recordEnd(callId, end) {
      // Usage and cost are the agent's to report whatever the status; the status only moves if
      // nobody has closed the call yet (the state machine keeps terminal states).
      await db
        .update(calls)
        .set({ usage: end.usage, estimatedCostUsd: end.estimatedCostUsd.toFixed(4) })
        .where(eq(calls.id, callId));
      await apply(callId, { type: end.outcome, at: end.at, reason: end.reason }, end.unwrittenTurns);
    },
  };
}
