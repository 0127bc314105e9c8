// The call row as the agent updates it. Every update is guarded so a late or repeated write from
// the agent never overwrites a call another trigger (webhook, status callback) already closed.
import { and, eq, inArray, isNull, sql } from 'drizzle-orm';
import type { Database } from '../src/adapters/db/client.js';
import { type CallUsage, calls } from '../src/adapters/db/schema.js';

export type CallEndStatus = 'completed' | 'failed' | 'abandoned';

export interface CallStore {
  markAnswered(callId: string, at: Date): Promise<void>;
  recordProviderError(callId: string, error: { at: Date; provider: string; message: string }): Promise<void>;
  recordEnd(callId: string, end: { at: Date; status: CallEndStatus; reason: string; usage: CallUsage; estimatedCostUsd: number }): Promise<void>;
}

export function createCallStore(db: Database): CallStore {
  return {
    async markAnswered(callId, at) {
      await db
        .update(calls)
        .set({ status: 'in_progress', answeredAt: sql`coalesce(${calls.answeredAt}, ${at.toISOString()}::timestamptz)` })
        .where(and(eq(calls.id, callId), inArray(calls.status, ['dispatching', 'ringing', 'in_progress'])));
    },
    async recordProviderError(callId, error) {
      const entry = JSON.stringify([{ at: error.at.toISOString(), provider: error.provider, message: error.message.slice(0, 500) }]);
      await db
        .update(calls)
        .set({ providerErrors: sql`${calls.providerErrors} || ${entry}::jsonb` })
        .where(eq(calls.id, callId));
    },
    async recordEnd(callId, end) {
      // Usage and cost are the agent's to report whatever the status; the status and end time only
      // if nobody has closed the call yet.
      await db
        .update(calls)
        .set({ usage: end.usage, estimatedCostUsd: end.estimatedCostUsd.toFixed(4) })
        .where(eq(calls.id, callId));
      await db
        .update(calls)
        .set({
          status: end.status,
          endedAt: end.at,
          endReason: end.reason,
          durationSeconds: sql`case when ${calls.answeredAt} is null then 0 else greatest(0, round(extract(epoch from (${end.at.toISOString()}::timestamptz - ${calls.answeredAt}))))::int end`,
        })
        .where(and(eq(calls.id, callId), isNull(calls.endedAt), inArray(calls.status, ['dispatching', 'ringing', 'in_progress'])));
    },
  };
}
