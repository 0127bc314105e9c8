// A fresh database per test file, built from the real migrations in drizzle/.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { createDatabase, type DatabaseHandle } from '../../src/adapters/db/client.js';
import { applyMigrations } from '../../src/adapters/db/migrate.js';

export interface TestDatabase extends DatabaseHandle {
  url: string;
  name: string;
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const adminUrl = inject('pgAdminUrl');
  const name = `test_${process.env.VITEST_POOL_ID ?? '0'}_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database "${name}"`);
  await admin.end();

  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const handle = createDatabase(url.toString(), { max: 5 });
  await applyMigrations(handle.pool);
  return { ...handle, url: url.toString(), name };
}
