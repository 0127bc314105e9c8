// Session cookie flags, security headers and the login rate limit, over plain HTTP (no browser).
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { calls, users } from '../../src/adapters/db/schema.js';
import { seedDemoData, type DemoCredentials } from '../../src/adapters/db/seed.js';
import { eq } from 'drizzle-orm';
import { hashPassword, verifyPassword } from '../../src/adapters/password.js';
import { loadConfig } from '../../src/config.js';
import { createHttpApp } from '../../src/http/app.js';
import { listen, type RunningServer } from '../../src/http/server.js';
import { makeWebRouter } from '../../src/http/web/web_router.js';
import { pruneLoginThrottle } from '../../src/app/login_throttle.js';
import { createUser } from '../../src/app/users.js';
import { systemActor } from '../../src/domain/access.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';

let database: TestDatabase;
let credentials: DemoCredentials;
const running: { server: RunningServer; close(): Promise<void> }[] = [];

interface AppOptions {
  trustProxy?: string;
  accountLoginLimit?: { maxFailures: number; lockMs: number };
}

async function startApp(publicBaseUrl: string, limit: number, options: AppOptions = {}): Promise<string> {
  const web = makeWebRouter({
    ...(options.accountLoginLimit ? { accountLoginLimit: options.accountLoginLimit } : {}),
    app: { db: database.db, pinSecret: 'session-test-pin-secret-0123456789abcdef', hashPassword },
    pool: database.pool,
    sessionSecret: 'session-test-secret-0123456789abcdef0123',
    publicBaseUrl,
    verifyPassword,
    logger: pino({ level: 'silent' }),
    defaultVoiceId: 'v',
    defaultLlmModel: 'm',
    loginRateLimit: { windowMs: 60_000, limit },
    pruneExpiredSessions: false,
  });
  const app = createHttpApp({ logger: pino({ level: 'silent' }), ...(options.trustProxy ? { trustProxy: options.trustProxy } : {}), health: { pingDatabase: database.ping, integrations: loadConfig({}).integrations }, web: web.router });
  const server = await listen(app, 0, '127.0.0.1');
  running.push({ server, close: web.close });
  return `http://127.0.0.1:${server.port}`;
}

/** Opens the login form: the session cookie and the form's CSRF token. */
async function openLogin(base: string, headers: Record<string, string> = {}) {
  const response = await fetch(`${base}/login`, { headers });
  const cookie = response.headers.get('set-cookie') ?? '';
  const html = await response.text();
  const token = /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';
  return { response, cookie, token, html };
}

