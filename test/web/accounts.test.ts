// Accounts as a security reviewer would check them, over plain HTTP against the real app (web view
// and JSON API) on a real database: token expiry and last use, the current password for one's own
// password or email, what a password change ends, the absolute session lifetime, and live
// transcript streams that end with the session and are capped per user.
import { eq } from 'drizzle-orm';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiTokens, calls } from '../../src/adapters/db/schema.js';
import { hashPassword, verifyPassword } from '../../src/adapters/password.js';
import { createApiToken } from '../../src/app/api_tokens.js';
import { createUser, type PublicUser } from '../../src/app/users.js';
import { loadConfig } from '../../src/config.js';
import { systemActor } from '../../src/domain/access.js';
import { createHttpApp } from '../../src/http/app.js';
import { listen, type RunningServer } from '../../src/http/server.js';
import { makeWebRouter } from '../../src/http/web/web_router.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { sleep } from '../support/wait.js';

const PIN_SECRET = 'accounts-test-pin-secret-0123456789abcdef';
let database: TestDatabase;
const servers: { server: RunningServer; closeWeb: () => Promise<void> }[] = [];
let base: string;
let counter = 0;

type Json = Record<string, any>;
const deps = () => ({ db: database.db, pinSecret: PIN_SECRET, hashPassword, verifyPassword });

async function startApp(web: { sessionMaxMs?: number; maxLiveStreamsPerUser?: number } = {}): Promise<string> {
  const logger = pino({ level: 'silent' });
  const router = makeWebRouter({
    app: deps(),
    pool: database.pool,
    sessionSecret: 'accounts-test-secret-0123456789abcdef0123',
    publicBaseUrl: 'http://localhost:3000',
    verifyPassword,
    logger,
    defaultVoiceId: 'v',
    defaultLlmModel: 'm',
    pruneExpiredSessions: false,
    livePollMs: 100,
    ...web,
  });
  const app = createHttpApp({
    logger,
    health: { pingDatabase: database.ping, integrations: loadConfig({}).integrations },
    managementApi: { ...deps(), personaDefaults: { llmModel: 'llama-test', voiceId: 'voice-test' } },
    web: router.router,
  });
  const server = await listen(app, 0, '127.0.0.1');
  servers.push({ server, closeWeb: router.close });
  return `http://127.0.0.1:${server.port}`;
}

async function api(token: string, method: string, path: string, body?: unknown, at = base): Promise<{ status: number; body: Json }> {
  const res = await fetch(`${at}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Json) : {} };
}

const cookieOf = (res: Response) => (res.headers.get('set-cookie') ?? '').split(';')[0]!;
const csrfOf = (page: string) => /name="_csrf" value="([^"]+)"/.exec(page)?.[1] ?? '';

async function logIn(email: string, password: string, at = base): Promise<string> {
  const form = await fetch(`${at}/login`);
  const res = await fetch(`${at}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie: cookieOf(form), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ _csrf: csrfOf(await form.text()), email, password }).toString(),
  });
  expect(res.status).toBe(303);
  return cookieOf(res);
}

/** 200 when the session cookie still opens the calls page; 303 (to the login page) when it does not. */
const pageStatus = async (cookie: string, path = '/calls', at = base) => (await fetch(`${at}${path}`, { headers: { cookie }, redirect: 'manual' })).status;

async function manager(password = 'first-password-0123'): Promise<{ user: PublicUser; password: string; token: string }> {
  counter += 1;
  const user = await createUser(deps(), systemActor, { role: 'manager', name: `Manager ${counter}`, email: `manager${counter}.accounts@example.test`, password });
  const token = (await createApiToken(deps(), systemActor, { name: 'own', userId: user.id })).token;
  return { user, password, token };
}

beforeAll(async () => {
  database = await createTestDatabase();
  base = await startApp();
});

afterAll(async () => {
  for (const { server, closeWeb } of servers) {
    await closeWeb();
    await server.close();
  }
  await database?.close();
});

