// A rep's export and deletion from each door an admin has: the web page (password session, CSRF
// forms), the JSON API (bearer token) and the CLI (a real process). The use case's own guarantees
// are in rep_data.test.ts; here: confirmation, who may, and the answers each surface gives.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { pino } from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { users } from '../../src/adapters/db/schema.js';
import { hashPassword, verifyPassword } from '../../src/adapters/password.js';
import { createDiskStorage } from '../../src/adapters/storage/disk_storage.js';
import { createApiToken } from '../../src/app/api_tokens.js';
import { loadConfig } from '../../src/config.js';
import { systemActor } from '../../src/domain/access.js';
import { createHttpApp } from '../../src/http/app.js';
import { listen, type RunningServer } from '../../src/http/server.js';
import { makeWebRouter } from '../../src/http/web/web_router.js';
import { seedPracticeCall } from '../support/call_routing_world.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';

const PIN_SECRET = 'rep-surfaces-pin-secret-0123456789abcdef0123';
const PASSWORD = 'rep-surfaces-password-1234';
const dataDir = mkdtempSync(join(tmpdir(), 'practice-line-rep-surfaces-'));
const storage = createDiskStorage(join(dataDir, 'storage'));
let database: TestDatabase;
let server: RunningServer;
let closeWeb: () => Promise<void>;
let base: string;
let adminEmail: string;
let adminToken: string;
const reps: Awaited<ReturnType<typeof seedPracticeCall>>[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  for (let i = 0; i < 3; i++) reps.push(await seedPracticeCall({ database, pinSecret: PIN_SECRET }));
  adminEmail = `admin-${Date.now()}@test.local`;
  const [admin] = await database.db.insert(users).values({ role: 'admin', name: 'Ada Admin', email: adminEmail, passwordHash: await hashPassword(PASSWORD) }).returning();
  await database.db.update(users).set({ passwordHash: await hashPassword(PASSWORD) }).where(eq(users.id, reps[0]!.manager.id));
  adminToken = (await createApiToken({ db: database.db }, { userId: admin!.id, role: 'admin' }, { name: 'ops' })).token;
  const logger = pino({ level: 'silent' });
  const deps = { db: database.db, pinSecret: PIN_SECRET, hashPassword, verifyPassword, storage };
  const web = makeWebRouter({ app: deps, pool: database.pool, sessionSecret: 'rep-surfaces-session-secret-0123456789abcdef', publicBaseUrl: 'http://127.0.0.1', verifyPassword, logger, defaultVoiceId: 'v', defaultLlmModel: 'm', pruneExpiredSessions: false });
  closeWeb = web.close;
  const app = createHttpApp({ logger, health: { pingDatabase: database.ping, integrations: loadConfig({}).integrations }, web: web.router, managementApi: { ...deps, personaDefaults: { llmModel: 'm', voiceId: 'v' } } });
  server = await listen(app, 0, '127.0.0.1');
  base = `http://127.0.0.1:${server.port}`;
}, 60_000);

afterAll(async () => {
  await server?.close();
  await closeWeb?.();
  await database?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

async function staffSession(email: string) {
  let cookie = '';
  let csrf = '';
  const remember = (response: Response) => {
    const set = response.headers.get('set-cookie');
    if (set) cookie = set.split(';')[0]!;
  };
  const get = async (path: string) => {
    const response = await fetch(`${base}${path}`, { redirect: 'manual', headers: { cookie } });
    remember(response);
    const text = await response.text();
    csrf = /name="_csrf" value="([^"]+)"/.exec(text)?.[1] ?? csrf;
    return { status: response.status, text };
  };
  const post = async (path: string, fields: Record<string, string>) => {
    const response = await fetch(`${base}${path}`, { method: 'POST', redirect: 'manual', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ _csrf: csrf, ...fields }).toString() });
    remember(response);
    return response;
  };
  await get('/login');
  expect((await post('/login', { email, password: PASSWORD })).status).toBe(303);
  return { get, post };
}

