// Ports of the call-routing use cases (resolve_call, record_call_event): the small interfaces
// adapters implement and main.ts wires. Tests use the real adapters against real servers.

export interface CreateRoomInput {
  /** Unguessable: the room name is also the SIP user Twilio dials. */
  name: string;
  /** The room metadata JSON (room_metadata.ts). */
  metadata: string;
  /** The persona agent to dispatch into the room as soon as it exists. */
  agentName: string;
  agentMetadata: string;
  /** Close the room if nobody joins within this many seconds (the dial leg never arrived). */
  emptyTimeoutSeconds: number;
  /** Close the room this many seconds after the last participant leaves. */
  departureTimeoutSeconds: number;
  /** The caller and the persona agent; nobody else belongs in a practice call. */
  maxParticipants: number;
}

export interface RoomService {
  createRoom(input: CreateRoomInput): Promise<void>;
  updateRoomMetadata(name: string, metadata: string): Promise<void>;
  /** Idempotent: a room that is already gone is not an error. */
  deleteRoom(name: string): Promise<void>;
}

/** What made a call end; finalisation is idempotent and converges whichever comes first. */
export type CallEndTrigger = 'agent' | 'twilio_status' | 'livekit_webhook' | 'dispatch_failed' | 'sweeper';

/**
 * Called whenever a call is (or is found) in a terminal state after an end event. Required, never
 * optional: main.ts wires post-call finalisation (finalize_call.ts) here.
 */
export type OnCallEnded = (callId: string, trigger: CallEndTrigger) => Promise<void>;

/** The slice of pino the use cases use; pino's Logger satisfies it. */
export interface AppLogger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
  debug(fields: object, message: string): void;
}

/** A LiveKit access token for the person in a browser call. */
export interface CallerTokens {
  /** Join exactly `room`, publish the microphone only, subscribe to the persona; valid `ttlSeconds`. */
  mint(input: { room: string; identity: string; name: string; ttlSeconds: number }): Promise<string>;
}

/**
 * Can a persona take a call right now? Asked before a caller keys a PIN, so a call that no agent
 * would answer costs no attempt. `detail` says why not (for /readyz and the logs), never a secret.
 */
export type AgentAvailability = () => Promise<{ available: boolean; detail?: string }>;
