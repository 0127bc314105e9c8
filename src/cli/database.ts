// How the admin CLI reaches the same database as the app.
//
// - DATABASE_URL set: connect there and apply migrations, exactly as the app does.
// - Otherwise the embedded PostgreSQL in DATA_DIR/postgres. A running `npm start` owns that folder
//   (postmaster.pid names a live server), and a second server cannot start on it. So the CLI
//   attaches to the running server instead: loopback, the port recorded in postmaster.pid (the app
//   started it on EMBEDDED_PG_PORT), and the password from DATA_DIR/secrets.json, the file the app
//   itself created. It does not migrate in that case: the running app already did, and migrating
//   under it is the app's business, not the CLI's.
// - When nothing runs, the CLI starts the embedded server itself (and migrates), then stops it on exit.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { bootstrapDatabase, DatabaseUnavailableError } from '../adapters/db/bootstrap.js';
import { createDatabase, type DatabaseHandle } from '../adapters/db/client.js';
import type { Logger } from '../adapters/logger.js';

/** The database name bootstrap.ts creates inside the embedded server. */
const EMBEDDED_DATABASE = 'practice_line';

export interface CliDatabase extends DatabaseHandle {
  /** How we got here, for --verbose and error messages. */
  mode: 'url' | 'attached' | 'started';
  shutdown(): Promise<void>;
}

export interface RunningEmbedded {
  pid: number;
  port: number;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * postmaster.pid lines: 1 pid, 2 data dir, 3 start time, 4 port, ... (PostgreSQL's
 * src/include/utils/pidfile.h). A stale file from a crash names a dead pid and is ignored.
 */
export async function findRunningEmbedded(dataDir: string): Promise<RunningEmbedded | null> {
  const lockFile = join(resolve(dataDir), 'postgres', 'postmaster.pid');
  if (!existsSync(lockFile)) return null;
  let lines: string[];
  try {
    lines = (await readFile(lockFile, 'utf8')).split('\n');
  } catch {
    return null;
  }
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!Number.isInteger(pid) || pid <= 0 || !processAlive(pid)) return null;
  if (!Number.isInteger(port) || port <= 0) return null;
  return { pid, port };
}

export async function openCliDatabase(options: {
  databaseUrl: string | undefined;
  dataDir: string;
  embeddedPort: number;
  embeddedPassword: string;
  logger: Logger;
}): Promise<CliDatabase> {
  if (!options.databaseUrl) {
    const running = await findRunningEmbedded(options.dataDir);
    if (running) {
      const url = `postgresql://postgres:${encodeURIComponent(options.embeddedPassword)}@127.0.0.1:${running.port}/${EMBEDDED_DATABASE}`;
      const handle = createDatabase(url, { max: 2 });
      if (!(await handle.ping())) {
        await handle.close();
        throw new DatabaseUnavailableError(
          `The embedded database of a running Practice Line (postgres pid ${running.pid}, port ${running.port}) did not accept our connection; is ${join(options.dataDir, 'secrets.json')} the one it started with?`,
        );
      }
      options.logger.debug({ port: running.port, pid: running.pid }, 'attached to the running embedded database');
      return { ...handle, mode: 'attached', shutdown: () => handle.close() };
    }
  }
  const runtime = await bootstrapDatabase(options);
  return { ...runtime, mode: runtime.embedded ? 'started' : 'url', shutdown: () => runtime.shutdown() };
}