describe('API tokens', () => {
  it('expire (90 days by default, or as asked at creation) and show their expiry and last use', async () => {
    const { token } = await manager();
    const made = await api(token, 'POST', '/api/tokens', { name: 'ci', expiresInDays: 2 });
    expect(made.status).toBe(201);
    const days = (iso: string) => (new Date(iso).getTime() - Date.now()) / 86_400_000;
    expect(days(made.body.apiToken.expiresAt)).toBeCloseTo(2, 1);
    const byDefault = await api(token, 'POST', '/api/tokens', { name: 'default' });
    expect(days(byDefault.body.apiToken.expiresAt)).toBeCloseTo(90, 1);
    expect((await api(token, 'POST', '/api/tokens', { name: 'forever', expiresInDays: 100_000 })).body.error.fields).toHaveProperty('expiresInDays');

    expect((await api(made.body.token, 'GET', '/api/personas')).status).toBe(200);
    const listed = (await api(token, 'GET', '/api/tokens')).body.items as Json[];
    const ci = listed.find((t) => t.id === made.body.apiToken.id)!;
    expect(ci.lastUsedAt).not.toBeNull();
    expect(ci.expiresAt).toBe(made.body.apiToken.expiresAt);

    await database.db.update(apiTokens).set({ expiresAt: new Date(Date.now() - 1000) }).where(eq(apiTokens.id, ci.id));
    expect((await api(made.body.token, 'GET', '/api/personas')).status).toBe(401);
  });

  it('are listed with expiry and last use on the account page', async () => {
    const { user, password } = await manager();
    await createApiToken(deps(), systemActor, { name: 'deploy-bot', userId: user.id, expiresInDays: 30 });
    const page = await (await fetch(`${base}/account`, { headers: { cookie: await logIn(user.email, password) } })).text();
    expect(page).toContain('Your API tokens');
    expect(page).toMatch(/deploy-bot<\/td><td>[^<]+<\/td><td>[^<]+<\/td><td>never<\/td><td>active/);
  });
});

describe('changing one’s own password or email through the API', () => {
  it('needs the current password', async () => {
    const { user, password, token } = await manager();
    for (const change of [{ password: 'second-password-0123' }, { email: 'elsewhere@example.test' }]) {
      const missing = await api(token, 'PATCH', `/api/users/${user.id}`, change);
      expect(missing.status).toBe(400);
      expect(missing.body.error.fields).toHaveProperty('currentPassword');
      const wrong = await api(token, 'PATCH', `/api/users/${user.id}`, { ...change, currentPassword: 'not-it-at-all' });
      expect(wrong.status).toBe(400);
      expect(wrong.body.error.fields.currentPassword).toBe('not your current password');
    }
    // A name change needs nothing more; an email change with the password goes through.
    expect((await api(token, 'PATCH', `/api/users/${user.id}`, { name: 'Renamed' })).status).toBe(200);
    const moved = await api(token, 'PATCH', `/api/users/${user.id}`, { email: `moved-${user.email}`, currentPassword: password });
    expect(moved.status).toBe(200);
    expect(moved.body.email).toBe(`moved-${user.email}`);
  });

  it('ends the user’s web sessions and revokes their API tokens when the password changes', async () => {
    const { user, password, token } = await manager();
    const other = (await createApiToken(deps(), systemActor, { name: 'second', userId: user.id })).token;
    const session = await logIn(user.email, password);
    expect(await pageStatus(session)).toBe(200);

    const changed = await api(token, 'PATCH', `/api/users/${user.id}`, { password: 'second-password-0123', currentPassword: password });
    expect(changed.status).toBe(200);
    expect((await api(token, 'GET', '/api/personas')).status).toBe(401);
    expect((await api(other, 'GET', '/api/personas')).status).toBe(401);
    expect(await pageStatus(session)).toBe(303);
    expect(await pageStatus(await logIn(user.email, 'second-password-0123'))).toBe(200);
  });
});

