import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import type pg from 'pg';

/** Finds drizzle/ by walking up, so the same code works from src/ (tsx) and from dist/ (tsc output). */
function findMigrationsFolder(start: string): string {
  for (let dir = start; dir !== dirname(dir); dir = dirname(dir)) {
    const candidate = join(dir, 'drizzle');
    if (existsSync(join(candidate, 'meta', '_journal.json'))) return candidate;
  }
  throw new Error(`No drizzle/ migrations folder found above ${start}`);
}

/** The generated SQL in drizzle/, applied in order; drizzle records what ran in its own table. */
export const migrationsFolder = findMigrationsFolder(dirname(fileURLToPath(import.meta.url)));

/** pg_advisory_lock key held while migrating ("PLmigrat"); any 64-bit number unique to this purpose. */
export const MIGRATION_LOCK_KEY = 0x504c6d6967726174n;

/**
 * Two replicas starting together (or the app and `docker compose run … npm run cli`) would both
 * create drizzle's table and apply the same migration; one fails half-way. Each takes a session
 * advisory lock on one connection and migrates on that same connection, so the second waits and
 * then finds nothing left to do.
 */
export async function applyMigrations(pool: pg.Pool): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK_KEY.toString()]);
    await migrate(drizzle(client), { migrationsFolder });
    await client.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY.toString()]);
    client.release();
  } catch (error) {
    // Closing the connection releases the session lock whatever state it was left in.
    client.release(error instanceof Error ? error : new Error(String(error)));
    throw error;
  }
}