const postLogin = (base: string, session: { cookie: string; token: string }, email: string, password: string, headers: Record<string, string> = {}) =>
  fetch(`${base}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { ...headers, cookie: session.cookie.split(';')[0]!, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ _csrf: session.token, email, password }).toString(),
  });

beforeAll(async () => {
  database = await createTestDatabase();
  credentials = (await seedDemoData({ db: database.db, pinSecret: 'session-test-pin-secret-0123456789abcdef', hashPassword, llmModel: 'm' }))!;
});

afterAll(async () => {
  for (const app of running) {
    await app.close();
    await app.server.close();
  }
  await database?.close();
});

describe('web session security', () => {
  it('sets an httpOnly, SameSite=Lax cookie (not Secure over http) and strict security headers', async () => {
    const base = await startApp('http://localhost:3000', 10);
    const { response, cookie } = await openLogin(base);
    expect(cookie).toMatch(/^pl\.sid=/);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Lax/);
    expect(cookie).not.toMatch(/Secure/);
    const csp = response.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('upgrade-insecure-requests');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('strict-transport-security')).toBeNull();
    // Pages other than login lead to it.
    const home = await fetch(`${base}/`, { redirect: 'manual' });
    expect(home.status).toBe(303);
    expect(home.headers.get('location')).toBe('/login?next=%2F');
  });

  it('marks the cookie Secure and sends HSTS when the public URL is https', async () => {
    // The TLS-terminating proxy on loopback (trusted through TRUST_PROXY) says the request was https.
    const base = await startApp('https://practice.example.com', 10, { trustProxy: 'loopback' });
    const { response, cookie } = await openLogin(base, { 'x-forwarded-proto': 'https' });
    expect(cookie).toMatch(/Secure/);
    expect(cookie).toMatch(/HttpOnly/);
    expect(response.headers.get('strict-transport-security')).toContain('max-age=');
    expect(response.headers.get('content-security-policy')).toContain('upgrade-insecure-requests');
    // Reached over plain http the page says where to log in instead of failing silently.
    const plain = await openLogin(base);
    expect(plain.html).toContain('Sessions need https: log in at https://practice.example.com/login instead.');
    expect(plain.cookie).toBe('');

  });

  it('rate-limits failed logins and renews the session id on success', async () => {
    const base = await startApp('http://localhost:3000', 3);
    const session = await openLogin(base);
    for (let attempt = 1; attempt <= 3; attempt += 1) {
      expect((await postLogin(base, session, credentials.admin.email, 'wrong password')).status).toBe(401);
    }
    const blocked = await postLogin(base, session, credentials.admin.email, credentials.admin.password);
    expect(blocked.status).toBe(429);
    expect(await blocked.text()).toContain('Too many failed attempts');

    const fresh = await startApp('http://localhost:3000', 3);
    const before = await openLogin(fresh);
    const ok = await postLogin(fresh, before, credentials.admin.email, credentials.admin.password);
    expect(ok.status).toBe(303);
    expect(ok.headers.get('location')).toBe('/calls');
    const after = ok.headers.get('set-cookie') ?? '';
    expect(after.split(';')[0]).not.toBe(before.cookie.split(';')[0]);
    const calls = await fetch(`${fresh}/calls`, { headers: { cookie: after.split(';')[0]! } });
    expect(calls.status).toBe(200);
    expect(await calls.text()).toContain('Ada Admin');
  });

  it('believes no X-Forwarded-For by default, so rotating it does not reset the per-address limit', async () => {
    const base = await startApp('http://localhost:3000', 3);
    const session = await openLogin(base);
    for (let attempt = 1; attempt <= 3; attempt += 1) {
      const res = await postLogin(base, session, `nobody${attempt}@practice.local`, 'wrong password', { 'x-forwarded-for': `203.0.113.${attempt}` });
      expect(res.status).toBe(401);
    }
    expect((await postLogin(base, session, credentials.admin.email, credentials.admin.password, { 'x-forwarded-for': '203.0.113.99' })).status).toBe(429);
  });

  it('locks an account after repeated failures from any address, for every replica, before checking the password', async () => {
    const rule = { maxFailures: 3, lockMs: 60_000 };
    // Behind a trusted proxy each guess comes from a new address, so only the per-account limit bites.
    const replicaA = await startApp('http://localhost:3000', 100, { trustProxy: 'loopback', accountLoginLimit: rule });
    const replicaB = await startApp('http://localhost:3000', 100, { trustProxy: 'loopback', accountLoginLimit: rule });
    const a = await openLogin(replicaA);
    const b = await openLogin(replicaB);
    const victim = await createUser({ db: database.db, pinSecret: 'session-test-pin-secret-0123456789abcdef', hashPassword }, systemActor, {
      role: 'manager',
      name: 'Locked Out',
      email: 'locked.out@practice.local',
      password: 'the-right-password-0123',
    });
    const target = victim.email.toUpperCase();
    for (let attempt = 1; attempt <= 3; attempt += 1) {
      const [base, session] = attempt % 2 ? [replicaA, a] : [replicaB, b];
      expect((await postLogin(base, session, target, `guess ${attempt}`, { 'x-forwarded-for': `198.51.100.${attempt}` })).status).toBe(401);
    }
    for (const [base, session] of [[replicaA, a], [replicaB, b]] as const) {
      const locked = await postLogin(base, session, victim.email, 'the-right-password-0123', { 'x-forwarded-for': '198.51.100.200' });
      expect(locked.status).toBe(429);
      expect(await locked.text()).toContain('Too many failed attempts');
    }
    // Other accounts are not affected; nothing in the table names the email.
    expect((await postLogin(replicaA, a, credentials.admin.email, credentials.admin.password)).status).toBe(303);
    const stored = await database.pool.query('select account_key from login_throttle');
    expect(JSON.stringify(stored.rows)).not.toContain('locked.out');

    // Pruning keeps a running lock and drops what has run out.
    const now = new Date();
    await pruneLoginThrottle(database.db, rule, now);
    expect((await database.pool.query('select 1 from login_throttle where locked_until > now()')).rowCount).toBe(1);
    await pruneLoginThrottle(database.db, rule, new Date(now.getTime() + 2 * rule.lockMs));
    expect((await database.pool.query('select 1 from login_throttle')).rowCount).toBe(0);
  });

  it('does not log in reps or unknown emails, and ignores off-site next= targets', async () => {
    const base = await startApp('http://localhost:3000', 10);
    const session = await openLogin(base);
    expect((await postLogin(base, session, 'riley@practice.local', 'anything at all')).status).toBe(401);
    expect((await postLogin(base, session, 'nobody@practice.local', 'anything at all')).status).toBe(401);
    const response = await fetch(`${base}/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: session.cookie.split(';')[0]!, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: session.token, email: credentials.manager.email, password: credentials.manager.password, next: '//evil.example/x' }).toString(),
    });
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe('/calls');
  });

  it('ends open live transcript streams at shutdown so the server can close', async () => {
    const base = await startApp('http://localhost:3000', 10);
    const app = running.at(-1)!;
    const session = await openLogin(base);
    const login = await postLogin(base, session, credentials.admin.email, credentials.admin.password);
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!;
    const [riley] = await database.db.select().from(users).where(eq(users.email, 'riley@practice.local'));
    const [call] = await database.db.insert(calls).values({ path: 'sip', status: 'in_progress', roomName: 'room-shutdown', repId: riley!.id }).returning();
    const stream = await fetch(`${base}/calls/${call!.id}/events`, { headers: { cookie } });
    expect(stream.headers.get('content-type')).toContain('text/event-stream');
    const reader = stream.body!.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toContain('retry:');
    await app.close();
    // The stream ends and the server closes without waiting for the call to finish.
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read());
    await app.server.close();
    running.pop();
  });
});
