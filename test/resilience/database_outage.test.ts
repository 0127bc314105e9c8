// A database that stops, or goes silent, must never hang the service: every wait is bounded by the
// pool's timeouts, every failed transaction gives its connection back, and the same process serves
// again as soon as the database returns. The database is the real test server behind a TCP proxy
// the test switches between up, refusing (a stopped server) and silent (a partition).
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, type DatabaseHandle } from '../../src/adapters/db/client.js';
import { personas } from '../../src/adapters/db/schema.js';
import { hashPassword } from '../../src/adapters/password.js';
import { createApiToken } from '../../src/app/api_tokens.js';
import { createUser } from '../../src/app/users.js';
import { systemActor } from '../../src/domain/access.js';
import { createHttpApp } from '../../src/http/app.js';
import { listen, type RunningServer } from '../../src/http/server.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { startFaultProxy, type FaultProxy } from '../support/fault_proxy.js';

const PIN_SECRET = 'test-pin-secret-0123456789abcdef0123456789';
// Short limits so the test is quick; production's come from DB_* in config.ts.
const timeouts = { connectionTimeoutMs: 1_000, statementTimeoutMs: 1_000, idleInTransactionTimeoutMs: 5_000 };
// The client gives a silent server the statement timeout plus up to 5 s (client.ts), here 2 s.
const LONGEST_WAIT_MS = 2 * timeouts.statementTimeoutMs + timeouts.connectionTimeoutMs + 1_000;

let database: TestDatabase;
let proxy: FaultProxy;

beforeAll(async () => {
  database = await createTestDatabase();
  proxy = await startFaultProxy(database.url);
});

afterAll(async () => {
  await proxy?.close();
  await database?.close();
});

async function timed<T>(work: () => Promise<T>): Promise<{ ms: number; outcome: 'ok' | 'failed'; value?: T }> {
  const started = performance.now();
  try {
    const value = await work();
    return { ms: performance.now() - started, outcome: 'ok', value };
  } catch {
    return { ms: performance.now() - started, outcome: 'failed' };
  }
}

const oneRow = (handle: DatabaseHandle) => handle.db.transaction(async (tx) => tx.select({ id: personas.id }).from(personas).limit(1));

describe('the transaction helper behind db.transaction', () => {
  it('gives the connection back when BEGIN gets no answer, so a one-connection pool still serves afterwards', async () => {
    const handle = createDatabase(proxy.url, { max: 1, ...timeouts });
    try {
      await handle.pool.query('select 1'); // one idle connection, which BEGIN will be sent on
      proxy.set('silent');
      for (let attempt = 0; attempt < 3; attempt += 1) {
        const result = await timed(() => oneRow(handle));
        expect(result.outcome).toBe('failed');
        expect(result.ms).toBeLessThan(LONGEST_WAIT_MS);
      }
      proxy.set('up');
      const after = await timed(() => oneRow(handle));
      expect(after.outcome).toBe('ok');
      expect(after.ms).toBeLessThan(LONGEST_WAIT_MS);
      expect(handle.pool.waitingCount).toBe(0);
    } finally {
      proxy.set('up');
      await handle.close();
    }
  });

  it('never returns a connection whose ROLLBACK failed to the pool', async () => {
    const handle = createDatabase(proxy.url, { max: 1, ...timeouts });
    try {
      const failed = await timed(() =>
        handle.db.transaction(async (tx) => {
          await tx.select({ id: personas.id }).from(personas).limit(1);
          proxy.set('silent'); // the body's next statement and the ROLLBACK go unanswered
          return tx.select({ id: personas.id }).from(personas).limit(1);
        }),
      );
      expect(failed.outcome).toBe('failed');
      proxy.set('up');
      const after = await timed(() => oneRow(handle));
      expect(after.outcome).toBe('ok');
      expect(after.ms).toBeLessThan(LONGEST_WAIT_MS);
    } finally {
      proxy.set('up');
      await handle.close();
    }
  });

  it('rethrows the body error and keeps the connection when the ROLLBACK succeeds', async () => {
    const handle = createDatabase(database.url, { max: 1, ...timeouts });
    try {
      const bodyError = new Error('rejected by the use case');
      await expect(handle.db.transaction(async () => Promise.reject(bodyError))).rejects.toBe(bodyError);
      const [before] = (await handle.pool.query('select pg_backend_pid() as pid')).rows;
      await expect(handle.db.transaction(async () => Promise.reject(bodyError))).rejects.toBe(bodyError);
      const [after] = (await handle.pool.query('select pg_backend_pid() as pid')).rows;
      expect(after.pid).toBe(before.pid);
    } finally {
      await handle.close();
    }
  });

  it('sets the server-side statement and idle-in-transaction limits on every connection', async () => {
    const handle = createDatabase(database.url, { max: 1, ...timeouts });
    try {
      const { rows } = await handle.pool.query(`select current_setting('statement_timeout') as statement, current_setting('idle_in_transaction_session_timeout') as idle`);
      expect(rows[0]).toEqual({ statement: '1s', idle: '5s' });
      await expect(handle.pool.query('select pg_sleep(3)')).rejects.toThrow(/statement timeout/);
    } finally {
      await handle.close();
    }
  });
});

