// Resolving a caller to a practice call (docs/architecture.md, "One call, end to end" steps 1-3 and "Second
// path"): load the candidate rows, let the pure resolver decide, record the PIN attempt, apply the
// lock-out, create the call row (bumping the assignment's attempts), and then create the LiveKit
// room (Twilio path) or write the metadata into the room the SIP dispatch rule made (direct trunk).
// The rows and the lock are the store's (CallRoutingStore, adapters/db/call_routing_store.ts).
import { randomBytes, randomUUID } from 'node:crypto';
import type { Database } from '../adapters/db/client.js';
import { isTerminal } from '../domain/call_state.js';
import {
  callerIdTrusted,
  countsTowardLockout,
  DEFAULT_CALLER_ID_TRUST,
  DEFAULT_GLOBAL_LIMIT,
  DEFAULT_LINE_LIMIT,
  lockoutKey,
  lockoutLookbackMs,
  lockoutState,
  normalisePhoneNumber,
  windowRuleFromMinutes,
  windowState,
  type CallerIdTrust,
  type GuessScope,
  type LockoutRule,
  type WindowRule,
} from '../domain/lockout.js';
import { hashPin } from '../domain/pin.js';
import { firstNameOf, resolveCall, type PersonaCandidate, type RepCandidate, type ResolveFailure, type ResolvedVia, type ScenarioCandidate } from '../domain/resolver.js';
import { encodeRoomMetadata, ROOM_METADATA_VERSION, type ReadyRoomMetadata, type RoomPersona, STAGED_ROOM_METADATA_VERSION } from '../domain/room_metadata.js';
import {
  nowOf,
  type AppLogger,
  type CallRoutingStore,
  type Clock,
  type GuardedRouting,
  type GuessKeys,
  type OnCallEnded,
  type PinChannel,
  type RoomService,
  type RoutedCall,
  type RoutedCallKey,
} from './ports.js';
import { recordCallEvent } from './record_call_event.js';

export interface CallRoutingDeps {
  /** The call state machine's writer (record_call_event.ts) still takes the database itself. */
  db: Database;
  store: CallRoutingStore;
  pinSecret: string;
  /** Per caller number (E.164), per path and caller-ID standing (decision 012). */
  lockout: LockoutRule;
  /** Per called number and for the whole service, whoever the caller claims to be; defaults in src/domain/lockout.ts. */
  limits?: { line: WindowRule; global: WindowRule };
  /** How far caller ID alone may identify a rep, per path; default DEFAULT_CALLER_ID_TRUST. */
  callerIdTrust?: CallerIdTrust;
  rooms: RoomService;
  agentName: string;
  onCallEnded: OnCallEnded;
  logger: AppLogger;
  now?: Clock;
}

export type RouteOutcome =
  | { kind: 'connected'; callId: string; roomName: string; metadata: ReadyRoomMetadata; via: ResolvedVia | 'replay' }
  /** scenarioLanguage: the persona's language of the scenario the attempt named (a direct line, an extension, a PIN), so the refusal speaks it. */
  | { kind: 'refused'; failure: ResolveFailure; scenarioLanguage?: string }
  | { kind: 'locked_out'; until: Date; scenarioLanguage?: string }
  /** LiveKit could not take the call (room creation or metadata update failed). */
  | { kind: 'unavailable' };

export interface TwilioRouteInput {
  twilioCallSid: string;
  callerNumber: string | null;
  calledNumber: string | null;
  /** '' on the first webhook: only a direct line can resolve without digits. */
  digits: string;
  /** Twilio's StirVerstat was full attestation (TN-Validation-Passed-A) for this call. */
  callerAttested?: boolean;
}

export interface SipRouteInput {
  roomName: string;
  callerNumber: string | null;
  calledNumber: string | null;
  digits: string;
  sipCallId: string | null;
  channel?: PinChannel;
}

/** Seconds the room waits for the caller's SIP leg before closing; Twilio dials within a second or two. */
export const ROOM_EMPTY_TIMEOUT_SECONDS = 60;
export const ROOM_DEPARTURE_TIMEOUT_SECONDS = 10;

/** 128 random bits: the room name is the SIP user Twilio dials, so it must not be guessable. */
export const newRoomName = (): string => `pl-${randomBytes(16).toString('hex')}`;

const roomPersonaOf = ({ id: _id, archived: _archived, ...persona }: PersonaCandidate): RoomPersona => persona;

