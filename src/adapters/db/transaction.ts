import { drizzle } from 'drizzle-orm/node-postgres';
import type { PgTransactionConfig } from 'drizzle-orm/pg-core';
import type pg from 'pg';
import type { Database } from './client.js';
import * as schema from './schema.js';

/** Raw SQL on a connection, the shape pg-boss accepts as its `db` option. */
export interface SqlExecutor {
  executeSql(text: string, values?: unknown[]): Promise<{ rows: any[] }>;
}

/** drizzle's transaction handle: the same query API as the database. */
export type DrizzleTx = Parameters<Parameters<Database['transaction']>[0]>[0];

/** One open transaction, usable both through drizzle and as raw SQL (for libraries such as pg-boss). */
export interface Transaction extends SqlExecutor {
  db: DrizzleTx;
}

/**
 * THE way this codebase runs a transaction (createDatabase installs it as `db.transaction`).
 * drizzle's own pool transaction leaks its checked-out connection when BEGIN fails, and hands a
 * connection whose ROLLBACK failed back to the pool; ten such leaks and every request waits for a
 * connection for ever. Here the connection is always released, and destroyed unless drizzle
 * reports the body's own error (which it rethrows only after a successful ROLLBACK). When both
 * the body and the ROLLBACK fail, the body's error is the one thrown: it says what went wrong.
 */
export async function runTransaction<T>(
  pool: pg.Pool,
  fn: (tx: DrizzleTx, client: pg.PoolClient) => Promise<T>,
  config?: PgTransactionConfig,
): Promise<T> {
  const client = await pool.connect();
  let bodyFailed = false;
  let bodyError: unknown;
  let clean = false;
  try {
    const result = await drizzle(client, { schema }).transaction(async (tx) => {
      try {
        return await fn(tx, client);
      } catch (error) {
        bodyFailed = true;
        bodyError = error;
        throw error;
      }
    }, config);
    clean = true;
    return result;
  } catch (error) {
    clean = bodyFailed && error === bodyError;
    throw bodyFailed ? bodyError : error;
  } finally {
    client.release(clean ? undefined : true);
  }
}

/**
 * A transaction whose connection is also exposed as raw SQL, so a job can be enqueued atomically
 * with the row change that calls for it (a transactional outbox).
 */
export function withTransaction<T>(pool: pg.Pool, fn: (tx: Transaction) => Promise<T>): Promise<T> {
  return runTransaction(pool, (tx, client) => fn({ db: tx, executeSql: (text, values) => client.query(text, values) }));
}

/** The pool as a pg-boss `db`: every statement on whichever connection is free. */
export function poolExecutor(pool: pg.Pool): SqlExecutor {
  return { executeSql: (text, values) => pool.query(text, values) };
}
