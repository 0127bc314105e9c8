import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assignments, calls, emailDeliveries, personas, scenarios, turns, users } from '../../src/adapters/db/schema.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database?.close();
});

/** Postgres error code of a rejected promise (drizzle wraps driver errors in `cause`). */
async function pgCode(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
  } catch (error) {
    const withCode = error as { code?: string; cause?: { code?: string } };
    return withCode.cause?.code ?? withCode.code;
  }
  return undefined;
}

async function makeCall() {
  const { db } = database;
  const [rep] = await db.insert(users).values({ role: 'rep', name: 'Rita Rep', email: `rita-${Math.random()}@x.test` }).returning();
  const [persona] = await db
    .insert(personas)
    .values({ name: 'P', role: 'CFO', company: 'C', personality: 'p', openingLine: 'Hi', voiceId: 'v', llmModel: 'm' })
    .returning();
  const [scenario] = await db
    .insert(scenarios)
    .values({ title: 'S', objective: 'o', context: 'c', personaId: persona!.id, rubric: [] })
    .returning();
  const [call] = await db
    .insert(calls)
    .values({ path: 'twilio', roomName: `room-${Math.random()}`, repId: rep!.id, scenarioId: scenario!.id, personaId: persona!.id })
    .returning();
  return { rep: rep!, scenario: scenario!, call: call! };
}

describe('schema from the real migrations', () => {
  it('creates every table of the data model', async () => {
    const result = await database.db.execute<{ table_name: string }>(
      sql`select table_name from information_schema.tables where table_schema = 'public' order by table_name`,
    );
    expect(result.rows.map((row) => row.table_name)).toEqual([
      'api_tokens',
      'assignments',
      'audit_log',
      'calls',
      'email_deliveries',
      'login_throttle',
      'personas',
      'pin_attempts',
      'recordings',
      'scenario_stages',
      'scenarios',
      'scorecards',
      'sessions',
      'sign_in_tokens',
      'turn_metrics',
      'turns',
      'users',
    ]);
  });

  it('starts a call in dispatching and keeps one turn per (call, seq)', async () => {
    const { call } = await makeCall();
    expect(call.status).toBe('dispatching');
    const turn = { callId: call.id, seq: 1, speaker: 'rep' as const, text: 'hello', startedAt: new Date(), endedAt: new Date() };
    await database.db.insert(turns).values(turn);
    expect(await pgCode(database.db.insert(turns).values({ ...turn, text: 'again' }))).toBe('23505');
  });

  it('lets two live assignments never share a PIN hash, but a revoked one may', async () => {
    const { rep, scenario } = await makeCall();
    const base = { scenarioId: scenario.id, repId: rep.id, pinHash: 'a'.repeat(64) };
    const [first] = await database.db.insert(assignments).values(base).returning();
    expect(await pgCode(database.db.insert(assignments).values(base))).toBe('23505');
    await database.db.update(assignments).set({ revokedAt: new Date() }).where(sql`id = ${first!.id}`);
    await expect(database.db.insert(assignments).values(base)).resolves.toBeDefined();
  });

  it('rejects a pass mark outside 0-100', async () => {
    const { rep, scenario } = await makeCall();
    const insert = database.db.insert(assignments).values({ scenarioId: scenario.id, repId: rep.id, pinHash: 'b'.repeat(64), passMark: 101 });
    expect(await pgCode(insert)).toBe('23514');
  });

  it('allows one email delivery row per (call, recipient)', async () => {
    const { call } = await makeCall();
    await database.db.insert(emailDeliveries).values({ callId: call.id, recipient: 'rep@x.test' });
    expect(await pgCode(database.db.insert(emailDeliveries).values({ callId: call.id, recipient: 'rep@x.test' }))).toBe('23505');
  });

  it('treats e-mail addresses as unique regardless of case', async () => {
    await database.db.insert(users).values({ role: 'manager', name: 'M', email: 'Case@X.test' });
    expect(await pgCode(database.db.insert(users).values({ role: 'manager', name: 'M2', email: 'case@x.test' }))).toBe('23505');
  });
});
