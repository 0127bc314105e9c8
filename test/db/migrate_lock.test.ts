// Two replicas starting together must not race through the migrations: applyMigrations waits for
// the migration advisory lock, and concurrent runs on an empty database all succeed, applying each
// migration once. Real PostgreSQL (the test run's server), fresh empty databases.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it, inject } from 'vitest';
import { applyMigrations, MIGRATION_LOCK_KEY, migrationsFolder } from '../../src/adapters/db/migrate.js';

const pools: pg.Pool[] = [];

async function emptyDatabase(): Promise<string> {
  const adminUrl = inject('pgAdminUrl');
  const name = `migrate_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database "${name}"`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

const pool = (url: string) => {
  const created = new pg.Pool({ connectionString: url, max: 2 });
  pools.push(created);
  return created;
};

const journalEntries = (JSON.parse(readFileSync(join(migrationsFolder, 'meta', '_journal.json'), 'utf8')) as { entries: unknown[] }).entries.length;

afterAll(async () => {
  await Promise.all(pools.map((p) => p.end()));
});

describe('migrations under an advisory lock', () => {
  it('wait while another process holds the migration lock, then apply', async () => {
    const url = await emptyDatabase();
    const holder = new pg.Client({ connectionString: url });
    await holder.connect();
    await holder.query('select pg_advisory_lock($1)', [MIGRATION_LOCK_KEY.toString()]);
    let done = false;
    const migrating = applyMigrations(pool(url)).then(() => (done = true));
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(done, 'migrated while the lock was held').toBe(false);
    await holder.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY.toString()]);
    await holder.end();
    await migrating;
    expect(done).toBe(true);
  });

  it('lets four replicas start on an empty database at once: all succeed, each migration applied once', async () => {
    const url = await emptyDatabase();
    const results = await Promise.allSettled([0, 1, 2, 3].map(() => applyMigrations(pool(url))));
    expect(results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason))).toEqual([]);
    const check = pool(url);
    const { rows } = await check.query<{ count: string }>('select count(*) from drizzle.__drizzle_migrations');
    expect(Number(rows[0]!.count)).toBe(journalEntries);
    // And no session is left holding the lock.
    const locks = await check.query(`select 1 from pg_locks where locktype = 'advisory' and database = (select oid from pg_database where datname = current_database())`);
    expect(locks.rowCount).toBe(0);
  });
});
