// A call whose persona agent is gone for good. Only the agent hangs up a practice call (it deletes
// the room on every path), so once its job is dead nobody else would: the call fails as agent_lost
// through the state machine, and deleting the room makes livekit-sip send the caller BYE. Two edges
// learn of it: the agent worker, the moment one of its job processes exits (agent/job_watch.ts),
// and livekit-server's webhook once the agent's connection times out (~20 s; the only news when a
// whole worker machine is lost).
import { AGENT_LOST } from '../domain/agent_presence.js';
import type { CallEndTrigger, RoomService } from './ports.js';
import { recordCallEvent, type RecordCallEventDeps, type RecordCallEventResult } from './record_call_event.js';

export interface AgentLostDeps extends RecordCallEventDeps {
  rooms: Pick<RoomService, 'deleteRoom'>;
}

export async function hangUpLostAgentCall(
  deps: AgentLostDeps,
  input: { roomName: string; at: Date; trigger: CallEndTrigger; sipCallId?: string },
): Promise<RecordCallEventResult> {
  const { roomName, at, trigger, sipCallId } = input;
  const result = await recordCallEvent(deps, { roomName, event: { type: 'failed', at, reason: AGENT_LOST }, trigger, ...(sipCallId ? { sipCallId } : {}) });
  // A call that had already ended well (the agent's own hang-up, the caller's) keeps its end, and its
  // room is gone or going. A failed one still gets the deletion: a retry after a deletion that
  // failed must not find the row changed and leave the caller on the line.
  if (!result.found || result.status !== 'failed') return result;
  // Logged once, when this event failed the call (not for a call the agent itself ended as failed),
  // and before the deletion: the caller's BYE follows it within milliseconds.
  if (result.changed) deps.logger.warn({ callId: result.callId, roomName, trigger }, 'persona agent lost mid-call; deleting the room to hang up');
  await deps.rooms.deleteRoom(roomName);
  return result;
}