describe('changing the password in the web view', () => {
  it('rotates the session id, ends the other sessions and revokes API tokens', async () => {
    const { user, password, token } = await manager();
    const here = await logIn(user.email, password);
    const elsewhere = await logIn(user.email, password);
    const form = await (await fetch(`${base}/account`, { headers: { cookie: here } })).text();
    const res = await fetch(`${base}/account/password`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: here, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: csrfOf(form), current: password, password: 'web-new-password-0123', confirm: 'web-new-password-0123' }).toString(),
    });
    expect(res.status).toBe(303);
    const rotated = cookieOf(res);
    expect(rotated).toMatch(/^pl\.sid=/);
    expect(rotated).not.toBe(here);
    expect(await (await fetch(`${base}/account`, { headers: { cookie: rotated } })).text()).toContain('Your other sessions and your API tokens have been ended');
    expect(await pageStatus(here)).toBe(303);
    expect(await pageStatus(elsewhere)).toBe(303);
    expect((await api(token, 'GET', '/api/personas')).status).toBe(401);
  });

  it('refuses a wrong current password and changes nothing', async () => {
    const { user, password } = await manager();
    const here = await logIn(user.email, password);
    const form = await (await fetch(`${base}/account`, { headers: { cookie: here } })).text();
    const res = await fetch(`${base}/account/password`, {
      method: 'POST',
      headers: { cookie: here, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: csrfOf(form), current: 'wrong-wrong-wrong', password: 'web-new-password-0123', confirm: 'web-new-password-0123' }).toString(),
    });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('Not your current password.');
    expect(await pageStatus(await logIn(user.email, password))).toBe(200);
  });
});

describe('web sessions', () => {
  it('end at the absolute limit however active they are', async () => {
    const shortLived = await startApp({ sessionMaxMs: 2_000 });
    const { user, password } = await manager();
    const cookie = await logIn(user.email, password, shortLived);
    for (let i = 0; i < 3; i += 1) {
      expect(await pageStatus(cookie, '/calls', shortLived)).toBe(200);
      await sleep(400);
    }
    await sleep(1_000);
    expect(await pageStatus(cookie, '/calls', shortLived)).toBe(303);
  });
});

describe('live transcript streams', () => {
  async function liveCall(): Promise<string> {
    const [call] = await database.db.insert(calls).values({ path: 'sip', status: 'in_progress', roomName: `room-live-${Date.now()}-${Math.random()}` }).returning();
    return call!.id;
  }

  it('end when the session logs out', async () => {
    const admin = await createUser(deps(), systemActor, { role: 'admin', name: 'Ada Live', email: `ada.live${Date.now()}@example.test`, password: 'admin-password-0123' });
    const cookie = await logIn(admin.email, 'admin-password-0123');
    const stream = await fetch(`${base}/calls/${await liveCall()}/events`, { headers: { cookie } });
    const reader = stream.body!.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toContain('retry:');

    const page = await (await fetch(`${base}/calls`, { headers: { cookie } })).text();
    const out = await fetch(`${base}/logout`, { method: 'POST', redirect: 'manual', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ _csrf: csrfOf(page) }).toString() });
    expect(out.status).toBe(303);

    let received = '';
    const started = Date.now();
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) received += new TextDecoder().decode(chunk.value);
    expect(received).toContain('event: end');
    expect(received).toContain('logged_out');
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('are capped per user', async () => {
    const capped = await startApp({ maxLiveStreamsPerUser: 2 });
    const admin = await createUser(deps(), systemActor, { role: 'admin', name: 'Ada Cap', email: `ada.cap${Date.now()}@example.test`, password: 'admin-password-0123' });
    const cookie = await logIn(admin.email, 'admin-password-0123', capped);
    const callId = await liveCall();
    const open = [await fetch(`${capped}/calls/${callId}/events`, { headers: { cookie } }), await fetch(`${capped}/calls/${callId}/events`, { headers: { cookie } })];
    expect(open.map((r) => r.status)).toEqual([200, 200]);
    const third = await fetch(`${capped}/calls/${callId}/events`, { headers: { cookie } });
    expect(third.status).toBe(429);
    await open[0]!.body!.cancel();
    await sleep(300);
    const again = await fetch(`${capped}/calls/${callId}/events`, { headers: { cookie } });
    expect(again.status).toBe(200);
    for (const res of [open[1]!, again]) await res.body!.cancel();
  });
});
