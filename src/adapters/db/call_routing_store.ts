// Call routing's rows and locks in PostgreSQL (the CallRoutingStore port, app/ports.ts): the
// drizzle joins and row mappers for the resolver's candidates, the guarded attempt count, the PIN
// attempts the guessing limits read, and the two advisory-lock transactions.
import { and, arrayOverlaps, asc, eq, gt, inArray, isNull, or, sql, type SQL } from 'drizzle-orm';
import { recordAudit } from '../../app/audit.js';
import type { CallRoutingStore, GuardedRouting, RoutedCall, RoutedCallKey } from '../../app/ports.js';
import { systemActor } from '../../domain/access.js';
import { LIVE_STATUSES } from '../../domain/call_state.js';
import { GUESS_REASONS, normalisePhoneNumber } from '../../domain/lockout.js';
import type { AssignmentCandidate, RepCandidate, ScenarioCandidate } from '../../domain/resolver.js';
import type { Database } from './client.js';
import { isUniqueViolation } from './pg_errors.js';
import { assignments, calls, personas, pinAttempts, scenarioStages, scenarios, users } from './schema.js';
import type { DrizzleTx } from './transaction.js';

type Executor = Database | DrizzleTx;

/** Twilio sends E.164; other SIP providers may drop the '+', and stored numbers may be either. Match every spelling. */
function numberVariants(number: string | null): string[] {
  const trimmed = number?.trim() ?? '';
  if (trimmed === '') return [];
  const bare = trimmed.replace(/^\+/, '');
  const e164 = normalisePhoneNumber(trimmed);
  return [...new Set([trimmed, `+${bare}`, bare, ...(e164 ? [e164, e164.slice(1)] : [])])];
}

const personaColumns = {
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
};

const scenarioColumns = {
  id: scenarios.id,
  title: scenarios.title,
  objective: scenarios.objective,
  context: scenarios.context,
  difficulty: scenarios.difficulty,
  rubric: scenarios.rubric,
  timeLimitSeconds: scenarios.timeLimitSeconds,
  recordCalls: scenarios.recordCalls,
  backgroundNoise: scenarios.backgroundNoise,
  archivedAt: scenarios.archivedAt,
  persona: personaColumns,
};

type PersonaRow = Omit<ScenarioCandidate['persona'], 'archived'> & { archivedAt: Date | null };
type ScenarioRow = Omit<ScenarioCandidate, 'archived' | 'persona' | 'stages'> & { archivedAt: Date | null; persona: PersonaRow };

const toPersona = ({ archivedAt, ...persona }: PersonaRow): ScenarioCandidate['persona'] => ({ ...persona, archived: archivedAt !== null });

function toScenario(row: ScenarioRow): ScenarioCandidate {
  const { archivedAt, persona, ...rest } = row;
  return {
    ...rest,
    archived: archivedAt !== null,
    rubric: rest.rubric.map(({ id, name, description, weight }) => ({ id, name, description, weight })),
    persona: toPersona(persona),
  };
}

const repColumns = { id: users.id, name: users.name, role: users.role, active: users.active };

