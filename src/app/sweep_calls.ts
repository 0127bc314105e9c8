// The sweeper: a call whose agent died and whose end no webhook reported would stay open for
// ever. Once a call is past its scenario's time limit plus a grace period (the agent itself ends
// calls at the limit, so by then nobody is going to report anything), it is closed as failed with
// a reason that says so — through recordCallEvent, the same compare-and-set path every other
// writer uses, so a real end event racing the sweeper still wins or is kept.
import { and, eq, inArray, lt, sql } from 'drizzle-orm';
import { calls, scenarios } from '../adapters/db/schema.js';
import { LIVE_STATUSES } from '../domain/call_state.js';
import { type RoomService, nowOf, type Clock } from './ports.js';
import { recordCallEvent, type RecordCallEventDeps } from './record_call_event.js';

/** The pg-boss queue (and schedule) the sweep runs on. */
export const CALL_SWEEP_JOB = 'call-sweep';

/** The end reason of a swept call. */
export const SWEPT_REASON = 'no_end_signal_past_time_limit';

/** A call still waiting for its PIN has no scenario yet; PIN entry (3 tries) never takes this long. */
export const UNRESOLVED_CALL_LIMIT_SECONDS = 600;

/** Calls closed per run; the next run takes the rest. */
const BATCH = 100;

export interface SweepCallsDeps extends RecordCallEventDeps {
  graceSeconds: number;
  /** Hangs up a caller still sitting in a room nobody serves; optional (no LiveKit configured). */
  rooms?: Pick<RoomService, 'deleteRoom'> | null;
  now?: Clock;
}

export async function sweepOverdueCalls(deps: SweepCallsDeps): Promise<{ swept: string[] }> {
  const now = nowOf(deps);
  const startedAt = sql`coalesce(${calls.answeredAt}, ${calls.createdAt})`;
  const limitSeconds = sql<number>`coalesce(${scenarios.timeLimitSeconds}, ${UNRESOLVED_CALL_LIMIT_SECONDS})`;
  const overdue = await deps.db
    .select({ id: calls.id, roomName: calls.roomName, startedAt: sql<Date>`${startedAt}`.mapWith(calls.createdAt), limitSeconds: limitSeconds.mapWith(Number) })
    .from(calls)
    .leftJoin(scenarios, eq(scenarios.id, calls.scenarioId))
    .where(
      and(
        inArray(calls.status, [...LIVE_STATUSES]),
        lt(sql`${startedAt} + make_interval(secs => ${limitSeconds} + ${deps.graceSeconds})`, now),
      ),
    )
    .orderBy(calls.createdAt)
    .limit(BATCH);

  const swept: string[] = [];
  for (const call of overdue) {
    // The call cannot have run past its limit; "now" would inflate its duration by the delay.
    const at = new Date(Math.min(now.getTime(), call.startedAt.getTime() + call.limitSeconds * 1000));
    const result = await recordCallEvent(deps, { callId: call.id, event: { type: 'failed', at, reason: SWEPT_REASON }, trigger: 'sweeper' });
    if (!result.found || !result.changed) continue;
    swept.push(call.id);
    deps.logger.warn({ callId: call.id, limitSeconds: call.limitSeconds }, 'call had no end signal past its time limit; closed by the sweeper');
    await deps.rooms?.deleteRoom(call.roomName).catch((error: unknown) => deps.logger.warn({ err: error, callId: call.id }, 'room of a swept call not deleted'));
  }
  return { swept };
}
