// Ports of the call-routing use cases (resolve_call, record_call_event): the small interfaces
// adapters implement and main.ts wires. Tests use the real adapters against real servers.
import type { CallStatus } from '../domain/call_state.js';
import type { AssignmentCandidate, RepCandidate, ResolverCandidates, ScenarioCandidate } from '../domain/resolver.js';
import type { AuditEntry } from './audit.js';

/**
 * The time, as every use case reads it: deps take an optional `now: Clock` (tests pass a fixed or
 * stepping one), and `nowOf(deps)` is the one fallback to the system clock.
 */
export type Clock = () => Date;
export const systemClock: Clock = () => new Date();
export const nowOf = (deps: { now?: Clock | undefined }): Date => (deps.now ?? systemClock)();

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
  /** Whether a persona agent is in the room (its job was taken by a worker, which joined). */
  hasAgent(name: string): Promise<boolean>;
}

/** What made a call end; finalisation is idempotent and converges whichever comes first. */
/** Who reported a call's end; agent_worker: the worker whose job process for the call exited (agent_lost.ts). */
export type CallEndTrigger = 'agent' | 'agent_worker' | 'twilio_status' | 'livekit_webhook' | 'dispatch_failed' | 'sweeper';

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

/** A call row as call routing needs it: enough to replay a duplicate webhook. */
export interface RoutedCall {
  id: string;
  status: CallStatus;
  roomName: string;
  scenarioId: string | null;
  repId: string | null;
  path: 'twilio' | 'sip' | 'web';
  assignmentId: string | null;
  isTest: boolean;
}

export type RoutedCallKey = { twilioCallSid: string } | { roomName: string } | { callId: string };

export interface NewCall {
  id: string;
  path: 'twilio' | 'sip' | 'web';
  status: CallStatus;
  roomName: string;
  answeredAt?: Date | null;
  isTest?: boolean;
  assignmentId: string | null;
  scenarioId: string;
  personaId: string;
  repId: string;
  twilioCallSid?: string | null;
  sipCallId?: string | null;
  fromNumber?: string | null;
  toNumber?: string | null;
}

export type PinChannel = 'twilio' | 'sip' | 'api';

/** Who a PIN attempt counts against (decision 012). */
export interface GuessKeys {
  /** The caller's lock-out bucket (E.164 or 'anonymous'). */
  caller: string;
  called: string | null;
  verified: boolean;
  channels: readonly PinChannel[];
}

export interface PinAttemptRow {
  callerNumber: string;
  calledNumber: string | null;
  callerVerified: boolean;
  channel: PinChannel;
  success: boolean;
  reason: string;
  createdAt: Date;
}

/** What one routing decision may read and write, inside the transaction that holds the guard lock. */
export interface GuardedRouting {
  findCall(key: RoutedCallKey): Promise<RoutedCall | null>;
  /** Times of guessing failures since each cut-off: this caller's, this line's, everyone's. */
  guessFailures(keys: GuessKeys, since: { caller: Date; line: Date; global: Date }): Promise<{ caller: Date[]; line: Date[]; global: Date[] }>;
  recordPinAttempt(row: PinAttemptRow): Promise<void>;
  /** Uses one of the assignment's attempts, guarded in the update; false when none is left (or it was revoked). */
  takeAttempt(assignmentId: string): Promise<boolean>;
  /** The person's open call on `path` created after `since`, if any. */
  openCallOf(repId: string, path: NewCall['path'], since: Date): Promise<string | null>;
  insertCall(call: NewCall): Promise<void>;
  audit(entry: AuditEntry): Promise<void>;
}

/**
 * The rows call routing reads and writes (resolve_call.ts, web_call.ts), and its locks; the
 * adapter is adapters/db/call_routing_store.ts. Candidate reads run on the pool, in parallel;
 * every decision runs inside one of the two locks.
 */
export interface CallRoutingStore {
  /** Everything the resolver may need for these digits and numbers; `pinHash` null when no digits. */
  candidates(input: { pinHash: string | null; digits: string; callerNumber: string | null; calledNumber: string | null }): Promise<ResolverCandidates>;
  scenario(id: string): Promise<ScenarioCandidate | null>;
  rep(id: string, options?: { activeOnly?: boolean }): Promise<RepCandidate | null>;
  /** An assignment with its rep (any state: the caller checks it). */
  assignment(id: string): Promise<{ assignment: AssignmentCandidate; rep: RepCandidate } | null>;
  findCall(key: RoutedCallKey): Promise<RoutedCall | null>;
  /** Hands an attempt back (the call never reached the persona through no fault of the rep). */
  giveBackAttempt(assignmentId: string): Promise<void>;
  /**
   * One transaction under the lock every PIN attempt takes (any replica), so parallel guesses
   * cannot slip past a limit and two calls cannot both take an assignment's last attempt. A unique
   * violation (a duplicate webhook raced this one to the insert) runs `work` once more.
   */
  underPinGuard<T>(work: (tx: GuardedRouting) => Promise<T>): Promise<T>;
  /** One transaction under a lock per person, so two clicks cannot both find no open call. */
  underCallerLock<T>(repId: string, work: (tx: GuardedRouting) => Promise<T>): Promise<T>;
}
