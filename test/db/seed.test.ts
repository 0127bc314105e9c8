import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemoData, type DemoCredentials } from '../../src/adapters/db/seed.js';
import { assignments, personas, scenarios, users } from '../../src/adapters/db/schema.js';
import { hashPassword, verifyPassword } from '../../src/adapters/password.js';
import { pinMatches } from '../../src/domain/pin.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';

const pinSecret = 'p'.repeat(64);
let database: TestDatabase;
let credentials: DemoCredentials | null;

beforeAll(async () => {
  database = await createTestDatabase();
  credentials = await seedDemoData({ db: database.db, pinSecret, hashPassword, llmModel: 'llama-test' });
});
afterAll(async () => {
  await database?.close();
});

describe('demo data', () => {
  it('creates an admin, a manager with two reps, two personas, two scenarios and an assignment per rep', async () => {
    const rows = await database.db.select().from(users);
    expect(rows.map((row) => row.role).sort()).toEqual(['admin', 'manager', 'rep', 'rep']);
    const manager = rows.find((row) => row.role === 'manager')!;
    expect(rows.filter((row) => row.role === 'rep').every((rep) => rep.managerId === manager.id)).toBe(true);
    expect(await database.db.select().from(personas)).toHaveLength(2);
    const scenarioRows = await database.db.select().from(scenarios);
    expect(scenarioRows).toHaveLength(2);
    expect(scenarioRows.every((row) => row.rubric.length >= 3)).toBe(true);
    expect(await database.db.select().from(assignments)).toHaveLength(2);
  });

  it('returns working credentials once, storing only hashes', async () => {
    expect(credentials).not.toBeNull();
    const admin = (await database.db.select().from(users)).find((row) => row.role === 'admin')!;
    expect(admin.passwordHash).toMatch(/^\$argon2id\$/);
    expect(await verifyPassword(admin.passwordHash!, credentials!.admin.password)).toBe(true);

    const stored = await database.db.select().from(assignments);
    for (const { pin } of credentials!.pins) {
      expect(pin).toMatch(/^\d{6}$/);
      expect(stored.some((row) => pinMatches(pinSecret, pin, row.pinHash))).toBe(true);
    }
  });

  it('never stores a PIN or a password in plain text anywhere in the database', async () => {
    const dump = await database.pool.query(
      `select string_agg(t::text, ' ') as text from (
         select row_to_json(u)::text as t from users u union all
         select row_to_json(a)::text from assignments a union all
         select row_to_json(l)::text from audit_log l) rows`,
    );
    const text = String(dump.rows[0].text);
    for (const { pin } of credentials!.pins) expect(text).not.toContain(pin);
    expect(text).not.toContain(credentials!.admin.password);
    expect(text).not.toContain(credentials!.manager.password);
  });

  it('seeds only an empty database, even when two processes race', async () => {
    const again = await Promise.all([
      seedDemoData({ db: database.db, pinSecret, hashPassword, llmModel: 'llama-test' }),
      seedDemoData({ db: database.db, pinSecret, hashPassword, llmModel: 'llama-test' }),
    ]);
    expect(again).toEqual([null, null]);
    expect(await database.db.select().from(users)).toHaveLength(4);
  });

  it('lets two fresh processes race on an empty database and seed exactly once', async () => {
    const fresh = await createTestDatabase();
    try {
      const results = await Promise.all([
        seedDemoData({ db: fresh.db, pinSecret, hashPassword, llmModel: 'm' }),
        seedDemoData({ db: fresh.db, pinSecret, hashPassword, llmModel: 'm' }),
      ]);
      expect(results.filter((result) => result !== null)).toHaveLength(1);
      expect(await fresh.db.select().from(users)).toHaveLength(4);
    } finally {
      await fresh.close();
    }
  });
});
