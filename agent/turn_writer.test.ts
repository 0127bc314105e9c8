import { createServer, type Server, type Socket, connect } from 'node:net';
import { eq } from 'drizzle-orm';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, type DatabaseHandle } from '../src/adapters/db/client.js';
import { calls, turnMetrics, turns } from '../src/adapters/db/schema.js';
import { createTestDatabase, type TestDatabase } from '../test/support/db.js';
import { createCallStore } from './call_store.js';
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

describe('createCallStore', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await database.close();
  });

  it('marks the call answered, records provider errors, and closes it once with usage and cost', async () => {
    const [row] = await database.db.insert(calls).values({ path: 'twilio', roomName: 'room-store', status: 'dispatching' }).returning({ id: calls.id });
    const callId = row!.id;
    const store = createCallStore(database.db);
    await store.markAnswered(callId, new Date('2026-01-01T10:00:00Z'));
    await store.recordProviderError(callId, { at: new Date('2026-01-01T10:00:30Z'), provider: 'groq', message: 'llm 503' });
    await store.recordProviderError(callId, { at: new Date('2026-01-01T10:00:40Z'), provider: 'elevenlabs', message: 'tts closed' });
    const usage = { sttAudioSeconds: 20, llmPromptTokens: 3000, llmCompletionTokens: 200, ttsCharacters: 400, callSeconds: 95 };
    await store.recordEnd(callId, { at: new Date('2026-01-01T10:01:35Z'), status: 'completed', reason: 'caller_hung_up', usage, estimatedCostUsd: 0.0512 });
    // A second close (e.g. a late shutdown path) must not overwrite the first.
    await store.recordEnd(callId, { at: new Date('2026-01-01T10:05:00Z'), status: 'failed', reason: 'late', usage, estimatedCostUsd: 0.0512 });

    const [call] = await database.db.select().from(calls).where(eq(calls.id, callId));
    expect(call).toMatchObject({ status: 'completed', endReason: 'caller_hung_up', durationSeconds: 95, usage, estimatedCostUsd: '0.0512' });
    expect(call?.answeredAt).toEqual(new Date('2026-01-01T10:00:00Z'));
    expect(call?.providerErrors.map((error) => error.provider)).toEqual(['groq', 'elevenlabs']);
  });
});
