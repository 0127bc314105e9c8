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
import { join } from 'node:path';
import { bootstrapDatabase, DatabaseUnavailableError, EMBEDDED_DATABASE, type DatabaseOptions } from '../adapters/db/bootstrap.js';
import { createDatabase, type DatabaseHandle } from '../adapters/db/client.js';
import { findRunningEmbedded } from '../adapters/db/embedded.js';


export interface CliDatabase extends DatabaseHandle {
  /** How we got here, for --verbose and error messages. */
  mode: 'url' | 'attached' | 'started';
  shutdown(): Promise<void>;
}

export async function openCliDatabase(options: DatabaseOptions): Promise<CliDatabase> {
  if (!options.databaseUrl) {
    const running = await findRunningEmbedded(join(options.dataDir, 'postgres'));
    if (running) {
      const url = `postgresql://postgres:${encodeURIComponent(options.embeddedPassword)}@127.0.0.1:${running.port}/${EMBEDDED_DATABASE}`;
      const handle = createDatabase(url, { max: 2, ...options.timeouts });
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
