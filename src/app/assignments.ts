// Assignments: a scenario given to a rep, reached by a personal PIN. The plain PIN leaves this module
// exactly once (in the result of create or rotate); only its HMAC is stored (domain/pin.ts).
import { and, desc, eq, isNull, type SQL } from 'drizzle-orm';
import { createInsertSchema } from 'drizzle-zod';
import { z } from 'zod';
import { uniqueViolation } from '../adapters/db/pg_errors.js';
import { assignments, scenarios, users } from '../adapters/db/schema.js';
import { canAssignTo, repManagerScope, type Actor } from '../domain/access.js';
import { conflict, invalidInput, notFound } from '../domain/errors.js';
import { generatePin, hashPin } from '../domain/pin.js';
import { recordAudit, auditCreated } from './audit.js';
import { type AppDeps, type Executor, parseId, parseInput, type Tx, type PageRequest, withPage, changedFields, booleanQuery } from './use_case.js';
import { nowOf } from './ports.js';
import { idSchema, loadVisibleUser } from './users.js';

const assignmentInsertSchema = createInsertSchema(assignments, {
  scenarioId: () => idSchema,
  repId: () => idSchema,
  dueAt: () => z.coerce.date({ message: 'expected a date such as 2026-12-31T17:00:00Z' }),
  passMark: () => z.number().int('expected a whole number').min(0, 'must be between 0 and 100').max(100, 'must be between 0 and 100'),
  maxAttempts: () => z.number().int('expected a whole number').min(1, 'must be at least 1').max(1000, 'must be at most 1000'),
});

const dueDateRule = <T extends { dueAt?: Date | null | undefined; enforceDueDate?: boolean | undefined }>(value: T, ctx: z.RefinementCtx) => {
  if (value.enforceDueDate && !value.dueAt) ctx.addIssue({ code: 'custom', path: ['dueAt'], message: 'required when enforceDueDate is true' });
};

export const createAssignmentInput = assignmentInsertSchema
  .pick({ scenarioId: true, repId: true, dueAt: true, enforceDueDate: true, passMark: true, maxAttempts: true })
  // drizzle-zod's types drop the optionality of refined nullable/defaulted columns; runtime keeps it.
  .partial({ dueAt: true, passMark: true, maxAttempts: true })
  .superRefine(dueDateRule);
export type CreateAssignmentInput = z.input<typeof createAssignmentInput>;

export const updateAssignmentInput = assignmentInsertSchema
  .pick({ dueAt: true, enforceDueDate: true, passMark: true, maxAttempts: true })
  .partial()
  .extend({ id: idSchema });
export type UpdateAssignmentInput = z.input<typeof updateAssignmentInput>;

export const listAssignmentsInput = z.object({
  repId: idSchema.optional(),
  scenarioId: idSchema.optional(),
  includeRevoked: booleanQuery,
});
export type ListAssignmentsInput = z.input<typeof listAssignmentsInput>;

type AssignmentRow = typeof assignments.$inferSelect;

export type AssignmentStatus = 'active' | 'revoked' | 'overdue' | 'exhausted';

/** What a manager reads about an assignment: never the PIN, not even its hash. */
export interface AssignmentView extends Omit<AssignmentRow, 'pinHash'> {
  status: AssignmentStatus;
  attemptsLeft: number | null;
  rep: { id: string; name: string; email: string };
  scenario: { id: string; title: string };
}

export interface IssuedPin {
  assignment: AssignmentView;
  /** Shown once; there is no way to read it back later, only to rotate it. */
  pin: string;
}

export function assignmentStatus(row: Pick<AssignmentRow, 'revokedAt' | 'dueAt' | 'enforceDueDate' | 'maxAttempts' | 'attemptsUsed'>, now: Date): AssignmentStatus {
  if (row.revokedAt) return 'revoked';
  if (row.maxAttempts !== null && row.attemptsUsed >= row.maxAttempts) return 'exhausted';
  if (row.enforceDueDate && row.dueAt && row.dueAt.getTime() < now.getTime()) return 'overdue';
  return 'active';
}

