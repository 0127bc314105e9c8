import { drizzle } from 'drizzle-orm/node-postgres';
import type pg from 'pg';
import type { Database } from './client.js';
import * as schema from './schema.js';

/** Raw SQL on a connection, the shape pg-boss accepts as its `db` option. */
export interface SqlExecutor {
  executeSql(text: string, values?: unknown[]): Promise<{ rows: any[] }>;
}

/** One open transaction, usable both through drizzle and as raw SQL (for libraries such as pg-boss). */
export interface Transaction extends SqlExecutor {
  db: Database;
}

/**
 * Runs `fn` in a transaction on one pooled connection. Unlike drizzle's own `db.transaction`, the
 * connection is also exposed as raw SQL, so a job can be enqueued atomically with the row change
 * that calls for it (a transactional outbox).
 */
export async function withTransaction<T>(pool: pg.Pool, fn: (tx: Transaction) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken = false;
  try {
    await client.query('begin');
    const result = await fn({ db: drizzle(client, { schema }), executeSql: (text, values) => client.query(text, values) });
    await client.query('commit');
    return result;
  } catch (error) {
    await client.query('rollback').catch(() => {
      broken = true;
    });
    throw error;
  } finally {
    // A connection whose rollback may have failed is not returned to the pool.
    client.release(broken ? true : undefined);
  }
}

/** The pool as a pg-boss `db`: every statement on whichever connection is free. */
export function poolExecutor(pool: pg.Pool): SqlExecutor {
  return { executeSql: (text, values) => pool.query(text, values) };
}
