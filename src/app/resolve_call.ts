// Resolving a caller to a practice call (docs/architecture.md, "One call, end to end" steps 1-3 and "Second
// path"): load the candidate rows, let the pure resolver decide, record the PIN attempt, apply the
// lock-out, create the call row (bumping the assignment's attempts), and then create the LiveKit
// room (Twilio path) or write the metadata into the room the SIP dispatch rule made (direct trunk).
import { randomBytes, randomUUID } from 'node:crypto';
import { and, arrayOverlaps, eq, gt, inArray, isNull, or, sql } from 'drizzle-orm';
import type { Database } from '../adapters/db/client.js';
import { assignments, calls, personas, pinAttempts, scenarios, users } from '../adapters/db/schema.js';
import { isTerminal } from '../domain/call_state.js';
import { systemActor } from '../domain/access.js';
import {
  callerIdTrusted,
  countsTowardLockout,
  DEFAULT_CALLER_ID_TRUST,
  DEFAULT_GLOBAL_LIMIT,
  DEFAULT_LINE_LIMIT,
  GUESS_REASONS,
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
import {
  firstNameOf,
  resolveCall,
  type AssignmentCandidate,
  type RepCandidate,
  type ResolveFailure,
  type ResolverCandidates,
  type ResolvedVia,
  type ScenarioCandidate,
} from '../domain/resolver.js';
import { encodeRoomMetadata, type ReadyRoomMetadata } from '../domain/room_metadata.js';
import type { AppLogger, OnCallEnded, RoomService } from './ports.js';
import { recordAudit } from './audit.js';
import { recordCallEvent } from './record_call_event.js';

export interface CallRoutingDeps {
  db: Database;
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
  now?: () => Date;
}

export type PinChannel = 'twilio' | 'sip' | 'api';

export type RouteOutcome =
  | { kind: 'connected'; callId: string; roomName: string; metadata: ReadyRoomMetadata; via: ResolvedVia | 'replay' }
  | { kind: 'refused'; failure: ResolveFailure }
  | { kind: 'locked_out'; until: Date }
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

const nowOf = (deps: { now?: () => Date }) => (deps.now ? deps.now() : new Date());

/** Twilio sends E.164; other SIP providers may drop the '+', and stored numbers may be either. Match every spelling. */
function numberVariants(number: string | null): string[] {
  const trimmed = number?.trim() ?? '';
  if (trimmed === '') return [];
  const bare = trimmed.replace(/^\+/, '');
  const e164 = normalisePhoneNumber(trimmed);
  return [...new Set([trimmed, `+${bare}`, bare, ...(e164 ? [e164, e164.slice(1)] : [])])];
}

type Executor = Database | Parameters<Parameters<Database['transaction']>[0]>[0];

const scenarioColumns = {
  id: scenarios.id,
  title: scenarios.title,
  objective: scenarios.objective,
  context: scenarios.context,
  difficulty: scenarios.difficulty,
  rubric: scenarios.rubric,
  timeLimitSeconds: scenarios.timeLimitSeconds,
  recordCalls: scenarios.recordCalls,
  archivedAt: scenarios.archivedAt,
  persona: {
    id: personas.id,
    name: personas.name,
    role: personas.role,
    company: personas.company,
    personality: personas.personality,
    objections: personas.objections,
    openingLine: personas.openingLine,
    voiceId: personas.voiceId,
    language: personas.language,
    llmModel: personas.llmModel,
    temperature: personas.temperature,
    archivedAt: personas.archivedAt,
  },
};

type PersonaRow = Omit<ScenarioCandidate['persona'], 'archived'> & { archivedAt: Date | null };
type ScenarioRow = Omit<ScenarioCandidate, 'archived' | 'persona'> & { archivedAt: Date | null; persona: PersonaRow };

function toScenario(row: ScenarioRow): ScenarioCandidate {
  const { archivedAt, persona, ...rest } = row;
  const { archivedAt: personaArchivedAt, ...personaRest } = persona;
  return {
    ...rest,
    archived: archivedAt !== null,
    rubric: rest.rubric.map(({ id, name, description, weight }) => ({ id, name, description, weight })),
    persona: { ...personaRest, archived: personaArchivedAt !== null },
  };
}

export const repColumns = { id: users.id, name: users.name, role: users.role, active: users.active };

export function toAssignment(row: typeof assignments.$inferSelect): AssignmentCandidate {
  return {
    id: row.id,
    repId: row.repId,
    scenarioId: row.scenarioId,
    dueAt: row.dueAt,
    enforceDueDate: row.enforceDueDate,
    maxAttempts: row.maxAttempts,
    attemptsUsed: row.attemptsUsed,
    revoked: row.revokedAt !== null,
  };
}

export async function loadScenario(db: Executor, where: ReturnType<typeof eq>): Promise<ScenarioCandidate | null> {
  const [row] = await db.select(scenarioColumns).from(scenarios).innerJoin(personas, eq(personas.id, scenarios.personaId)).where(where).limit(1);
  return row ? toScenario(row) : null;
}

async function loadCandidates(
  db: Executor,
  pinSecret: string,
  input: { digits: string; callerNumber: string | null; calledNumber: string | null },
): Promise<ResolverCandidates> {
  const digits = input.digits.trim();
  const called = numberVariants(input.calledNumber);
  const caller = numberVariants(input.callerNumber);

  const [pinMatch, extensionScenario, directLineScenario, callerUsers] = await Promise.all([
    digits === ''
      ? null
      : db
          .select({ assignment: assignments, rep: repColumns })
          .from(assignments)
          .innerJoin(users, eq(users.id, assignments.repId))
          .where(and(eq(assignments.pinHash, hashPin(pinSecret, digits)), isNull(assignments.revokedAt)))
          .limit(1)
          .then(async ([row]) => {
            if (!row) return null;
            const scenario = await loadScenario(db, eq(scenarios.id, row.assignment.scenarioId));
            return scenario ? { assignment: toAssignment(row.assignment), scenario, rep: row.rep as RepCandidate } : null;
          }),
    digits === '' ? null : loadScenario(db, eq(scenarios.extension, digits)),
    called.length === 0 ? null : loadScenario(db, inArray(scenarios.directLineNumber, called)),
    caller.length === 0 ? [] : db.select(repColumns).from(users).where(arrayOverlaps(users.phoneNumbers, caller)),
  ]);

  const callerAssignments =
    callerUsers.length === 0
      ? []
      : (
          await db
            .select()
            .from(assignments)
            .where(and(inArray(assignments.repId, callerUsers.map((user) => user.id)), isNull(assignments.revokedAt)))
        ).map(toAssignment);

  return { pinMatch, extensionScenario, directLineScenario, callerUsers: callerUsers as RepCandidate[], callerAssignments };
}

export function buildMetadata(callId: string, scenario: ScenarioCandidate, rep: RepCandidate): ReadyRoomMetadata {
  const { id: _personaId, archived: _personaArchived, ...persona } = scenario.persona;
  return {
    v: 1,
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
      recordCalls: scenario.recordCalls,
    },
    rep: { id: rep.id, firstName: firstNameOf(rep.name) },
  };
}