const joinedColumns = {
  assignment: assignments,
  rep: { id: users.id, name: users.name, email: users.email, role: users.role, managerId: users.managerId },
  scenario: { id: scenarios.id, title: scenarios.title },
};

type JoinedRow = { assignment: AssignmentRow; rep: AssignmentView['rep']; scenario: AssignmentView['scenario'] };

function toView(row: JoinedRow, now: Date): AssignmentView {
  const { pinHash: _pinHash, ...assignment } = row.assignment;
  return {
    ...assignment,
    status: assignmentStatus(row.assignment, now),
    attemptsLeft: assignment.maxAttempts === null ? null : Math.max(0, assignment.maxAttempts - assignment.attemptsUsed),
    rep: { id: row.rep.id, name: row.rep.name, email: row.rep.email },
    scenario: row.scenario,
  };
}

async function loadJoined(db: Executor, where: SQL, paging?: PageRequest): Promise<JoinedRow[]> {
  const query = db
    .select(joinedColumns)
    .from(assignments)
    .innerJoin(users, eq(users.id, assignments.repId))
    .innerJoin(scenarios, eq(scenarios.id, assignments.scenarioId))
    .where(where)
    .orderBy(desc(assignments.createdAt), desc(assignments.id))
    .$dynamic();
  return withPage(query, paging);
}

/** An assignment of a rep the actor manages; anything else is "not found" (no leaking across teams). */
async function loadVisible(db: Executor, actor: Actor, id: string): Promise<JoinedRow> {
  const scope = repManagerScope(actor);
  const [row] = await loadJoined(db, and(eq(assignments.id, id), scope === null ? undefined : eq(users.managerId, scope))!);
  if (!row) throw notFound('assignment');
  return row;
}

const PIN_ATTEMPTS = 5;

/**
 * A fresh PIN can collide with another live assignment's (1 in 10^6 per live PIN); the partial unique
 * index catches it and we draw again. Each try is its own transaction because a failed statement
 * aborts the transaction it ran in.
 */
async function withFreshPin<T>(deps: AppDeps, write: (tx: Tx, pinHash: string) => Promise<T>): Promise<{ pin: string; result: T }> {
  for (let attempt = 1; ; attempt += 1) {
    const pin = (deps.generatePin ?? generatePin)();
    try {
      const result = await deps.db.transaction((tx) => write(tx, hashPin(deps.pinSecret, pin)));
      return { pin, result };
    } catch (error) {
      if (uniqueViolation(error) !== 'assignments_live_pin_unique' || attempt >= PIN_ATTEMPTS) throw error;
    }
  }
}

export async function createAssignment(deps: AppDeps, actor: Actor, raw: CreateAssignmentInput): Promise<IssuedPin> {
  repManagerScope(actor);
  const input = parseInput(createAssignmentInput, raw);
  const rep = await loadVisibleUser(deps.db, actor, input.repId);
  if (!canAssignTo(actor, rep)) throw invalidInput('repId must name one of your reps', { repId: 'not a rep you manage' });
  if (!rep.active) throw invalidInput('this rep is inactive', { repId: 'inactive rep' });
  const [scenario] = await deps.db.select().from(scenarios).where(eq(scenarios.id, input.scenarioId));
  if (!scenario || scenario.archivedAt !== null) {
    throw invalidInput('scenarioId must name an active scenario', { scenarioId: 'no active scenario with this id' });
  }

  const { pin, result } = await withFreshPin(deps, async (tx, pinHash) => {
    const rows = await tx.insert(assignments).values({ ...input, pinHash, assignedBy: actor.userId }).returning();
    return auditCreated(tx, actor, rows, () => ({ action: 'assignment.created', entityType: 'assignment', details: { repId: rep.id, scenarioId: scenario.id } }));
  });
  return {
    pin,
    assignment: toView({ assignment: result, rep, scenario: { id: scenario.id, title: scenario.title } }, nowOf(deps)),
  };
}