/** Single-persona scenarios are version 1, as before stages; staged ones version 2 (room_metadata.ts). */
export function buildMetadata(callId: string, scenario: ScenarioCandidate, rep: RepCandidate): ReadyRoomMetadata {
  const persona = roomPersonaOf(scenario.persona);
  const stages = scenario.stages ?? [];
  const staged =
    stages.length === 0
      ? { v: ROOM_METADATA_VERSION }
      : {
          v: STAGED_ROOM_METADATA_VERSION,
          personaId: scenario.persona.id,
          stages: stages.map((stage) => ({ personaId: stage.persona.id, persona: roomPersonaOf(stage.persona), advanceRule: stage.advanceRule })),
        };
  return {
    ...staged,
    stage: 'ready',
    callId,
    persona,
    scenario: {
      title: scenario.title,
      objective: scenario.objective,
      context: scenario.context,
      difficulty: scenario.difficulty,
      rubric: scenario.rubric,
      timeLimitSeconds: scenario.timeLimitSeconds,
      backgroundNoise: scenario.backgroundNoise,
      recordCalls: scenario.recordCalls,
    },
    rep: { id: rep.id, firstName: firstNameOf(rep.name) },
  };
}

/** Rebuilds the metadata of an existing call, for replayed webhooks and repeated resolve requests. */
async function metadataOfCall(store: CallRoutingStore, call: RoutedCall): Promise<ReadyRoomMetadata | null> {
  if (!call.scenarioId || !call.repId) return null;
  const [scenario, rep] = await Promise.all([store.scenario(call.scenarioId), store.rep(call.repId)]);
  return scenario && rep ? buildMetadata(call.id, scenario, rep) : null;
}

type Decision =
  | { kind: 'replay'; call: RoutedCall }
  | { kind: 'created'; callId: string; roomName: string; metadata: ReadyRoomMetadata; via: ResolvedVia; assignmentId: string | null }
  | { kind: 'refused'; failure: ResolveFailure; scenarioLanguage?: string }
  | { kind: 'locked_out'; until: Date; scenarioLanguage?: string };

interface Attempt {
  channel: PinChannel;
  path: 'twilio' | 'sip';
  digits: string;
  callerNumber: string | null;
  calledNumber: string | null;
  callerAttested: boolean;
  roomName: string;
  twilioCallSid: string | null;
  sipCallId: string | null;
  /** How a duplicate of this webhook or request finds the call the first one made. */
  existing: RoutedCallKey;
}

const PATH_CHANNELS: Record<Attempt['path'], PinChannel[]> = { twilio: ['twilio'], sip: ['sip', 'api'] };

const limitsOf = (deps: CallRoutingDeps) =>
  deps.limits ?? {
    line: windowRuleFromMinutes(DEFAULT_LINE_LIMIT.maxFailures, DEFAULT_LINE_LIMIT.windowMinutes),
    global: windowRuleFromMinutes(DEFAULT_GLOBAL_LIMIT.maxFailures, DEFAULT_GLOBAL_LIMIT.windowMinutes),
  };

type Failures = { caller: Date[]; line: Date[]; global: Date[] };
type ScopeState = { scope: GuessScope; locked: boolean; until?: Date; failures: number; maxFailures: number; windowMs: number };

/** Guessing failures per scope, read under the guard lock. */
function loadFailures(tx: GuardedRouting, deps: CallRoutingDeps, keys: GuessKeys, now: Date): Promise<Failures> {
  const { line, global } = limitsOf(deps);
  const ago = (ms: number) => new Date(now.getTime() - ms);
  return tx.guessFailures(keys, { caller: ago(lockoutLookbackMs(deps.lockout)), line: ago(line.windowMs), global: ago(global.windowMs) });
}

function scopeStates(deps: CallRoutingDeps, failures: Failures, now: Date): ScopeState[] {
  const { line, global } = limitsOf(deps);
  const caller = lockoutState(failures.caller, now, deps.lockout);
  const lineState = windowState(failures.line, now, line);
  const globalState = windowState(failures.global, now, global);
  return [
    { scope: 'caller', ...caller, failures: caller.locked ? failures.caller.length : caller.failuresInWindow, maxFailures: deps.lockout.maxFailures, windowMs: deps.lockout.windowMs },
    { scope: 'line', ...lineState, failures: lineState.failuresInWindow, maxFailures: line.maxFailures, windowMs: line.windowMs },
    { scope: 'global', ...globalState, failures: globalState.failuresInWindow, maxFailures: global.maxFailures, windowMs: global.windowMs },
  ];
}

const latestUntil = (states: ScopeState[]): Date | undefined =>
  states.reduce<Date | undefined>((latest, state) => (state.locked && state.until && (!latest || state.until > latest) ? state.until : latest), undefined);

/**
 * A limit just tripped: an audit row and a metric (practice_line_pin_guard_trips counts these rows)
 * an admin can act on, and a warning in the log. The caller hears only the calm locked-out line.
 */