/** Rebuilds the metadata of an existing call, for replayed webhooks and repeated resolve requests. */
async function metadataOfCall(db: Executor, call: typeof calls.$inferSelect): Promise<ReadyRoomMetadata | null> {
  if (!call.scenarioId || !call.repId) return null;
  const [scenario, [rep]] = await Promise.all([
    loadScenario(db, eq(scenarios.id, call.scenarioId)),
    db.select(repColumns).from(users).where(eq(users.id, call.repId)),
  ]);
  return scenario && rep ? buildMetadata(call.id, scenario, rep as RepCandidate) : null;
}

/**
 * Uses one of the assignment's attempts, guarded in the update itself so two calls cannot both take
 * the last one. False when none is left (or it was revoked meanwhile).
 */
export async function takeAttempt(tx: Executor, assignmentId: string): Promise<boolean> {
  const bumped = await tx
    .update(assignments)
    .set({ attemptsUsed: sql`${assignments.attemptsUsed} + 1` })
    .where(
      and(
        eq(assignments.id, assignmentId),
        isNull(assignments.revokedAt),
        or(isNull(assignments.maxAttempts), sql`${assignments.attemptsUsed} < ${assignments.maxAttempts}`),
      ),
    )
    .returning({ id: assignments.id });
  return bumped.length > 0;
}