describe('the HTTP service while the database is down', () => {
  let handle: DatabaseHandle;
  let server: RunningServer;
  let base: string;
  let token: string;

  beforeAll(async () => {
    const deps = { db: database.db, pinSecret: PIN_SECRET, hashPassword };
    const admin = await createUser(deps, systemActor, { role: 'admin', name: 'Ada Outage', email: 'ada-outage@example.test' });
    token = (await createApiToken(deps, systemActor, { name: 'outage', userId: admin.id })).token;
    handle = createDatabase(proxy.url, { max: 4, ...timeouts });
    const app = createHttpApp({
      logger: pino({ level: 'silent' }),
      health: { pingDatabase: handle.ping, integrations: {} as never },
      managementApi: { db: handle.db, pinSecret: PIN_SECRET, hashPassword, personaDefaults: { llmModel: 'llama-test', voiceId: 'voice-test' } },
    });
    server = await listen(app, 0, '127.0.0.1');
    base = `http://127.0.0.1:${server.port}`;
  });

  afterAll(async () => {
    proxy.set('up');
    await server?.close();
    await handle?.close();
  });

  const persona = (n: number) => ({
    name: `Outage Persona ${n}`,
    role: 'CFO',
    company: 'Northwind',
    personality: 'Sceptical.',
    objections: ['No budget.'],
    openingLine: 'Yes?',
  });

  /** 16 requests at once: health checks, reads, and writes that run a transaction. */
  async function burst(round: number): Promise<{ status: number; ms: number }[]> {
    const requests = Array.from({ length: 16 }, (_, i) => {
      const started = performance.now();
      const init: RequestInit =
        i % 3 === 0
          ? {}
          : i % 3 === 1
            ? { headers: { authorization: `Bearer ${token}` } }
            : { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(persona(round * 100 + i)) };
      const path = i % 3 === 0 ? '/healthz' : '/api/personas';
      return fetch(`${base}${path}`, { ...init, signal: AbortSignal.timeout(30_000) }).then(async (res) => {
        await res.arrayBuffer();
        return { status: res.status, ms: performance.now() - started };
      });
    });
    return Promise.all(requests);
  }

  for (const fault of ['refusing', 'silent'] as const) {
    it(`answers every request within its timeout while the database is ${fault}, and recovers without a restart`, async () => {
      expect((await burst(1)).every((r) => r.status < 300)).toBe(true);

      proxy.set(fault);
      const during = await burst(2);
      // "Try again shortly", not "something broke": the health check and the API both say 503.
      expect(during.map((r) => r.status)).toEqual(during.map(() => 503));
      expect(Math.max(...during.map((r) => r.ms))).toBeLessThan(LONGEST_WAIT_MS * 2);

      proxy.set('up');
      const after = await burst(3);
      expect(after.map((r) => r.status).filter((s) => s >= 300)).toEqual([]);
      expect(Math.max(...after.map((r) => r.ms))).toBeLessThan(LONGEST_WAIT_MS);
      expect(handle.pool.waitingCount).toBe(0);
    });
  }
});