it('web: an admin exports (zip) and deletes a rep from the rep\'s data page, each confirmed by the email; a manager cannot', async () => {
  const rep = reps[0]!;
  const manager = await staffSession(rep.manager.email);
  expect((await manager.get(`/users/${rep.rep.id}/data`)).status).not.toBe(200);

  const admin = await staffSession(adminEmail);
  expect((await admin.get(`/users/${rep.rep.id}`)).text).toContain(`href="/users/${rep.rep.id}/data"`);
  expect((await admin.get(`/users/${rep.rep.id}/data`)).text).toContain(`Type the rep's email (${rep.rep.email}) to confirm`);
  const refused = await admin.post(`/users/${rep.rep.id}/data/export`, { confirmEmail: 'wrong@test.local' });
  expect(refused.status).toBe(400);
  const exported = await admin.post(`/users/${rep.rep.id}/data/export`, { confirmEmail: rep.rep.email });
  expect(exported.status).toBe(200);
  expect(exported.headers.get('content-type')).toBe('application/zip');
  const zip = Buffer.from(await exported.arrayBuffer());
  expect(zip.subarray(0, 2).toString()).toBe('PK');

  const deleted = await admin.post(`/users/${rep.rep.id}/data/delete`, { confirmEmail: rep.rep.email });
  expect(deleted.status).toBe(200);
  expect(await deleted.text()).toContain('Deleted the rep, 0 calls');
  expect(await database.db.select().from(users).where(eq(users.id, rep.rep.id))).toHaveLength(0);
  const again = await admin.post(`/users/${rep.rep.id}/data/delete`, { confirmEmail: rep.rep.email });
  expect(await again.text()).toContain('already deleted');
});

it('API: POST /api/reps/:id/export and /delete-data with a bearer token and the confirmation', async () => {
  const rep = reps[1]!;
  const call = (path: string, body: unknown, token = adminToken) =>
    fetch(`${base}/api/reps/${rep.rep.id}/${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect((await call('delete-data', { confirmEmail: 'nope@test.local' })).status).toBe(400);
  const exported = await call('export', { confirmEmail: rep.rep.email });
  expect(exported.status).toBe(200);
  expect(exported.headers.get('content-disposition')).toContain(`practice-line-rep-${rep.rep.id}.zip`);
  await exported.arrayBuffer();
  expect(await (await call('delete-data', { confirmEmail: rep.rep.email })).json()).toEqual({ status: 'deleted', calls: 0, recordingObjects: 0 });
  expect(await (await call('delete-data', { confirmEmail: rep.rep.email })).json()).toEqual({ status: 'already_deleted' });
});

it('CLI: reps export and reps delete, by email, with --confirm', async () => {
  const rep = reps[2]!;
  const run = (args: string[]) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      const { DATABASE_URL: _inherited, ...env } = process.env;
      const child = spawn(join(process.cwd(), 'node_modules', '.bin', 'tsx'), ['src/cli/main.ts', ...args], { env: { ...env, ENV_FILE: '', LOG_LEVEL: 'warn', DATABASE_URL: database.url, DATA_DIR: dataDir, PIN_SECRET }, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (bytes: Buffer) => (stdout += bytes.toString()));
      child.stderr.on('data', (bytes: Buffer) => (stderr += bytes.toString()));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
  const out = join(dataDir, 'rep.zip');
  const exported = await run(['reps', 'export', rep.rep.email, '--confirm', rep.rep.email, '--out', out, '--json']);
  expect(exported.code, exported.stderr).toBe(0);
  expect(JSON.parse(exported.stdout)).toEqual({ file: out, calls: 0, recordings: 0 });
  expect(existsSync(out)).toBe(true);
  expect((await run(['reps', 'delete', rep.rep.id, '--confirm', 'wrong@test.local'])).code).not.toBe(0);
  const deleted = await run(['reps', 'delete', rep.rep.id, '--confirm', rep.rep.email, '--json']);
  expect(deleted.code, deleted.stderr).toBe(0);
  expect(JSON.parse(deleted.stdout)).toEqual({ status: 'deleted', calls: 0, recordingObjects: 0 });
  const again = await run(['reps', 'delete', rep.rep.id, '--confirm', rep.rep.email]);
  expect(again.stdout).toContain('already gone');
}, 120_000);