/** Hands an attempt back (the call never reached the persona through no fault of the rep). */
export async function giveBackAttempt(db: Executor, assignmentId: string): Promise<void> {
  await db
    .update(assignments)
    .set({ attemptsUsed: sql`greatest(${assignments.attemptsUsed} - 1, 0)` })
    .where(eq(assignments.id, assignmentId));
}

type Decision =
  | { kind: 'replay'; call: typeof calls.$inferSelect }
  | { kind: 'created'; callId: string; roomName: string; metadata: ReadyRoomMetadata; via: ResolvedVia; assignmentId: string | null }
  | { kind: 'refused'; failure: ResolveFailure }
  | { kind: 'locked_out'; until: Date };

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
  findExisting: (db: Executor) => Promise<typeof calls.$inferSelect | undefined>;
}

const PATH_CHANNELS: Record<Attempt['path'], PinChannel[]> = { twilio: ['twilio'], sip: ['sip', 'api'] };

const limitsOf = (deps: CallRoutingDeps) =>
  deps.limits ?? {
    line: windowRuleFromMinutes(DEFAULT_LINE_LIMIT.maxFailures, DEFAULT_LINE_LIMIT.windowMinutes),
    global: windowRuleFromMinutes(DEFAULT_GLOBAL_LIMIT.maxFailures, DEFAULT_GLOBAL_LIMIT.windowMinutes),
  };

interface GuardKeys {
  caller: string;
  called: string | null;
  verified: boolean;
  channels: PinChannel[];
}

type ScopeState = { scope: GuessScope; locked: boolean; until?: Date; failures: number; maxFailures: number; windowMs: number };

/** Guessing failures per scope, read under the guard lock. */
async function loadFailures(tx: Executor, deps: CallRoutingDeps, keys: GuardKeys, now: Date) {
  const { line, global } = limitsOf(deps);
  const guess = and(eq(pinAttempts.success, false), inArray(pinAttempts.reason, [...GUESS_REASONS]));
  const since = (ms: number) => gt(pinAttempts.createdAt, new Date(now.getTime() - ms));
  const times = (rows: { createdAt: Date }[]) => rows.map((row) => row.createdAt);
  // One after another: the transaction holds a single connection.
  const caller = await tx
    .select({ createdAt: pinAttempts.createdAt })
    .from(pinAttempts)
    .where(
      and(
        guess,
        eq(pinAttempts.callerNumber, keys.caller),
        eq(pinAttempts.callerVerified, keys.verified),
        inArray(pinAttempts.channel, keys.channels),
        since(lockoutLookbackMs(deps.lockout)),
      ),
    );
  const called = await tx
    .select({ createdAt: pinAttempts.createdAt })
    .from(pinAttempts)
    .where(and(guess, keys.called === null ? isNull(pinAttempts.calledNumber) : eq(pinAttempts.calledNumber, keys.called), since(line.windowMs)));
  const all = await tx.select({ createdAt: pinAttempts.createdAt }).from(pinAttempts).where(and(guess, since(global.windowMs)));
  return { caller: times(caller), line: times(called), global: times(all) };
}