async function reportTrip(tx: GuardedRouting, deps: CallRoutingDeps, attempt: Attempt, keys: GuessKeys, state: ScopeState) {
  const details = {
    scope: state.scope,
    path: attempt.path,
    failures: state.failures,
    maxFailures: state.maxFailures,
    windowMinutes: state.windowMs / 60_000,
    until: state.until?.toISOString(),
    calledNumber: keys.called,
    // The caller bucket is only the culprit for the caller scope; for the others it is the last guess.
    callerNumber: keys.caller,
    callerVerified: keys.verified,
  };
  await tx.audit({ action: 'pin_guard.tripped', entityType: 'pin_guard', entityId: state.scope, details });
  const { calledNumber, callerNumber, ...rest } = details;
  deps.logger.warn({ ...rest, pii: { calledNumber, callerNumber } }, 'PIN guessing limit tripped; PIN entry paused');
}

/**
 * The rules of one attempt, under the PIN-guard lock (store.underPinGuard): a replay finds its call;
 * a tripped limit refuses before anything is read; a failed try is recorded and may trip a limit; a
 * success takes one of the assignment's attempts and creates the call row.
 */
async function decide(deps: CallRoutingDeps, attempt: Attempt): Promise<Decision> {
  const now = nowOf(deps);
  const digits = attempt.digits.trim();
  const keys: GuessKeys = {
    caller: lockoutKey(attempt.callerNumber),
    called: normalisePhoneNumber(attempt.calledNumber),
    verified: attempt.path === 'twilio' && attempt.callerAttested,
    channels: PATH_CHANNELS[attempt.path],
  };
  const trusted = callerIdTrusted(deps.callerIdTrust ?? DEFAULT_CALLER_ID_TRUST, attempt.path, attempt.callerAttested);

  // Candidate rows are read in parallel on the pool before the lock; the guarded attempts update
  // below settles any race on them.
  const candidates = await deps.store.candidates({ ...attempt, pinHash: digits === '' ? null : hashPin(deps.pinSecret, digits) });
  // Keyed digits are a try; so is a call to a direct line, which names the rep by caller ID alone.
  const isTry = digits !== '' || candidates.directLineScenario !== null;
  // A refusal speaks the language of the scenario it is about; a lock-out only the called line's.
  const named = candidates.pinMatch?.scenario ?? candidates.extensionScenario ?? candidates.directLineScenario;
  const languages = {
    refused: named ? { scenarioLanguage: named.persona.language } : {},
    lockedOut: candidates.directLineScenario ? { scenarioLanguage: candidates.directLineScenario.persona.language } : {},
  };

  return deps.store.underPinGuard(async (tx) => {
    // After the lock: a duplicate webhook for the same call waits here for the first to commit.
    const existing = await tx.findCall(attempt.existing);
    if (existing) return { kind: 'replay', call: existing };

    const record = async (success: boolean, reason: string) => {
      if (!isTry) return;
      await tx.recordPinAttempt({ callerNumber: keys.caller, calledNumber: keys.called, callerVerified: keys.verified, channel: attempt.channel, success, reason, createdAt: now });
    };

    const failures = await loadFailures(tx, deps, keys, now);
    const lockedUntil = latestUntil(scopeStates(deps, failures, now));
    if (lockedUntil) {
      await record(false, 'locked_out');
      return { kind: 'locked_out', until: lockedUntil, ...languages.lockedOut };
    }

    const outcome = resolveCall({ digits, now, callerIdTrusted: trusted }, candidates);
    if (outcome.kind !== 'ok') {
      await record(false, outcome.kind);
      // The failure that completes a run locks at once: say so now rather than on the next try.
      if (isTry && countsTowardLockout(outcome.kind)) {
        const after = scopeStates(deps, { caller: [...failures.caller, now], line: [...failures.line, now], global: [...failures.global, now] }, now);
        for (const state of after.filter((s) => s.locked)) await reportTrip(tx, deps, attempt, keys, state);
        const until = latestUntil(after);
        if (until) return { kind: 'locked_out', until, ...languages.lockedOut };
      }
      return { kind: 'refused', failure: outcome, ...languages.refused };
    }

    if (outcome.assignment && !(await tx.takeAttempt(outcome.assignment.id))) {
      await record(false, 'exhausted');
      return { kind: 'refused', failure: { kind: 'exhausted', maxAttempts: outcome.assignment.maxAttempts ?? 0 }, ...languages.refused };
    }
    await record(true, outcome.via);

    const callId = randomUUID();
    await tx.insertCall({
      id: callId,
      path: attempt.path,
      // On the direct trunk the caller is already in the room, talking to the agent.
      status: attempt.path === 'sip' ? 'in_progress' : 'dispatching',
      answeredAt: attempt.path === 'sip' ? now : null,
      roomName: attempt.roomName,
      assignmentId: outcome.assignment?.id ?? null,
      scenarioId: outcome.scenario.id,
      personaId: outcome.scenario.persona.id,
      repId: outcome.rep.id,
      twilioCallSid: attempt.twilioCallSid,
      sipCallId: attempt.sipCallId,
      fromNumber: attempt.callerNumber,
      toNumber: attempt.calledNumber,
    });
    const metadata = buildMetadata(callId, outcome.scenario, outcome.rep);
    return { kind: 'created', callId, roomName: attempt.roomName, metadata, via: outcome.via, assignmentId: outcome.assignment?.id ?? null };
  });
}

