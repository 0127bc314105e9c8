// GET /readyz and GET /metrics on the real HTTP app: a real database, the real pg-boss post-call
// queue, and a real livekit-server (startStack) for the LiveKit check.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/adapters/logger.js';
import { createMetricsRegistry } from '../../src/adapters/metrics.js';
import { createPostCallQueue, type PostCallQueue } from '../../src/adapters/queue/post_call_queue.js';
import { databaseReadiness, livekitReadiness, postCallQueueReadiness } from '../../src/adapters/readiness.js';
import { createHttpApp } from '../../src/http/app.js';
import type { ReadinessCheck } from '../../src/http/ops_router.js';
import { listen } from '../../src/http/server.js';
import { startStack, type Stack } from '../../sip/stack/stack.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { freePort } from '../support/ports.js';

const logger = createLogger({ level: 'silent', redactPii: false });
let database: TestDatabase;
let queue: PostCallQueue;
let queueRunning = false;
let stack: Stack;

beforeAll(async () => {
  database = await createTestDatabase();
  queue = createPostCallQueue({ pool: database.pool, logger });
  await queue.start();
  queueRunning = true;
  stack = await startStack();
}, 180_000);

afterAll(async () => {
  await queue?.stop(5_000);
  await stack?.stop();
  await database?.close();
});

async function serve(livekit: ReadinessCheck) {
  const app = createHttpApp({
    logger,
    health: { pingDatabase: database.ping, integrations: {} as never },
    ops: {
      checks: {
        database: databaseReadiness(database.ping),
        livekit,
        postCallQueue: postCallQueueReadiness(database.pool, () => queueRunning),
      },
      metrics: createMetricsRegistry({ pool: database.pool, processMetrics: false }),
      checkTimeoutMs: 10_000,
    },
  });
  return listen(app, 0, '127.0.0.1');
}

const keysOf = (s: Stack) => ({ url: s.livekitUrl, apiKey: s.apiKey, apiSecret: s.apiSecret });

describe('GET /readyz', () => {
  it('is ready with the database up, the real livekit-server reachable and the queue running', async () => {
    const http = await serve(livekitReadiness(keysOf(stack)));
    try {
      const res = await fetch(`http://127.0.0.1:${http.port}/readyz`);
      expect(res.status).toBe(200);
      const body = (await res.json()) as { status: string; checks: Record<string, { state: string }> };
      expect(body.status).toBe('ready');
      expect(Object.fromEntries(Object.entries(body.checks).map(([k, v]) => [k, v.state]))).toEqual({ database: 'ok', livekit: 'ok', postCallQueue: 'ok' });
    } finally {
      await http.close();
    }
  });

  it('is not ready when LiveKit is unreachable or the key is wrong, and says which check failed', async () => {
    const closedPort = await freePort();
    for (const keys of [
      { url: `ws://127.0.0.1:${closedPort}`, apiKey: stack.apiKey, apiSecret: stack.apiSecret },
      { ...keysOf(stack), apiSecret: 'not-the-secret-of-this-server-0000' },
    ]) {
      const http = await serve(livekitReadiness(keys));
      try {
        const res = await fetch(`http://127.0.0.1:${http.port}/readyz`);
        expect(res.status).toBe(503);
        const body = (await res.json()) as { status: string; checks: Record<string, { state: string; detail?: string }> };
        expect(body.status).toBe('not_ready');
        expect(body.checks.livekit?.state).toBe('failing');
        expect(body.checks.livekit?.detail).toContain(keys.url);
        expect(body.checks.database?.state).toBe('ok');
        expect(JSON.stringify(body)).not.toContain(keys.apiSecret);
      } finally {
        await http.close();
      }
    }
  });

  it('skips LiveKit when it is not configured, and is not ready once the post-call worker stops', async () => {
    const http = await serve(livekitReadiness(null));
    try {
      const ready = (await (await fetch(`http://127.0.0.1:${http.port}/readyz`)).json()) as { checks: Record<string, { state: string }> };
      expect(ready.checks.livekit?.state).toBe('skipped');
      queueRunning = false;
      const res = await fetch(`http://127.0.0.1:${http.port}/readyz`);
      expect(res.status).toBe(503);
      const body = (await res.json()) as { checks: Record<string, { state: string; detail?: string }> };
      expect(body.checks.postCallQueue).toMatchObject({ state: 'failing', detail: 'post-call worker not running' });
    } finally {
      queueRunning = true;
      await http.close();
    }
  });
});