function scopeStates(deps: CallRoutingDeps, failures: Awaited<ReturnType<typeof loadFailures>>, now: Date): ScopeState[] {
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
async function reportTrip(tx: Executor, deps: CallRoutingDeps, attempt: Attempt, keys: GuardKeys, state: ScopeState) {
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
  await recordAudit(tx, systemActor, { action: 'pin_guard.tripped', entityType: 'pin_guard', entityId: state.scope, details });
  const { calledNumber, callerNumber, ...rest } = details;
  deps.logger.warn({ ...rest, pii: { calledNumber, callerNumber } }, 'PIN guessing limit tripped; PIN entry paused');
}

/**
 * One transaction per attempt, under one advisory lock for every PIN attempt (any replica), so
 * parallel guesses cannot slip past a per-caller, per-line or global limit, and two calls cannot
 * both take an assignment's last attempt. Attempts are short; a line of reps never queues on it.
 */
async function decide(deps: CallRoutingDeps, attempt: Attempt): Promise<Decision> {
  const now = nowOf(deps);
  const digits = attempt.digits.trim();
  const verified = attempt.path === 'twilio' && attempt.callerAttested;
  const keys: GuardKeys = {
    caller: lockoutKey(attempt.callerNumber),
    called: normalisePhoneNumber(attempt.calledNumber),
    verified,
    channels: PATH_CHANNELS[attempt.path],
  };
  const trusted = callerIdTrusted(deps.callerIdTrust ?? DEFAULT_CALLER_ID_TRUST, attempt.path, attempt.callerAttested);

  // Candidate rows are read in parallel on the pool before the transaction (one connection cannot
  // run queries concurrently); the guarded attempts update below settles any race on them.
  const candidates = await loadCandidates(deps.db, deps.pinSecret, attempt);
  // Keyed digits are a try; so is a call to a direct line, which names the rep by caller ID alone.
  const isTry = digits !== '' || candidates.directLineScenario !== null;

  return deps.db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext('practice-line:pin-guard'))`);
    // After the lock: a duplicate webhook for the same call waits here for the first to commit.
    const existing = await attempt.findExisting(tx);
    if (existing) return { kind: 'replay', call: existing };

    const record = async (success: boolean, reason: string) => {
      if (!isTry) return;
      await tx.insert(pinAttempts).values({
        callerNumber: keys.caller,
        calledNumber: keys.called,
        callerVerified: keys.verified,
        channel: attempt.channel,
        success,
        reason,
        createdAt: now,
      });
    };

    const failures = await loadFailures(tx, deps, keys, now);
    const before = scopeStates(deps, failures, now);
    const lockedUntil = latestUntil(before);
    if (lockedUntil) {
      await record(false, 'locked_out');
      return { kind: 'locked_out', until: lockedUntil };
    }

    const outcome = resolveCall({ digits, now, callerIdTrusted: trusted }, candidates);

    if (outcome.kind !== 'ok') {
      await record(false, outcome.kind);
      // The failure that completes a run locks at once: say so now rather than on the next try.
      if (isTry && countsTowardLockout(outcome.kind)) {
        const after = scopeStates(deps, { caller: [...failures.caller, now], line: [...failures.line, now], global: [...failures.global, now] }, now);
        const tripped = after.filter((state) => state.locked);
        for (const state of tripped) await reportTrip(tx, deps, attempt, keys, state);
        const until = latestUntil(after);
        if (until) return { kind: 'locked_out', until };
      }
      return { kind: 'refused', failure: outcome };
    }

    if (outcome.assignment) {
      if (!(await takeAttempt(tx, outcome.assignment.id))) {
        await record(false, 'exhausted');
        return { kind: 'refused', failure: { kind: 'exhausted', maxAttempts: outcome.assignment.maxAttempts ?? 0 } };
      }
    }
    await record(true, outcome.via);

    const callId = randomUUID();
    const metadata = buildMetadata(callId, outcome.scenario, outcome.rep);
    await tx.insert(calls).values({
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
    return { kind: 'created', callId, roomName: attempt.roomName, metadata, via: outcome.via, assignmentId: outcome.assignment?.id ?? null };
  });
}

async function replay(deps: CallRoutingDeps, call: typeof calls.$inferSelect): Promise<RouteOutcome> {
  if (isTerminal(call.status)) return { kind: 'unavailable' };
  const metadata = await metadataOfCall(deps.db, call);
  if (!metadata) return { kind: 'unavailable' };
  return { kind: 'connected', callId: call.id, roomName: call.roomName, metadata, via: 'replay' };
}

/** Gives back the attempt and closes the call when LiveKit could not take it. */
export async function abandonDispatch(
  deps: Pick<CallRoutingDeps, 'db' | 'logger' | 'onCallEnded' | 'now'>,
  decision: { callId: string; roomName: string; assignmentId: string | null },
  error: unknown,
): Promise<{ kind: 'unavailable' }> {
  deps.logger.error({ err: error, callId: decision.callId, roomName: decision.roomName }, 'livekit could not take the call');
  if (decision.assignmentId) await giveBackAttempt(deps.db, decision.assignmentId);
  await recordCallEvent(deps, {
    callId: decision.callId,
    event: { type: 'failed', at: nowOf(deps), reason: 'room_unavailable' },
    trigger: 'dispatch_failed',
  });
  return { kind: 'unavailable' };
}

async function withUniqueRetry<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    // A duplicate webhook raced us to the insert; the second run finds its row and replays it.
    if ((error as { code?: string; cause?: { code?: string } }).code === '23505' || (error as { cause?: { code?: string } }).cause?.code === '23505') {
      return run();
    }
    throw error;
  }
}

/** `/twilio/voice` (digits '') and `/twilio/pin`: on success the room exists with the agent dispatched. */
export async function routeTwilioCall(deps: CallRoutingDeps, input: TwilioRouteInput): Promise<RouteOutcome> {
  const roomName = newRoomName();
  const decision = await withUniqueRetry(() =>
    decide(deps, {
      channel: 'twilio',
      path: 'twilio',
      digits: input.digits,
      callerNumber: input.callerNumber,
      calledNumber: input.calledNumber,
      callerAttested: input.callerAttested ?? false,
      roomName,
      twilioCallSid: input.twilioCallSid,
      sipCallId: null,
      findExisting: async (db) => (await db.select().from(calls).where(eq(calls.twilioCallSid, input.twilioCallSid)).limit(1))[0],
    }),
  );
  if (decision.kind === 'replay') return replay(deps, decision.call);
  if (decision.kind !== 'created') return decision.kind === 'refused' ? decision : { kind: 'locked_out', until: decision.until };

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
  return { kind: 'connected', callId: decision.callId, roomName: decision.roomName, metadata: decision.metadata, via: decision.via };
}

/** `POST /api/dispatch/resolve`: the room already exists (an individual dispatch rule made it); fill in its metadata. */
export async function routeSipCall(deps: CallRoutingDeps, input: SipRouteInput): Promise<RouteOutcome> {
  const decision = await withUniqueRetry(() =>
    decide(deps, {
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
      findExisting: async (db) => (await db.select().from(calls).where(eq(calls.roomName, input.roomName)).limit(1))[0],
    }),
  );
  if (decision.kind === 'replay') return replay(deps, decision.call);
  if (decision.kind !== 'created') return decision.kind === 'refused' ? decision : { kind: 'locked_out', until: decision.until };

  try {
    await deps.rooms.updateRoomMetadata(decision.roomName, encodeRoomMetadata(decision.metadata));
  } catch (error) {
    return abandonDispatch(deps, decision, error);
  }
  deps.logger.info({ callId: decision.callId, roomName: decision.roomName, via: decision.via }, 'call resolved on the direct trunk');
  return { kind: 'connected', callId: decision.callId, roomName: decision.roomName, metadata: decision.metadata, via: decision.via };
}
