// A signed-in rep's own page: their assignments and where each stands, and their scores over time.
// Calls come from calls.ts (listCalls/getCall), which already scope a rep to their own.
import { and, asc, desc, eq, isNull, max } from 'drizzle-orm';
import { assignments, calls, personas, scenarios, scorecards } from '../adapters/db/schema.js';
import { assertRep, type Actor } from '../domain/access.js';
import { assignmentState, attemptsLeft, changesSinceLastAttempt, type AssignmentState, type CriterionChange, type ScoredAttempt } from '../domain/practice.js';
import { type AppDeps } from './use_case.js';
import { nowOf } from './ports.js';

export interface MyAssignment {
  id: string;
  scenario: { id: string; title: string; objective: string; timeLimitSeconds: number };
  persona: { name: string; role: string; company: string };
  dueAt: Date | null;
  enforceDueDate: boolean;
  passMark: number;
  attemptsUsed: number;
  maxAttempts: number | null;
  attemptsLeft: number | null;
  bestScore: number | null;
  passedAt: Date | null;
  state: AssignmentState;
}

/** The rep's live assignments, soonest due first (undated last). */
export async function listMyAssignments(deps: Pick<AppDeps, 'db' | 'now'>, actor: Actor): Promise<MyAssignment[]> {
  const repId = assertRep(actor);
  const now = nowOf(deps);
  const best = deps.db
    .select({ assignmentId: calls.assignmentId, best: max(scorecards.overallScore).as('best') })
    .from(calls)
    .innerJoin(scorecards, eq(scorecards.callId, calls.id))
    .where(and(eq(calls.repId, repId), eq(calls.isTest, false)))
    .groupBy(calls.assignmentId)
    .as('best');
  const rows = await deps.db
    .select({ assignment: assignments, scenario: scenarios, persona: personas, best: best.best })
    .from(assignments)
    .innerJoin(scenarios, eq(scenarios.id, assignments.scenarioId))
    .innerJoin(personas, eq(personas.id, scenarios.personaId))
    .leftJoin(best, eq(best.assignmentId, assignments.id))
    .where(and(eq(assignments.repId, repId), isNull(assignments.revokedAt)))
    .orderBy(asc(assignments.dueAt), asc(assignments.createdAt));
  return rows.map(({ assignment, scenario, persona, best: bestScore }) => ({
    id: assignment.id,
    scenario: { id: scenario.id, title: scenario.title, objective: scenario.objective, timeLimitSeconds: scenario.timeLimitSeconds },
    persona: { name: persona.name, role: persona.role, company: persona.company },
    dueAt: assignment.dueAt,
    enforceDueDate: assignment.enforceDueDate,
    passMark: assignment.passMark,
    attemptsUsed: assignment.attemptsUsed,
    maxAttempts: assignment.maxAttempts,
    attemptsLeft: attemptsLeft(assignment),
    bestScore: bestScore ?? null,
    passedAt: assignment.passedAt,
    state: assignmentState(assignment, now),
  }));
}

export interface ScenarioProgress {
  scenario: { id: string; title: string };
  passMark: number | null;
  attempts: ScoredAttempt[];
  changes: { overall: number; criteria: CriterionChange[] } | null;
}

/** Scored attempts per scenario, oldest first; test calls never count. */
export async function myProgress(deps: Pick<AppDeps, 'db'>, actor: Actor): Promise<ScenarioProgress[]> {
  const repId = assertRep(actor);
  const rows = await deps.db
    .select({ callId: calls.id, at: calls.createdAt, scenarioId: scenarios.id, title: scenarios.title, passMark: assignments.passMark, scorecard: scorecards })
    .from(calls)
    .innerJoin(scorecards, eq(scorecards.callId, calls.id))
    .innerJoin(scenarios, eq(scenarios.id, calls.scenarioId))
    .leftJoin(assignments, eq(assignments.id, calls.assignmentId))
    .where(and(eq(calls.repId, repId), eq(calls.isTest, false), eq(scorecards.status, 'scored')))
    .orderBy(asc(calls.createdAt), desc(calls.id));
  const byScenario = new Map<string, ScenarioProgress>();
  for (const row of rows) {
    if (row.scorecard.overallScore === null) continue;
    const entry = byScenario.get(row.scenarioId) ?? { scenario: { id: row.scenarioId, title: row.title }, passMark: null, attempts: [], changes: null };
    entry.passMark = row.passMark ?? entry.passMark;
    entry.attempts.push({
      callId: row.callId,
      at: row.at,
      overall: row.scorecard.overallScore,
      criteria: row.scorecard.criteria.map((criterion) => ({ criterionId: criterion.criterionId, name: criterion.name, score: criterion.score })),
    });
    byScenario.set(row.scenarioId, entry);
  }
  return [...byScenario.values()].map((entry) => ({ ...entry, changes: changesSinceLastAttempt(entry.attempts) }));
}