export async function rotateAssignmentPin(deps: AppDeps, actor: Actor, id: string): Promise<IssuedPin> {
  const current = await loadVisible(deps.db, actor, parseId(id, 'assignment'));
  if (current.assignment.revokedAt) throw conflict('a revoked assignment has no PIN to rotate');
  const now = nowOf(deps);
  const { pin, result } = await withFreshPin(deps, async (tx, pinHash) => {
    const [row] = await tx
      .update(assignments)
      .set({ pinHash, pinRotatedAt: now })
      .where(and(eq(assignments.id, current.assignment.id), isNull(assignments.revokedAt)))
      .returning();
    if (!row) throw conflict('a revoked assignment has no PIN to rotate');
    await recordAudit(tx, actor, { action: 'assignment.pin_rotated', entityType: 'assignment', entityId: row.id });
    return row;
  });
  return { pin, assignment: toView({ ...current, assignment: result }, now) };
}

/** Idempotent: revoking twice leaves the first revocation time (and one audit row). */
export async function revokeAssignment(deps: AppDeps, actor: Actor, id: string): Promise<AssignmentView> {
  const current = await loadVisible(deps.db, actor, parseId(id, 'assignment'));
  const now = nowOf(deps);
  if (current.assignment.revokedAt) return toView(current, now);
  return deps.db.transaction(async (tx) => {
    const [row] = await tx
      .update(assignments)
      .set({ revokedAt: now })
      .where(and(eq(assignments.id, current.assignment.id), isNull(assignments.revokedAt)))
      .returning();
    if (!row) return toView(await loadVisible(tx, actor, current.assignment.id), now);
    await recordAudit(tx, actor, { action: 'assignment.revoked', entityType: 'assignment', entityId: row.id });
    return toView({ ...current, assignment: row }, now);
  });
}

export async function updateAssignment(deps: AppDeps, actor: Actor, raw: UpdateAssignmentInput): Promise<AssignmentView> {
  const { id, ...patch } = parseInput(updateAssignmentInput, raw);
  const current = await loadVisible(deps.db, actor, id);
  const changed = changedFields(patch);
  const merged = { ...current.assignment, ...patch };
  if (merged.enforceDueDate && !merged.dueAt) throw invalidInput('a due date is needed to enforce it', { dueAt: 'required when enforceDueDate is true' });
  return deps.db.transaction(async (tx) => {
    const [row] = await tx.update(assignments).set(patch).where(eq(assignments.id, id)).returning();
    if (!row) throw notFound('assignment');
    await recordAudit(tx, actor, { action: 'assignment.updated', entityType: 'assignment', entityId: id, details: { changed } });
    return toView({ ...current, assignment: row }, nowOf(deps));
  });
}

export async function getAssignment(deps: Pick<AppDeps, 'db' | 'now'>, actor: Actor, id: string): Promise<AssignmentView> {
  return toView(await loadVisible(deps.db, actor, parseId(id, 'assignment')), nowOf(deps));
}

export async function listAssignments(deps: Pick<AppDeps, 'db' | 'now'>, actor: Actor, raw: ListAssignmentsInput = {}, paging?: PageRequest): Promise<AssignmentView[]> {
  const scope = repManagerScope(actor);
  const input = parseInput(listAssignmentsInput, raw);
  const where: (SQL | undefined)[] = [
    scope === null ? undefined : eq(users.managerId, scope),
    input.repId ? eq(assignments.repId, input.repId) : undefined,
    input.scenarioId ? eq(assignments.scenarioId, input.scenarioId) : undefined,
    input.includeRevoked ? undefined : isNull(assignments.revokedAt),
  ];
  const now = nowOf(deps);
  return (await loadJoined(deps.db, and(...where) ?? eq(assignments.id, assignments.id), paging)).map((row) => toView(row, now));
}
