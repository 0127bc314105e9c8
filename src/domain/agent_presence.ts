// When the persona agent leaves a call's room: was that the call ending the way it should, or did
// the agent's job die mid-call? Only the agent hangs up a practice call (it deletes the room on
// every path), so when its process dies nobody does and the caller hears silence until they give
// up. livekit-server tells the two apart in ParticipantInfo.disconnect_reason (read from
// livekit-server v1.13 pkg/rtc/types/interfaces.go, ToDisconnectReason / IsIntentionalDisconnect).

/** livekit.DisconnectReason (livekit_models.proto), by name. */
export const DISCONNECT_REASONS = [
  'UNKNOWN_REASON',
  'CLIENT_INITIATED',
  'DUPLICATE_IDENTITY',
  'SERVER_SHUTDOWN',
  'PARTICIPANT_REMOVED',
  'ROOM_DELETED',
  'STATE_MISMATCH',
  'JOIN_FAILURE',
  'MIGRATION',
  'SIGNAL_CLOSE',
  'ROOM_CLOSED',
  'USER_UNAVAILABLE',
  'USER_REJECTED',
  'SIP_TRUNK_FAILURE',
  'CONNECTION_TIMEOUT',
  'MEDIA_FAILURE',
  'AGENT_ERROR',
] as const;
export type DisconnectReason = (typeof DISCONNECT_REASONS)[number];

/** The end reason stored on a call whose agent went away without ending it. */
export const AGENT_LOST = 'agent_lost';

/**
 * The reasons that mean the agent's connection dropped rather than that someone ended it:
 * - SIGNAL_CLOSE: the websocket closed before the participant was fully connected;
 * - CONNECTION_TIMEOUT: the transport failed and the agent did not resume within the server's
 *   5 s disconnect timer — what a killed job process looks like once it had joined;
 * - JOIN_FAILURE: it never connected fully;
 * - MEDIA_FAILURE: media stream failure or timeout;
 * - AGENT_ERROR: the agent itself left because it broke.
 * Deliberately not lost: ROOM_DELETED (the agent's own hang-up, or ours), CLIENT_INITIATED (the job
 * shutting down after ending the call), the other intentional ones, UNKNOWN_REASON (also what a
 * server that never sets the field looks like, so a normal hang-up could read as it) and
 * STATE_MISMATCH (a failed resume or renegotiation the client recovers from by reconnecting).
 */
const LOST: ReadonlySet<DisconnectReason> = new Set<DisconnectReason>(['SIGNAL_CLOSE', 'CONNECTION_TIMEOUT', 'JOIN_FAILURE', 'MEDIA_FAILURE', 'AGENT_ERROR']);

/** True when an agent leaving the room for `reason` means the call lost its persona. */
export function agentConnectionLost(reason: DisconnectReason | undefined): boolean {
  return reason !== undefined && LOST.has(reason);
}
