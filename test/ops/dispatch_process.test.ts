// `npm run start:dispatch` as production runs it: the real process on an external DATABASE_URL
// (no embedded PostgreSQL), with /healthz, /readyz and /metrics wired by src/main.ts.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { freePort } from '../support/ports.js';
import { startEntry } from '../support/process.js';

let database: TestDatabase;
const dataDir = mkdtempSync(join(tmpdir(), 'practice-line-dispatch-'));

beforeAll(async () => {
  database = await createTestDatabase();
});

afterAll(async () => {
  await database?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('dispatch service process', () => {
  it('serves /readyz (LiveKit skipped without keys) and /metrics, then stops cleanly', async () => {
    const port = await freePort();
    const app = startEntry('src/main.ts', {
      DATABASE_URL: database.url,
      DATA_DIR: dataDir,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      NODE_ENV: 'production',
    });
    try {
      await app.waitForOutput(/dispatch service listening/, 120_000);
      const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
      const body = (await ready.json()) as { status: string; checks: Record<string, { state: string }> };
      expect(ready.status, JSON.stringify(body)).toBe(200);
      expect(Object.fromEntries(Object.entries(body.checks).map(([k, v]) => [k, v.state]))).toEqual({ database: 'ok', livekit: 'skipped', postCallQueue: 'ok', agent: 'skipped' });
      const metrics = await fetch(`http://127.0.0.1:${port}/metrics`);
      expect(metrics.status).toBe(200);
      const text = await metrics.text();
      expect(text).toContain('practice_line_calls{status="completed"} 0');
      expect(text).toContain('practice_line_email_queue_depth 0');
      expect(text).toMatch(/practice_line_process_resident_memory_bytes \d+/);
      // Probes and scrapes every few seconds must not flood the request log.
      expect(app.stdout()).not.toMatch(/"url":"\/(readyz|metrics)"/);
    } finally {
      app.child.kill('SIGTERM');
      const code = await app.exited;
      expect(code, app.stdout().slice(-3000) + app.stderr().slice(-2000)).toBe(0);
    }
  });
});