function toAssignment(row: typeof assignments.$inferSelect): AssignmentCandidate {
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

const routedCallColumns = {
  id: calls.id,
  status: calls.status,
  roomName: calls.roomName,
  scenarioId: calls.scenarioId,
  repId: calls.repId,
  path: calls.path,
  assignmentId: calls.assignmentId,
  isTest: calls.isTest,
};

async function loadScenario(db: Executor, where: SQL): Promise<ScenarioCandidate | null> {
  const [row] = await db.select(scenarioColumns).from(scenarios).innerJoin(personas, eq(personas.id, scenarios.personaId)).where(where).limit(1);
  if (!row) return null;
  const stages = await db
    .select({ advanceRule: scenarioStages.advanceRule, persona: personaColumns })
    .from(scenarioStages)
    .innerJoin(personas, eq(personas.id, scenarioStages.personaId))
    .where(eq(scenarioStages.scenarioId, row.id))
    .orderBy(asc(scenarioStages.position));
  return { ...toScenario(row), stages: stages.map((stage) => ({ advanceRule: stage.advanceRule, persona: toPersona(stage.persona) })) };
}

async function findCall(db: Executor, key: RoutedCallKey): Promise<RoutedCall | null> {
  const where =
    'twilioCallSid' in key ? eq(calls.twilioCallSid, key.twilioCallSid) : 'roomName' in key ? eq(calls.roomName, key.roomName) : eq(calls.id, key.callId);
  const [row] = await db.select(routedCallColumns).from(calls).where(where).limit(1);
  return row ?? null;
}

function guarded(tx: DrizzleTx): GuardedRouting {
  const failureTimes = async (where: SQL | undefined) =>
    (await tx.select({ createdAt: pinAttempts.createdAt }).from(pinAttempts).where(where)).map((row) => row.createdAt);
  return {
    findCall: (key) => findCall(tx, key),

    async guessFailures(keys, since) {
      const guess = and(eq(pinAttempts.success, false), inArray(pinAttempts.reason, [...GUESS_REASONS]));
      // One after another: the transaction holds a single connection.
      const caller = await failureTimes(
        and(
          guess,
          eq(pinAttempts.callerNumber, keys.caller),
          eq(pinAttempts.callerVerified, keys.verified),
          inArray(pinAttempts.channel, [...keys.channels]),
          gt(pinAttempts.createdAt, since.caller),
        ),
      );
      const calledNumber = keys.called === null ? isNull(pinAttempts.calledNumber) : eq(pinAttempts.calledNumber, keys.called);
      const line = await failureTimes(and(guess, calledNumber, gt(pinAttempts.createdAt, since.line)));
      const global = await failureTimes(and(guess, gt(pinAttempts.createdAt, since.global)));
      return { caller, line, global };
    },

    async recordPinAttempt(row) {
      await tx.insert(pinAttempts).values(row);
    },

    async takeAttempt(assignmentId) {
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
    },

    async openCallOf(repId, path, since) {
      const [open] = await tx
        .select({ id: calls.id })
        .from(calls)
        .where(and(eq(calls.repId, repId), eq(calls.path, path), inArray(calls.status, [...LIVE_STATUSES]), gt(calls.createdAt, since)))
        .limit(1);
      return open?.id ?? null;
    },

    async insertCall(call) {
      await tx.insert(calls).values(call);
    },

    audit: (entry) => recordAudit(tx, systemActor, entry),
  };
}

async function underLock<T>(db: Database, key: string, work: (tx: GuardedRouting) => Promise<T>): Promise<T> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${key}))`);
    return work(guarded(tx));
  });
}

export function createCallRoutingStore(db: Database): CallRoutingStore {
  return {
    async candidates(input) {
      const digits = input.digits.trim();
      const called = numberVariants(input.calledNumber);
      const caller = numberVariants(input.callerNumber);
      const pinHash = input.pinHash;
      const [pinMatch, extensionScenario, directLineScenario, callerUsers] = await Promise.all([
        pinHash === null
          ? null
          : db
              .select({ assignment: assignments, rep: repColumns })
              .from(assignments)
              .innerJoin(users, eq(users.id, assignments.repId))
              .where(and(eq(assignments.pinHash, pinHash), isNull(assignments.revokedAt)))
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
    },

    scenario: (id) => loadScenario(db, eq(scenarios.id, id)),

    async rep(id, options = {}) {
      const [row] = await db
        .select(repColumns)
        .from(users)
        .where(options.activeOnly ? and(eq(users.id, id), eq(users.active, true)) : eq(users.id, id));
      return (row as RepCandidate | undefined) ?? null;
    },

    async assignment(id) {
      const [row] = await db.select({ assignment: assignments, rep: repColumns }).from(assignments).innerJoin(users, eq(users.id, assignments.repId)).where(eq(assignments.id, id)).limit(1);
      return row ? { assignment: toAssignment(row.assignment), rep: row.rep as RepCandidate } : null;
    },

    findCall: (key) => findCall(db, key),

    async giveBackAttempt(assignmentId) {
      await db
        .update(assignments)
        .set({ attemptsUsed: sql`greatest(${assignments.attemptsUsed} - 1, 0)` })
        .where(eq(assignments.id, assignmentId));
    },

    async underPinGuard(work) {
      const run = () => underLock(db, 'practice-line:pin-guard', work);
      try {
        return await run();
      } catch (error) {
        // A duplicate webhook raced us to the insert; the second run finds its row and replays it.
        if (isUniqueViolation(error)) return run();
        throw error;
      }
    },

    underCallerLock: (repId, work) => underLock(db, `web-call:${repId}`, work),
  };
}
