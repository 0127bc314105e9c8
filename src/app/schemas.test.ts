// The input schemas the API, the web view and the CLI share: pure, no database.
import { describe, expect, it } from 'vitest';
import { assignmentStatus, createAssignmentInput } from './assignments.js';
import { listCallsInput } from './calls.js';
import { createScenarioInput, rubricSchema } from './scenarios.js';
import { createUserInput } from './users.js';

const issuesOf = (result: { success: boolean; error?: { issues: { path: PropertyKey[]; message: string }[] } }) =>
  Object.fromEntries((result.error?.issues ?? []).map((issue) => [issue.path.join('.'), issue.message]));

describe('rubric', () => {
  it('accepts positive weights and unique ids, defaulting the description', () => {
    const parsed = rubricSchema.parse([{ id: 'discovery', name: 'Discovery', weight: 0.5 }]);
    expect(parsed).toEqual([{ id: 'discovery', name: 'Discovery', description: '', weight: 0.5 }]);
  });

  it('names every bad criterion', () => {
    const result = rubricSchema.safeParse([
      { id: 'a', name: 'A', weight: 1 },
      { id: 'a', name: 'B', weight: 1 },
      { id: 'Bad Id', name: '', weight: -2 },
    ]);
    expect(issuesOf(result)).toEqual({
      '1.id': 'duplicate criterion id a',
      '2.id': 'expected a short lower-case id such as discovery or next_step',
      '2.name': 'required',
      '2.weight': 'must be greater than 0',
    });
    expect(issuesOf(rubricSchema.safeParse([]))).toEqual({ '': 'needs at least one criterion' });
  });
});

describe('derived input schemas', () => {
  it('keeps defaulted and nullable columns optional, as the table does', () => {
    const scenario = createScenarioInput.parse({
      title: 'T', objective: 'O', context: 'C', personaId: '6f1c2d1e-8a57-4c1e-9d59-1c1d6f0b9a11', rubric: [{ id: 'a', name: 'A', weight: 1 }],
    });
    expect(scenario.timeLimitSeconds).toBeUndefined();
    expect(createUserInput.parse({ role: 'rep', name: 'R', email: 'R@Example.test ' }).email).toBe('r@example.test');
  });

  it('separates extensions from 6-digit PINs', () => {
    const base = { title: 'T', objective: 'O', context: 'C', personaId: '6f1c2d1e-8a57-4c1e-9d59-1c1d6f0b9a11', rubric: [{ id: 'a', name: 'A', weight: 1 }] };
    expect(createScenarioInput.safeParse({ ...base, extension: '101' }).success).toBe(true);
    expect(issuesOf(createScenarioInput.safeParse({ ...base, extension: '123456' }))).toEqual({ extension: 'expected 2 to 5 digits' });
  });

  it('coerces dates and numbers from query strings', () => {
    const parsed = listCallsInput.parse({ from: '2026-11-01', page: '2', status: 'completed' });
    expect(parsed).toMatchObject({ page: 2, pageSize: 25, status: ['completed'] });
    expect(parsed.from?.toISOString()).toBe('2026-11-01T00:00:00.000Z');
    expect(createAssignmentInput.parse({ scenarioId: '6f1c2d1e-8a57-4c1e-9d59-1c1d6f0b9a11', repId: '6f1c2d1e-8a57-4c1e-9d59-1c1d6f0b9a12', dueAt: '2026-12-31' }).dueAt).toBeInstanceOf(Date);
  });
});

describe('assignment status', () => {
  const now = new Date('2026-06-01T12:00:00Z');
  const live = { revokedAt: null, dueAt: null, enforceDueDate: false, maxAttempts: null, attemptsUsed: 0 };

  it('is revoked, exhausted, overdue (only when enforced) or active', () => {
    expect(assignmentStatus(live, now)).toBe('active');
    expect(assignmentStatus({ ...live, revokedAt: now, maxAttempts: 1, attemptsUsed: 1 }, now)).toBe('revoked');
    expect(assignmentStatus({ ...live, maxAttempts: 3, attemptsUsed: 3 }, now)).toBe('exhausted');
    expect(assignmentStatus({ ...live, maxAttempts: 3, attemptsUsed: 2 }, now)).toBe('active');
    const past = new Date('2026-05-31T12:00:00Z');
    expect(assignmentStatus({ ...live, dueAt: past }, now)).toBe('active');
    expect(assignmentStatus({ ...live, dueAt: past, enforceDueDate: true }, now)).toBe('overdue');
  });
});

describe('persona languages', () => {
  it('accepts the supported tags in any case, canonicalised, and names them when refusing another', async () => {
    const { createPersonaInput } = await import('./personas.js');
    const base = { name: 'A', role: 'B', company: 'C', personality: 'D', openingLine: 'E' };
    expect(createPersonaInput.parse({ ...base, language: 'es-mx' }).language).toBe('es-MX');
    expect(createPersonaInput.parse({ ...base, language: 'de' }).language).toBe('de');
    const refused = createPersonaInput.safeParse({ ...base, language: 'xx' });
    expect(refused.success).toBe(false);
    expect(refused.error?.issues[0]?.message).toMatch(/expected a supported language: en, en-US, .*es, .*de, .*fr/);
  });
});