describe('GET /metrics', () => {
  it('exports calls by status, the turn latency histogram, provider errors and the email queue depth from the database', async () => {
    const q = (text: string, values: unknown[] = []) => database.pool.query(text, values);
    const call = async (status: string, errors: unknown[] = []) =>
      (
        await q(`insert into calls (path, status, room_name, provider_errors) values ('twilio', $1, $2, $3::jsonb) returning id`, [
          status,
          `room-${Math.random().toString(36).slice(2)}`,
          JSON.stringify(errors),
        ])
      ).rows[0].id as string;
    const done = await call('completed', [
      { at: new Date().toISOString(), provider: 'groq', message: '503' },
      { at: new Date().toISOString(), provider: 'groq', message: 'timeout' },
    ]);
    await call('completed');
    await call('in_progress', [{ at: new Date().toISOString(), provider: 'elevenlabs', message: 'closed' }]);
    await call('failed');
    let seq = 0;
    for (const ms of [400, 1200, 3000]) {
      const turn = await q(
        `insert into turns (call_id, seq, speaker, text, started_at, ended_at) values ($1, $2, 'persona', 'hello', now(), now()) returning id`,
        [done, seq++],
      );
      await q('insert into turn_metrics (turn_id, end_to_end_ms) values ($1, $2)', [turn.rows[0].id, ms]);
    }
    await q(`insert into email_deliveries (call_id, recipient, status) values ($1, 'rep@example.com', 'sent'), ($1, 'mgr@example.com', 'failed')`, [done]);
    // Delayed so the job stays queued (this test runs no worker for it).
    expect(await queue.enqueue(done, undefined, 3600)).toBe(true);

    const http = await serve(livekitReadiness(null));
    try {
      const res = await fetch(`http://127.0.0.1:${http.port}/metrics`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      const text = await res.text();
      const value = (series: string) => {
        const line = text.split('\n').find((l) => l.startsWith(`${series} `));
        if (line === undefined) throw new Error(`no series ${series} in\n${text}`);
        return Number(line.slice(series.length + 1));
      };
      expect(value('practice_line_calls{status="completed"}')).toBe(2);
      expect(value('practice_line_calls{status="in_progress"}')).toBe(1);
      expect(value('practice_line_calls{status="failed"}')).toBe(1);
      expect(value('practice_line_calls{status="ringing"}')).toBe(0);
      expect(value('practice_line_provider_errors{provider="groq"}')).toBe(2);
      expect(value('practice_line_provider_errors{provider="elevenlabs"}')).toBe(1);
      expect(value('practice_line_provider_errors{provider="twilio"}')).toBe(0);
      expect(text).toContain('# TYPE practice_line_turn_latency_seconds histogram');
      expect(value('practice_line_turn_latency_seconds_bucket{le="0.25"}')).toBe(0);
      expect(value('practice_line_turn_latency_seconds_bucket{le="0.5"}')).toBe(1);
      expect(value('practice_line_turn_latency_seconds_bucket{le="1.25"}')).toBe(2);
      expect(value('practice_line_turn_latency_seconds_bucket{le="2.5"}')).toBe(2);
      expect(value('practice_line_turn_latency_seconds_bucket{le="3"}')).toBe(3);
      expect(value('practice_line_turn_latency_seconds_bucket{le="+Inf"}')).toBe(3);
      expect(value('practice_line_turn_latency_seconds_sum')).toBeCloseTo(4.6, 6);
      expect(value('practice_line_turn_latency_seconds_count')).toBe(3);
      expect(value('practice_line_email_queue_depth')).toBe(1);
      expect(value('practice_line_email_deliveries{status="sent"}')).toBe(1);
      expect(value('practice_line_email_deliveries{status="failed"}')).toBe(1);
    } finally {
      await http.close();
    }
  });
});
