// `npm start` as a newcomer runs it: a real process, the embedded PostgreSQL, the demo seed, /healthz.
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/ports.js';
import { startEntry, type RunningProcess } from '../support/process.js';

const dataDir = join(tmpdir(), `practice-line-start-${process.pid}-${Date.now()}`);
let env: Record<string, string>;

const start = (extra: Record<string, string> = {}) => startEntry('src/main.ts', { ...env, ...extra }, ['--with-agent']);

async function healthz(port: string) {
  const response = await fetch(`http://127.0.0.1:${port}/healthz`);
  return { status: response.status, body: (await response.json()) as { status: string; database: { reachable: boolean }; integrations: Record<string, { configured: boolean; missing: string[] }> } };
}

async function stop(app: RunningProcess): Promise<number | null> {
  app.child.kill('SIGTERM');
  return app.exited;
}

beforeAll(async () => {
  mkdirSync(dataDir, { recursive: true, mode: 0o755 });
  env = {
    DATA_DIR: dataDir,
    PORT: String(await freePort()),
    HOST: '127.0.0.1',
    EMBEDDED_PG_PORT: String(await freePort()),
    LOG_LEVEL: 'info',
  };
});

afterAll(() => {
  rmSync(dataDir, { recursive: true, force: true });
});

describe('npm start on embedded defaults', () => {
  it('starts, seeds once, serves /healthz, refuses a second instance and stops cleanly', async () => {
    const app = start();
    try {
      await app.waitForOutput(/dispatch service listening/, 120_000);
      expect(app.stdout()).toMatch(/admin {4}admin@practice\.local {2}password: \S{12,}/);
      expect(app.stdout()).toMatch(/PIN \d{6} {2}Riley Rep/);
      // Without LiveKit and provider keys the web view runs, and the log says what the agent still needs.
      await app.waitForOutput(/"missing":\["LIVEKIT_URL","LIVEKIT_API_KEY","LIVEKIT_API_SECRET","GROQ_API_KEY","ELEVENLABS_API_KEY"\],"msg":"agent worker not started/);

      const health = await healthz(env.PORT!);
      expect(health.status).toBe(200);
      expect(health.body.status).toBe('ok');
      expect(health.body.database.reachable).toBe(true);
      expect(health.body.integrations.groq).toEqual({ configured: false, missing: ['GROQ_API_KEY'] });

      // The same data folder from a second process: a clear refusal, not a corrupted cluster.
      const second = start({ PORT: String(await freePort()) });
      expect(await second.exited).toBe(1);
      expect(second.stderr()).toMatch(/already in use by another running Practice Line/);
    } finally {
      expect(await stop(app)).toBe(0);
    }
    expect(app.stdout()).toMatch(/"msg":"stopped"/);
    // The embedded server shut down with us and released its lock file.
    expect(existsSync(join(dataDir, 'postgres', 'postmaster.pid'))).toBe(false);
  });

  it('keeps the data across a restart and never prints the secrets again', async () => {
    const app = start();
    try {
      await app.waitForOutput(/dispatch service listening/, 120_000);
      expect(app.stdout()).not.toMatch(/password:/);
      expect(app.stdout()).not.toMatch(/PIN \d{6}/);

      const { databasePassword } = JSON.parse(readFileSync(join(dataDir, 'secrets.json'), 'utf8')) as { databasePassword: string };
      const client = new pg.Client({
        connectionString: `postgresql://postgres:${encodeURIComponent(databasePassword)}@127.0.0.1:${env.EMBEDDED_PG_PORT}/practice_line`,
      });
      await client.connect();
      const { rows } = await client.query<{ count: string }>('select count(*) from users');
      await client.end();
      expect(Number(rows[0]!.count)).toBe(4);
    } finally {
      expect(await stop(app)).toBe(0);
    }
  });
});

describe('start-up problems get one clear sentence and a non-zero exit', () => {
  const expectOneSentence = (app: RunningProcess) => {
    expect(app.stderr()).toMatch(/^practice-line: /);
    expect(app.stderr()).not.toMatch(/\n\s+at /);
  };

  it('a malformed DATABASE_URL', async () => {
    const app = start({ DATABASE_URL: 'mysql://localhost/db', PORT: 'x' });
    expect(await app.exited).toBe(1);
    expectOneSentence(app);
    expect(app.stderr()).toContain('DATABASE_URL: expected a postgres:// or postgresql:// connection URL');
    expect(app.stderr()).toContain('PORT: expected a port number');
  });

  it('an unreachable database', async () => {
    const port = await freePort();
    const app = start({ DATABASE_URL: `postgres://someone:secret@127.0.0.1:${port}/nowhere` });
    expect(await app.exited).toBe(1);
    expectOneSentence(app);
    expect(app.stderr()).toContain(`Cannot reach the database at 127.0.0.1:${port}/nowhere`);
    expect(app.stderr()).not.toContain('secret');
  });

  it('a port in use', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', () => resolve()));
    const port = (blocker.address() as { port: number }).port;
    try {
      const app = start({ PORT: String(port), DATA_DIR: join(dataDir, 'port-test') });
      expect(await app.exited).toBe(1);
      expectOneSentence(app);
      expect(app.stderr()).toContain(`Port ${port} on 127.0.0.1 is already in use`);
    } finally {
      blocker.close();
    }
  });
});
