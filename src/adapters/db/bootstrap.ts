// Brings the database up for a process: the configured server, or the embedded one when
// DATABASE_URL is unset; then applies the migrations.
import { join } from 'node:path';
import type { Logger } from '../logger.js';
import { createDatabase, type DatabaseHandle, type DatabaseTimeouts } from './client.js';
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from './embedded.js';
import { applyMigrations } from './migrate.js';

export class DatabaseUnavailableError extends Error {
  readonly code = 'database_unavailable';
}

export interface DatabaseRuntime extends DatabaseHandle {
  embedded: boolean;
  /** Closes the pool, then stops the embedded server if we started it. */
  shutdown(): Promise<void>;
}

export const EMBEDDED_DATABASE = 'practice_line';

function describeTarget(url: string): string {
  const parsed = new URL(url);
  return `${parsed.hostname}:${parsed.port || 5432}${parsed.pathname}`;
}

async function connectAndMigrate(url: string, timeouts: Partial<DatabaseTimeouts>): Promise<DatabaseHandle> {
  const handle = createDatabase(url, timeouts);
  try {
    await handle.pool.query('select 1');
  } catch (error) {
    await handle.close();
    const reason = error instanceof Error ? error.message : String(error);
    throw new DatabaseUnavailableError(`Cannot reach the database at ${describeTarget(url)}: ${reason}`);
  }
  await applyMigrations(handle.pool);
  return handle;
}

/** Where a process finds its database (config.ts `databaseOptions` builds it from the config). */
export interface DatabaseOptions {
  /** Unset: the embedded server in `dataDir`. */
  databaseUrl: string | undefined;
  dataDir: string;
  embeddedPort: number;
  embeddedPassword: string;
  logger: Logger;
  timeouts?: Partial<DatabaseTimeouts>;
}

export async function bootstrapDatabase(options: DatabaseOptions): Promise<DatabaseRuntime> {
  const timeouts = options.timeouts ?? {};
  if (options.databaseUrl) {
    const handle = await connectAndMigrate(options.databaseUrl, timeouts);
    return { ...handle, embedded: false, shutdown: () => handle.close() };
  }

  options.logger.info({ dataDir: options.dataDir, port: options.embeddedPort }, 'starting embedded PostgreSQL');
  const server: EmbeddedPostgresHandle = await startEmbeddedPostgres({
    dataDir: join(options.dataDir, 'postgres'),
    port: options.embeddedPort,
    password: options.embeddedPassword,
    onLog: (message) => options.logger.debug({ postgres: message.trim() }, 'embedded postgres'),
  });
  try {
    const admin = createDatabase(server.url());
    const exists = await admin.pool.query('select 1 from pg_database where datname = $1', [EMBEDDED_DATABASE]);
    if (exists.rowCount === 0) await server.createDatabase(EMBEDDED_DATABASE);
    await admin.close();
    const handle = await connectAndMigrate(server.url(EMBEDDED_DATABASE), timeouts);
    return {
      ...handle,
      embedded: true,
      async shutdown() {
        await handle.close();
        await server.stop();
      },
    };
  } catch (error) {
    await server.stop();
    throw error;
  }
}
