import { describe, expect, it } from 'vitest';
import { assignmentState, attemptsLeft, changesSinceLastAttempt } from './practice.js';

const now = new Date('2026-11-30T12:00:00Z');
const base = { dueAt: null, passedAt: null, attemptsUsed: 0, maxAttempts: 3 };

describe('assignment state', () => {
  it('is not started, in progress, overdue or passed', () => {
    expect(assignmentState(base, now)).toBe('not_started');
    expect(assignmentState({ ...base, attemptsUsed: 1 }, now)).toBe('in_progress');
    expect(assignmentState({ ...base, attemptsUsed: 1, dueAt: new Date('2026-11-29T00:00:00Z') }, now)).toBe('overdue');
    expect(assignmentState({ ...base, dueAt: new Date('2026-12-01T00:00:00Z') }, now)).toBe('not_started');
    // Passed before the due date stays passed after it.
    expect(assignmentState({ ...base, attemptsUsed: 2, dueAt: new Date('2026-11-29T00:00:00Z'), passedAt: new Date('2026-11-28T00:00:00Z') }, now)).toBe('passed');
  });

  it('counts attempts left, unlimited as null', () => {
    expect(attemptsLeft({ attemptsUsed: 1, maxAttempts: 3 })).toBe(2);
    expect(attemptsLeft({ attemptsUsed: 4, maxAttempts: 3 })).toBe(0);
    expect(attemptsLeft({ attemptsUsed: 4, maxAttempts: null })).toBeNull();
  });
});

describe('changes since the last attempt', () => {
  const attempt = (at: string, overall: number, opening: number, close: number) => ({
    callId: at,
    at: new Date(at),
    overall,
    criteria: [
      { criterionId: 'opening', name: 'Opening', score: opening },
      { criterionId: 'close', name: 'Close', score: close },
    ],
  });

  it('compares the latest attempt with the one before, whatever order they come in', () => {
    const changes = changesSinceLastAttempt([attempt('2026-11-29T10:00:00Z', 70, 80, 60), attempt('2026-11-20T10:00:00Z', 50, 40, 60), attempt('2026-11-25T10:00:00Z', 55, 50, 65)]);
    expect(changes?.overall).toBe(15);
    expect(changes?.criteria).toEqual([
      { criterionId: 'opening', name: 'Opening', before: 50, after: 80, delta: 30 },
      { criterionId: 'close', name: 'Close', before: 65, after: 60, delta: -5 },
    ]);
  });

  it('says nothing with a single attempt', () => {
    expect(changesSinceLastAttempt([attempt('2026-11-29T10:00:00Z', 70, 80, 60)])).toBeNull();
  });
});
