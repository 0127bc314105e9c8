// Applies lifecycle events (Twilio status callbacks, LiveKit webhooks, dispatch failures) to call
// rows through the pure state machine. The update is a compare-and-set on the status it was
// computed from, so two events racing for one call cannot overwrite each other; the loser re-reads
// and re-applies. When an end event finds the call terminal, the finalisation hook runs — on every
// such event, since finalisation is idempotent and its triggers are meant to converge.
import { and, eq } from 'drizzle-orm';
import type { Database } from '../adapters/db/client.js';
import { calls } from '../adapters/db/schema.js';
import { applyCallEvent, isTerminal, type CallEvent, type CallStatus } from '../domain/call_state.js';
import type { AppLogger, CallEndTrigger, OnCallEnded } from './ports.js';

export interface RecordCallEventDeps {
  db: Database;
  onCallEnded: OnCallEnded;
  logger: AppLogger;
}

export type CallLocator = { callId: string } | { roomName: string } | { twilioCallSid: string };

export type RecordCallEventInput = CallLocator & {
  event: CallEvent;
  trigger: CallEndTrigger;
  /** livekit-sip's call id, kept when first seen. */
  sipCallId?: string;
};

export type RecordCallEventResult = { found: false } | { found: true; callId: string; status: CallStatus; changed: boolean };

function whereOf(locator: CallLocator) {
  if ('callId' in locator) return eq(calls.id, locator.callId);
  if ('roomName' in locator) return eq(calls.roomName, locator.roomName);
  return eq(calls.twilioCallSid, locator.twilioCallSid);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export async function recordCallEvent(deps: RecordCallEventDeps, input: RecordCallEventInput): Promise<RecordCallEventResult> {
  // A forged or stale id in a signed URL must not reach Postgres as a uuid cast error.
  if ('callId' in input && !UUID.test(input.callId)) return { found: false };
  const where = whereOf(input);

  for (let attempt = 0; attempt < 5; attempt += 1) {
    const [call] = await deps.db
      .select({ id: calls.id, status: calls.status, answeredAt: calls.answeredAt, endedAt: calls.endedAt, sipCallId: calls.sipCallId })
      .from(calls)
      .where(where)
      .limit(1);
    if (!call) return { found: false };

    const transition = applyCallEvent(call, input.event);
    const sipCallId = input.sipCallId && !call.sipCallId ? input.sipCallId : undefined;
    let changed = false;
    if (transition.changed || sipCallId) {
      const set = { ...(transition.changed ? transition.changes : {}), ...(sipCallId ? { sipCallId } : {}) };
      const updated = await deps.db
        .update(calls)
        .set(set)
        .where(and(eq(calls.id, call.id), eq(calls.status, call.status)))
        .returning({ id: calls.id });
      if (updated.length === 0) continue;
      changed = transition.changed;
      if (changed) deps.logger.info({ callId: call.id, from: call.status, to: transition.status, event: input.event.type }, 'call state changed');
    }

    const status = transition.status;
    if (isTerminal(status) && (input.event.type === 'ended' || input.event.type === 'failed')) {
      try {
        await deps.onCallEnded(call.id, input.trigger);
      } catch (error) {
        // The webhook itself succeeded; another trigger (or the agent) will finalise.
        deps.logger.error({ err: error, callId: call.id, trigger: input.trigger }, 'call finalisation failed');
      }
    }
    return { found: true, callId: call.id, status, changed };
  }
  throw new Error('call row kept changing under concurrent events');
}
