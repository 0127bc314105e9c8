// PIN issuance against the real partial unique index: a live collision draws again, a revoked
// assignment's PIN may be reused.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createAssignment, revokeAssignment, rotateAssignmentPin } from '../../src/app/assignments.js';
import { createPersona } from '../../src/app/personas.js';
import { createScenario } from '../../src/app/scenarios.js';
import { createUser } from '../../src/app/users.js';
import type { AppDeps } from '../../src/app/use_case.js';
import { systemActor } from '../../src/domain/access.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';

let database: TestDatabase;
let base: AppDeps;
let scenarioId = '';
let repId = '';

const scripted = (...pins: string[]) => {
  const queue = [...pins];
  return () => {
    const next = queue.shift();
    if (next === undefined) throw new Error('scripted PINs exhausted');
    return next;
  };
};

beforeAll(async () => {
  database = await createTestDatabase();
  base = { db: database.db, pinSecret: 'pin-secret-for-collision-test-0123456789', hashPassword: async () => 'unused' };
  const manager = await createUser(base, systemActor, { role: 'manager', name: 'M', email: 'm@example.test' });
  repId = (await createUser(base, systemActor, { role: 'rep', name: 'R', email: 'r@example.test', managerId: manager.id })).id;
  const persona = await createPersona({ db: database.db, personaDefaults: { llmModel: 'l', voiceId: 'v' } }, systemActor, {
    name: 'P', role: 'CFO', company: 'C', personality: 'p', openingLine: 'Hello.',
  });
  scenarioId = (
    await createScenario(base, systemActor, {
      title: 'S', objective: 'o', context: 'c', personaId: persona.id, rubric: [{ id: 'a', name: 'A', weight: 1 }],
    })
  ).id;
});

afterAll(async () => {
  await database?.close();
});

it('draws a new PIN when the first one collides with a live assignment, and reuses a revoked one', async () => {
  const first = await createAssignment({ ...base, generatePin: scripted('111111') }, systemActor, { scenarioId, repId });
  expect(first.pin).toBe('111111');

  const second = await createAssignment({ ...base, generatePin: scripted('111111', '111111', '222222') }, systemActor, { scenarioId, repId });
  expect(second.pin).toBe('222222');

  const rotated = await rotateAssignmentPin({ ...base, generatePin: scripted('222222', '333333') }, systemActor, first.assignment.id);
  expect(rotated.pin).toBe('333333');

  await revokeAssignment(base, systemActor, second.assignment.id);
  const third = await createAssignment({ ...base, generatePin: scripted('222222') }, systemActor, { scenarioId, repId });
  expect(third.pin).toBe('222222');
});

it('gives up after a handful of collisions instead of looping', async () => {
  await expect(
    createAssignment({ ...base, generatePin: scripted('333333', '333333', '333333', '333333', '333333', '444444') }, systemActor, { scenarioId, repId }),
  ).rejects.toThrow();
});
