import { createServer, type Server, type Socket, connect } from 'node:net';
import { eq } from 'drizzle-orm';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, type DatabaseHandle } from '../src/adapters/db/client.js';
import { calls, turnMetrics, turns } from '../src/adapters/db/schema.js';
import { createTestDatabase, type TestDatabase } from '../test/support/db.js';
import { createTurnWriter } from './turn_writer.js';
import type { TurnRecord } from './turns.js';

/** A TCP proxy in front of PostgreSQL that the test can cut, like a network blip between agent and database. */
async function startCuttableProxy(target: URL): Promise<{ port: number; cut(): void; restore(): void; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  let up = true;
  const server: Server = createServer((client) => {
    if (!up) {
      client.destroy();
      return;
    }
    const upstream = connect(Number(target.port), target.hostname);
    sockets.add(client).add(upstream);
    client.pipe(upstream).pipe(client);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('proxy did not bind');
  return {
    port: address.port,
    cut() {
      up = false;
      for (const socket of sockets) socket.destroy();
      sockets.clear();
    },
    restore() {
      up = true;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
const turn = (speaker: 'rep' | 'persona', text: string, at: number, metrics = false): TurnRecord => ({
  speaker,
  text,
  startedAt: new Date(at),
  endedAt: new Date(at + 1500),
  interrupted: false,
  ...(metrics ? { metrics: { endOfUtteranceDelayMs: 500, sttMs: 120, llmTtftMs: 200, ttsTtfbMs: 150, endToEndMs: 1000, speculativeLeadMs: 240 } } : {}),
});

describe('createTurnWriter', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await database.close();
  });

  async function newCall(): Promise<string> {
    const [row] = await database.db.insert(calls).values({ path: 'twilio', roomName: `room-${Math.random().toString(36).slice(2)}` }).returning({ id: calls.id });
    return row!.id;
  }

  it('writes turns in order with their metrics', async () => {
    const callId = await newCall();
    const writer = createTurnWriter({ db: database.db, logger, callId });
    expect(writer.record(turn('persona', 'Diane Carter speaking.', 1_000))).toBe(1);
    expect(writer.record(turn('rep', 'Hi Diane, it is Riley.', 3_000))).toBe(2);
    expect(writer.record(turn('persona', 'What is this about?', 5_000, true))).toBe(3);
    expect(await writer.drain(10_000)).toBe(0);

    const rows = await database.db.select().from(turns).where(eq(turns.callId, callId)).orderBy(turns.seq);
    expect(rows.map((row) => [row.seq, row.speaker, row.text])).toEqual([
      [1, 'persona', 'Diane Carter speaking.'],
      [2, 'rep', 'Hi Diane, it is Riley.'],
      [3, 'persona', 'What is this about?'],
    ]);
    const metrics = await database.db.select().from(turnMetrics).where(eq(turnMetrics.turnId, rows[2]!.id));
    expect(metrics[0]).toMatchObject({ endOfUtteranceDelayMs: 500, sttMs: 120, llmTtftMs: 200, ttsTtfbMs: 150, endToEndMs: 1000, speculativeLeadMs: 240 });
  });

  it('holds turns until the call id is known (direct-trunk path)', async () => {
    const callId = await newCall();
    const writer = createTurnWriter({ db: database.db, logger });
    writer.record(turn('persona', 'Please enter your PIN.', 1_000));
    expect(await writer.drain(200)).toBe(1);
    writer.setCallId(callId);
    expect(await writer.drain(10_000)).toBe(0);
    expect(await database.db.select().from(turns).where(eq(turns.callId, callId))).toHaveLength(1);
  });

  it('continues the sequence of a call whose earlier job wrote turns (a re-dispatched job)', async () => {
    const callId = await newCall();
    const first = createTurnWriter({ db: database.db, logger, callId });
    first.record(turn('persona', 'Diane Carter speaking.', 1_000));
    first.record(turn('rep', 'Hi Diane, it is Riley.', 2_000));
    expect(await first.drain(10_000)).toBe(0);

    // The first job died; the call is re-dispatched to a new job with a new writer.
    const second = createTurnWriter({ db: database.db, logger, callId });
    second.record(turn('persona', 'Sorry, the line dropped. Where were we?', 5_000));
    second.record(turn('rep', 'Your month-end close.', 6_000));
    expect(await second.drain(10_000)).toBe(0);

    const rows = await database.db.select().from(turns).where(eq(turns.callId, callId)).orderBy(turns.seq);
    expect(rows.map((row) => [row.seq, row.text])).toEqual([
      [1, 'Diane Carter speaking.'],
      [2, 'Hi Diane, it is Riley.'],
      [3, 'Sorry, the line dropped. Where were we?'],
      [4, 'Your month-end close.'],
    ]);
  });

  it('buffers while the database is unreachable and flushes when it is back, without blocking record()', async () => {
    const callId = await newCall();
    const proxy = await startCuttableProxy(new URL(database.url));
    const viaProxy = new URL(database.url);
    viaProxy.port = String(proxy.port);
    const handle: DatabaseHandle = createDatabase(viaProxy.toString(), { max: 2 });
    // As in the agent: a connection dying while checked out must not crash the process.
    handle.pool.on('connect', (client) => client.on('error', () => undefined));
    try {
      const writer = createTurnWriter({ db: handle.db, logger, callId, retryDelayMs: 50, maxRetryDelayMs: 200, attemptTimeoutMs: 2000 });
      writer.record(turn('persona', 'First.', 1_000));
      expect(await writer.drain(10_000)).toBe(0);

      proxy.cut();
      const started = performance.now();
      writer.record(turn('rep', 'Second.', 2_000));
      writer.record(turn('persona', 'Third.', 3_000, true));
      expect(performance.now() - started).toBeLessThan(50);
      expect(await writer.drain(1_000)).toBe(2);

      proxy.restore();
      expect(await writer.drain(20_000)).toBe(0);
      const rows = await database.db.select().from(turns).where(eq(turns.callId, callId)).orderBy(turns.seq);
      expect(rows.map((row) => row.text)).toEqual(['First.', 'Second.', 'Third.']);
    } finally {
      await handle.close().catch(() => undefined);
      await proxy.close();
    }
  });
});
