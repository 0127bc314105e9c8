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

const UNAVAILABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EPIPE', '57P01', '57P02', '57P03']);
const UNAVAILABLE_MESSAGES = /timeout exceeded when trying to connect|Connection terminated|Query read timeout|Client has encountered a connection error/;

/**
 * True when an error (or one of its causes) says the database could not be reached or went away,
 * rather than that a statement was wrong: edges answer those with "try again shortly" (503).
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (let current: unknown = error, depth = 0; current instanceof Error && depth < 5; depth += 1) {
    const { code } = current as { code?: unknown };
    if (typeof code === 'string' && (UNAVAILABLE_CODES.has(code) || code.startsWith('08'))) return true;
    if (UNAVAILABLE_MESSAGES.test(current.message)) return true;
    if (current instanceof AggregateError && current.errors.some((inner) => isDatabaseUnavailable(inner))) return true;
    current = current.cause;
  }
  return false;
}
