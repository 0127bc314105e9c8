import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import type { Database } from './client.js';

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

export async function applyMigrations(db: Database): Promise<void> {
  await migrate(db, { migrationsFolder });
}
