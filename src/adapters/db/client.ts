import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import * as schema from './schema.js';
import { runTransaction } from './transaction.js';

export type Database = NodePgDatabase<typeof schema>;

export interface DatabaseHandle {
  db: Database;
  pool: pg.Pool;
  /** True when a trivial query succeeds; used by health checks. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

/** How long anything may wait on the database; config.ts holds the production values (DB_*). */
export interface DatabaseTimeouts {
  /** Waiting for a pooled connection, including opening a new one. */
  connectionTimeoutMs: number;
  /** Server-side limit on one statement. */
  statementTimeoutMs: number;
  /** Server-side limit on a transaction left open with nothing running (its locks are then freed). */
  idleInTransactionTimeoutMs: number;
}

export const DEFAULT_DATABASE_TIMEOUTS: Readonly<DatabaseTimeouts> = Object.freeze({
  connectionTimeoutMs: 5_000,
  statementTimeoutMs: 30_000,
  idleInTransactionTimeoutMs: 60_000,
});

/**
 * Past the server's statement timeout the server itself has gone silent (a partition, a hung
 * host): the client gives up after the statement timeout plus this margin (at most 5 s).
 */
const silentServerMarginMs = (statementTimeoutMs: number) => Math.min(5_000, statementTimeoutMs);

export function createDatabase(url: string, options: { max?: number } & Partial<DatabaseTimeouts> = {}): DatabaseHandle {
  const { max = 10, ...overrides } = options;
  const timeouts: DatabaseTimeouts = { ...DEFAULT_DATABASE_TIMEOUTS, ...overrides };
  const pool = new pg.Pool({
    connectionString: url,
    max,
    connectionTimeoutMillis: timeouts.connectionTimeoutMs,
    statement_timeout: timeouts.statementTimeoutMs,
    idle_in_transaction_session_timeout: timeouts.idleInTransactionTimeoutMs,
    query_timeout: timeouts.statementTimeoutMs + silentServerMarginMs(timeouts.statementTimeoutMs),
    keepAlive: true,
  });
  // A connection lost while idle (pool 'error') or while checked out (client 'error', with the
  // query in flight rejecting on its own) must not crash the process; the pool replaces it.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
  const db = drizzle(pool, { schema });
  // Every transaction in the codebase, including code written later, goes through the one helper
  // that always gives its connection back (see transaction.ts).
  db.transaction = (fn, config) => runTransaction(pool, fn, config);
  return {
    db,
    pool,
    async ping() {
      try {
        await pool.query('select 1');
        return true;
      } catch {
        return false;
      }
    },
    close: () => pool.end(),
  };
}

// Whether an error means "the database is unreachable" is answered in pg_errors.ts.
