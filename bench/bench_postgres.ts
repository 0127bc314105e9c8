// What every bench that needs a database starts with: a throw-away embedded PostgreSQL in a
// temporary directory, and a main that exits with its outcome (the worlds a bench starts keep
// handles open, so it exits explicitly).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from '../src/adapters/db/embedded.js';
import { freePort } from '../test/support/ports.js';

export interface BenchPostgres {
  pg: EmbeddedPostgresHandle;
  /** The server's data directory (its postmaster.pid names the server process). */
  pgDir: string;
  /** Stops the server and removes its directory. */
  stop(): Promise<void>;
}

export async function startBenchPostgres(name: string): Promise<BenchPostgres> {
  const dataDir = await mkdtemp(join(tmpdir(), `practice-line-bench-${name}-`));
  const pgDir = join(dataDir, 'pg');
  const pg = await startEmbeddedPostgres({ dataDir: pgDir, port: await freePort(), password: 'bench', persistent: false });
  return {
    pg,
    pgDir,
    async stop() {
      await pg.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export function runBench(main: () => Promise<void>): void {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