async function replay(deps: CallRoutingDeps, call: RoutedCall): Promise<RouteOutcome> {
  if (isTerminal(call.status)) return { kind: 'unavailable' };
  const metadata = await metadataOfCall(deps.store, call);
  if (!metadata) return { kind: 'unavailable' };
  return { kind: 'connected', callId: call.id, roomName: call.roomName, metadata, via: 'replay' };
}

/** Gives back the attempt and closes the call when LiveKit could not take it. */
export async function abandonDispatch(
  deps: Pick<CallRoutingDeps, 'db' | 'store' | 'logger' | 'onCallEnded' | 'now'>,
  decision: { callId: string; roomName: string; assignmentId: string | null },
  error: unknown,
): Promise<{ kind: 'unavailable' }> {
  deps.logger.error({ err: error, callId: decision.callId, roomName: decision.roomName }, 'livekit could not take the call');
  if (decision.assignmentId) await deps.store.giveBackAttempt(decision.assignmentId);
  await recordCallEvent(deps, {
    callId: decision.callId,
    event: { type: 'failed', at: nowOf(deps), reason: 'room_unavailable' },
    trigger: 'dispatch_failed',
  });
  return { kind: 'unavailable' };
}

/** What a decision that created no new call means to the caller. */
async function settled(deps: CallRoutingDeps, decision: Exclude<Decision, { kind: 'created' }>): Promise<RouteOutcome> {
  if (decision.kind === 'replay') return replay(deps, decision.call);
  return decision;
}

const connected = (decision: Extract<Decision, { kind: 'created' }>): RouteOutcome => ({
  kind: 'connected',
  callId: decision.callId,
  roomName: decision.roomName,
  metadata: decision.metadata,
  via: decision.via,
});

/** `/twilio/voice` (digits '') and `/twilio/pin`: on success the room exists with the agent dispatched. */
export async function routeTwilioCall(deps: CallRoutingDeps, input: TwilioRouteInput): Promise<RouteOutcome> {
  const roomName = newRoomName();
  const decision = await decide(deps, {
    channel: 'twilio',
    path: 'twilio',
    digits: input.digits,
    callerNumber: input.callerNumber,
    calledNumber: input.calledNumber,
    callerAttested: input.callerAttested ?? false,
    roomName,
    twilioCallSid: input.twilioCallSid,
    sipCallId: null,
    existing: { twilioCallSid: input.twilioCallSid },
  });
  if (decision.kind !== 'created') return settled(deps, decision);

  const metadata = encodeRoomMetadata(decision.metadata);
  try {
    await deps.rooms.createRoom({
      name: decision.roomName,
      metadata,
      agentName: deps.agentName,
      agentMetadata: metadata,
      emptyTimeoutSeconds: ROOM_EMPTY_TIMEOUT_SECONDS,
      departureTimeoutSeconds: ROOM_DEPARTURE_TIMEOUT_SECONDS,
      maxParticipants: 4,
    });
  } catch (error) {
    return abandonDispatch(deps, decision, error);
  }
  deps.logger.info({ callId: decision.callId, roomName: decision.roomName, via: decision.via }, 'call dispatched');
  return connected(decision);
}

/** `POST /api/dispatch/resolve`: the room already exists (an individual dispatch rule made it); fill in its metadata. */
export async function routeSipCall(deps: CallRoutingDeps, input: SipRouteInput): Promise<RouteOutcome> {
  const decision = await decide(deps, {
    channel: input.channel ?? 'sip',
    path: 'sip',
    digits: input.digits,
    callerNumber: input.callerNumber,
    calledNumber: input.calledNumber,
    // The direct trunk carries no attestation; its trust is the operator's setting (CALLER_ID_TRUST_SIP).
    callerAttested: false,
    roomName: input.roomName,
    twilioCallSid: null,
    sipCallId: input.sipCallId,
    existing: { roomName: input.roomName },
  });
  if (decision.kind !== 'created') return settled(deps, decision);

  try {
    await deps.rooms.updateRoomMetadata(decision.roomName, encodeRoomMetadata(decision.metadata));
  } catch (error) {
    return abandonDispatch(deps, decision, error);
  }
  deps.logger.info({ callId: decision.callId, roomName: decision.roomName, via: decision.via }, 'call resolved on the direct trunk');
  return connected(decision);
}
