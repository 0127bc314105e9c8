// A rep's practice at a glance: where each assignment stands, and how their scores moved between
// attempts. Pure rules over rows the use cases have loaded.

export type AssignmentState = 'not_started' | 'in_progress' | 'passed' | 'overdue';

export interface AssignmentFacts {
  dueAt: Date | null;
  passedAt: Date | null;
  attemptsUsed: number;
  maxAttempts: number | null;
}

/** Passed wins over everything; a due date in the past makes an unpassed assignment overdue. */
export function assignmentState(facts: AssignmentFacts, now: Date): AssignmentState {
  if (facts.passedAt !== null) return 'passed';
  if (facts.dueAt !== null && now.getTime() > facts.dueAt.getTime()) return 'overdue';
  return facts.attemptsUsed === 0 ? 'not_started' : 'in_progress';
}

export const attemptsLeft = (facts: Pick<AssignmentFacts, 'attemptsUsed' | 'maxAttempts'>): number | null =>
  facts.maxAttempts === null ? null : Math.max(0, facts.maxAttempts - facts.attemptsUsed);

export interface ScoredAttempt {
  callId: string;
  at: Date;
  overall: number;
  criteria: { criterionId: string; name: string; score: number }[];
}

export interface CriterionChange {
  criterionId: string;
  name: string;
  before: number;
  after: number;
  delta: number;
}

/**
 * What changed from the attempt before the latest to the latest, per criterion both scored, biggest
 * gain first. Empty with fewer than two attempts.
 */
export function changesSinceLastAttempt(attempts: readonly ScoredAttempt[]): { overall: number; criteria: CriterionChange[] } | null {
  const ordered = [...attempts].sort((a, b) => a.at.getTime() - b.at.getTime());
  const latest = ordered.at(-1);
  const previous = ordered.at(-2);
  if (!latest || !previous) return null;
  const before = new Map(previous.criteria.map((criterion) => [criterion.criterionId, criterion.score]));
  const criteria = latest.criteria
    .filter((criterion) => before.has(criterion.criterionId))
    .map((criterion) => {
      const old = before.get(criterion.criterionId)!;
      return { criterionId: criterion.criterionId, name: criterion.name, before: old, after: criterion.score, delta: criterion.score - old };
    })
    .sort((a, b) => b.delta - a.delta);
  return { overall: latest.overall - previous.overall, criteria };
}
