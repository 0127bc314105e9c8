// Reps in the web view, over plain HTTP against the real app, a migrated database and a loopback
// SMTP server: sign-in links (single use, expiry, no account enumeration, rate limits), managers'
// invites, and a rep seeing only their own assignments, calls and practice calls (404 otherwise).
import { eq } from 'drizzle-orm';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCallRoutingStore } from '../../src/adapters/db/call_routing_store.js';
import { assignments, calls, scorecards, signInTokens, users } from '../../src/adapters/db/schema.js';
import { createAgentAvailability } from '../../src/adapters/agent_availability.js';
import { createLivekitCallerTokens } from '../../src/adapters/livekit/caller_token.js';
import { createLivekitRoomService } from '../../src/adapters/livekit/room_service.js';
import { createSmtpMailer } from '../../src/adapters/mail/mailer.js';
import { hashPassword, verifyPassword } from '../../src/adapters/password.js';
import { hashSignInToken } from '../../src/app/sign_in.js';
import { loadConfig } from '../../src/config.js';
import { createHttpApp } from '../../src/http/app.js';
import { listen, type RunningServer } from '../../src/http/server.js';
import { makeWebRouter } from '../../src/http/web/web_router.js';
import { seedPracticeCall } from '../support/call_routing_world.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { startSmtpSink, type SmtpSink } from '../support/smtp_sink.js';
import { sleep, waitFor } from '../support/wait.js';

const PIN_SECRET = 'rep-access-pin-secret-0123456789abcdef0123';
const LIVEKIT = { url: 'ws://127.0.0.1:9', apiKey: 'APIrepaccess', apiSecret: 'rep-access-livekit-secret-0123456789abcdef' };

let database: TestDatabase;
let smtp: SmtpSink;
let server: RunningServer;
let closeWeb: () => Promise<void>;
let base: string;
/** The same web view with an agent health URL nobody answers: no persona is free. */
let baseNoPartner: string;
let riley: Awaited<ReturnType<typeof seedPracticeCall>>;
let other: Awaited<ReturnType<typeof seedPracticeCall>>;
const extraServers: { server: RunningServer; close(): Promise<void> }[] = [];
const ids = { rileyCall: '', otherCall: '', rileyWebCall: '', otherWebCall: '' };

beforeAll(async () => {
  database = await createTestDatabase();
  smtp = await startSmtpSink();
  const world = { database, pinSecret: PIN_SECRET };
  riley = await seedPracticeCall(world);
  other = await seedPracticeCall(world);
  await database.db.update(users).set({ passwordHash: await hashPassword('manager-password-1234') }).where(eq(users.id, riley.manager.id));
  const call = (seed: typeof riley, path: 'twilio' | 'web', status: 'completed' | 'dispatching') =>
    database.db
      .insert(calls)
      .values({ path, status, roomName: `room-${Math.random().toString(36).slice(2)}`, assignmentId: seed.assignment.id, scenarioId: seed.scenario.id, personaId: seed.persona.id, repId: seed.rep.id, estimatedCostUsd: '0.1234' })
      .returning()
      .then((rows) => rows[0]!.id);
  ids.rileyCall = await call(riley, 'twilio', 'completed');
  ids.otherCall = await call(other, 'twilio', 'completed');
  ids.rileyWebCall = await call(riley, 'web', 'dispatching');
  ids.otherWebCall = await call(other, 'web', 'dispatching');
  await database.db.insert(scorecards).values({ callId: ids.rileyCall, status: 'scored', overallScore: 64, passed: false, criteria: [], model: 'm', promptVersion: 'v' });

  const logger = pino({ level: 'silent' });
  const web = makeWebRouter({
    app: { db: database.db, pinSecret: PIN_SECRET, hashPassword },
    pool: database.pool,
    sessionSecret: 'rep-access-session-secret-0123456789abcdef',
    // A pretend https URL: links in emails point there; the test speaks plain http to the real port.
    publicBaseUrl: 'http://127.0.0.1',
    verifyPassword,
    logger,
    defaultVoiceId: 'v',
    defaultLlmModel: 'm',
    pruneExpiredSessions: false,
    mailer: createSmtpMailer({ host: smtp.host, port: smtp.port, secure: false, from: 'Practice Line <coach@practice.test>' }),
    signInRateLimit: { windowMs: 60_000, perAddress: 3, perIp: 12 },
    // Nothing in these tests reaches LiveKit: every refusal happens before a room would be made.
    practice: { db: database.db, store: createCallRoutingStore(database.db), rooms: createLivekitRoomService(LIVEKIT), agentName: 'persona', onCallEnded: async () => undefined, logger, tokens: createLivekitCallerTokens(LIVEKIT), livekitUrl: LIVEKIT.url, agentJoinTimeoutSeconds: 10 },
  });
  closeWeb = web.close;
  const app = createHttpApp({ logger, health: { pingDatabase: database.ping, integrations: loadConfig({}).integrations }, web: web.router });
  server = await listen(app, 0, '127.0.0.1');
  base = `http://127.0.0.1:${server.port}`;
  const noPartner = makeWebRouter({
    app: { db: database.db, pinSecret: PIN_SECRET, hashPassword },
    pool: database.pool,
    sessionSecret: 'rep-access-session-secret-0123456789abcdef',
    publicBaseUrl: 'http://127.0.0.1',
    verifyPassword,
    logger,
    defaultVoiceId: 'v',
    defaultLlmModel: 'm',
    pruneExpiredSessions: false,
    practice: { db: database.db, store: createCallRoutingStore(database.db), rooms: createLivekitRoomService(LIVEKIT), agentName: 'persona', onCallEnded: async () => undefined, logger, tokens: createLivekitCallerTokens(LIVEKIT), livekitUrl: LIVEKIT.url, agentJoinTimeoutSeconds: 10, agentAvailability: createAgentAvailability('http://127.0.0.1:9/', 500) },
  });
  const second = await listen(createHttpApp({ logger, health: { pingDatabase: database.ping, integrations: loadConfig({}).integrations }, web: noPartner.router }), 0, '127.0.0.1');
  extraServers.push({ server: second, close: noPartner.close });
  baseNoPartner = `http://127.0.0.1:${second.port}`;
});

afterAll(async () => {
  for (const extra of extraServers) {
    await extra.server.close();
    await extra.close();
  }
  await server?.close();
  await closeWeb?.();
  await smtp?.stop();
  await database?.close();
});

/** A cookie jar of one: the session cookie, plus the latest CSRF token seen on a page. */
function client(origin?: () => string) {
  const state = { cookie: '', csrf: '' };
  const at = () => (origin ? origin() : base);
  const remember = (response: Response) => {
    const set = response.headers.get('set-cookie');
    if (set) state.cookie = set.split(';')[0]!;
  };
  return {
    state,
    async get(path: string) {
      const response = await fetch(`${at()}${path}`, { redirect: 'manual', headers: { cookie: state.cookie } });
      remember(response);
      const text = await response.text();
      state.csrf = /name="_csrf" value="([^"]+)"/.exec(text)?.[1] ?? state.csrf;
      return { status: response.status, text, location: response.headers.get('location') };
    },
    async post(path: string, fields: Record<string, string> = {}, headers: Record<string, string> = {}) {
      const response = await fetch(`${at()}${path}`, {
        method: 'POST',
        redirect: 'manual',
        headers: { cookie: state.cookie, 'content-type': 'application/x-www-form-urlencoded', ...headers },
        body: new URLSearchParams({ _csrf: state.csrf, ...fields }).toString(),
      });
      remember(response);
      return { status: response.status, text: await response.text(), location: response.headers.get('location') };
    },
  };
}

const mailsTo = (address: string) => smtp.messages.filter((m) => m.envelopeTo.includes(address));

async function requestLink(email: string, headers: Record<string, string> = {}) {
  const browser = client();
  await browser.get('/login');
  return browser.post('/login/link', { email }, headers);
}

async function signIn(email: string): Promise<ReturnType<typeof client>> {
  const before = mailsTo(email).length;
  expect((await requestLink(email)).status).toBe(200);
  const mail = await waitFor('sign-in email', async () => mailsTo(email)[before]);
  const path = /http:\/\/127\.0\.0\.1(\/login\/link\/[A-Za-z0-9_-]+)/.exec(mail.parsed.text ?? '')![1]!;
  const rep = client();
  await rep.get(path);
  const done = await rep.post(path);
  expect(done).toMatchObject({ status: 303, location: '/me' });
  return rep;
}

describe('sign-in links', () => {
  it('answer the same whether or not the address belongs to a rep, and email only reps', async () => {
    const known = await requestLink(riley.rep.email.toUpperCase());
    const unknown = await requestLink('nobody-here@test.local');
    const staff = await requestLink(riley.manager.email);
    expect(unknown.status).toBe(known.status);
    expect(staff.status).toBe(known.status);
    const notice = (text: string) => /<p role="status">([^<]+)<\/p>/.exec(text)?.[1];
    expect(notice(unknown.text)).toBe(notice(known.text));
    expect(notice(staff.text)).toBe(notice(known.text));
    const mail = await waitFor('the rep\'s link', async () => mailsTo(riley.rep.email)[0]);
    expect(mail.parsed.subject).toBe('Your Practice Line sign-in link');
    expect(mail.parsed.html).toContain(`href="${/(http:\/\/127\.0\.0\.1\/login\/link\/[A-Za-z0-9_-]+)/.exec(mail.parsed.text ?? '')![1]}"`);
    await sleep(500);
    expect(mailsTo('nobody-here@test.local')).toHaveLength(0);
    expect(mailsTo(riley.manager.email)).toHaveLength(0);
    // Only a hash is stored.
    const token = /\/login\/link\/([A-Za-z0-9_-]+)/.exec(mail.parsed.text ?? '')![1]!;
    const rows = await database.db.select().from(signInTokens).where(eq(signInTokens.userId, riley.rep.id));
    expect(rows.map((row) => row.tokenHash)).toContain(hashSignInToken(token));
    expect(JSON.stringify(rows)).not.toContain(token);
  });

  it('work once, and not after 15 minutes', async () => {
    const rep = await signIn(other.rep.email);
    expect((await rep.get('/me')).status).toBe(200);
    const mail = mailsTo(other.rep.email).at(-1)!;
    const path = /http:\/\/127\.0\.0\.1(\/login\/link\/[A-Za-z0-9_-]+)/.exec(mail.parsed.text ?? '')![1]!;
    const again = client();
    await again.get(path);
    expect((await again.post(path)).status).toBe(400);
    expect((await again.get('/me')).status).toBe(303);

    expect((await requestLink(other.rep.email)).status).toBe(200);
    const second = await waitFor('second link', async () => mailsTo(other.rep.email)[1]);
    const stale = /http:\/\/127\.0\.0\.1(\/login\/link\/[A-Za-z0-9_-]+)/.exec(second.parsed.text ?? '')![1]!;
    const [row] = await database.db.select().from(signInTokens).where(eq(signInTokens.tokenHash, hashSignInToken(stale.split('/').at(-1)!)));
    expect(row!.expiresAt.getTime() - row!.createdAt.getTime()).toBe(15 * 60_000);
    await database.db.update(signInTokens).set({ expiresAt: new Date(Date.now() - 1000) }).where(eq(signInTokens.id, row!.id));
    const late = client();
    await late.get(stale);
    expect((await late.post(stale)).status).toBe(400);
  });
});

describe('invites', () => {
  it('a manager emails an invite to their own rep through real SMTP; another manager\'s rep is not found', async () => {
    const manager = client();
    await manager.get('/login');
    const login = await manager.post('/login', { email: riley.manager.email, password: 'manager-password-1234' });
    expect(login.status).toBe(303);
    const usersPage = await manager.get('/users');
    expect(usersPage.text).toContain(riley.rep.email);
    expect(usersPage.text).not.toContain(other.rep.email);
    const before = mailsTo(riley.rep.email).length;
    const sent = await manager.post(`/users/${riley.rep.id}/invite`);
    expect(sent).toMatchObject({ status: 303, location: '/users' });
    const invite = await waitFor('invite', async () => mailsTo(riley.rep.email)[before]);
    expect(invite.parsed.subject).toBe('You are invited to Practice Line');
    expect((await manager.post(`/users/${other.rep.id}/invite`)).status).toBe(404);
    expect((await manager.post(`/users/${riley.manager.id}/invite`)).status).toBe(404);
  });
});

describe('a signed-in rep', () => {
  let rep: ReturnType<typeof client>;
  beforeAll(async () => {
    rep = await signIn(riley.rep.email);
  });

  it('sees their own assignments and calls, without cost or latency internals', async () => {
    const home = await rep.get('/me');
    expect(home.status).toBe(200);
    expect(home.text).toContain(riley.scenario.title);
    expect(home.text).not.toContain(other.scenario.title);
    expect(home.text).toContain(`/calls/${ids.rileyCall}`);
    expect(home.text).not.toContain(ids.otherCall);
    const own = await rep.get(`/calls/${ids.rileyCall}`);
    expect(own.status).toBe(200);
    expect(own.text).toContain('64');
    expect(own.text).not.toContain('Estimated cost');
    expect(own.text).not.toContain('Latency per turn');
    expect((await rep.get('/')).location).toBe('/me');
  });

  it('gets 404 for anyone else\'s call, assignment and practice call, and for every staff page', async () => {
    expect((await rep.get(`/calls/${ids.otherCall}`)).status).toBe(404);
    expect((await rep.get(`/calls/${ids.otherCall}/events`)).status).toBe(404);
    expect((await rep.get(`/practice/calls/${ids.otherWebCall}`)).status).toBe(404);
    expect((await rep.post(`/practice/calls/${ids.otherWebCall}/no-agent`)).status).toBe(404);
    expect((await rep.post(`/practice/assignments/${other.assignment.id}`)).status).toBe(404);
    expect((await rep.post(`/practice/assignments/not-a-uuid`)).status).toBe(404);
    for (const path of ['/calls', '/live', '/assignments', '/scenarios', '/personas', '/users', `/scenarios/${riley.scenario.id}`]) {
      expect((await rep.get(path)).status, path).toBe(404);
    }
    expect((await rep.post(`/scenarios/${riley.scenario.id}/try`)).status).toBe(404);
    expect((await rep.post(`/users/${riley.rep.id}/invite`)).status).toBe(404);
    // The JSON API takes bearer tokens only (reps are never issued one): a session cookie is no key.
    const api = await fetch(`${base}/api/calls/${ids.rileyCall}`, { headers: { cookie: rep.state.cookie } });
    expect([401, 404]).toContain(api.status);
  });

  it('joins their own browser call with a token for that room and the microphone only', async () => {
    const page = await rep.get(`/practice/calls/${ids.rileyWebCall}`);
    expect(page.status).toBe(200);
    const token = /data-token="([^"]+)"/.exec(page.text)![1]!;
    const [call] = await database.db.select().from(calls).where(eq(calls.id, ids.rileyWebCall));
    const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { sub?: string; exp?: number; video?: Record<string, unknown> };
    expect(claims.sub).toBe(`caller-${riley.rep.id}`);
    expect(claims.video).toMatchObject({ room: call!.roomName, roomJoin: true, canPublish: true, canPublishSources: ['microphone'], canPublishData: false, canSubscribe: true });
    expect(claims.video).not.toHaveProperty('roomAdmin');
    expect(claims.exp! - Date.now() / 1000).toBeLessThanOrEqual(420 + 300 + 5);
    const csp = (await fetch(`${base}/practice/calls/${ids.rileyWebCall}`, { headers: { cookie: rep.state.cookie } })).headers.get('content-security-policy') ?? '';
    expect(csp).toMatch(/connect-src 'self' ws:\/\/127\.0\.0\.1:9 http:\/\/127\.0\.0\.1:9/);
    const script = await fetch(`${base}/assets/practice.js`);
    expect(script.headers.get('content-type')).toContain('javascript');
    expect((await script.text()).length).toBeGreaterThan(100_000);
  });

  it('is refused "Practise now" by the same rules as the phone: no attempts left, or past an enforced due date', async () => {
    await database.db.update(assignments).set({ maxAttempts: 1, attemptsUsed: 1 }).where(eq(assignments.id, riley.assignment.id));
    const used = await rep.post(`/practice/assignments/${riley.assignment.id}`);
    expect(used).toMatchObject({ status: 303, location: '/me' });
    expect((await rep.get('/me')).text).toContain('You have used every attempt on this assignment');
    await database.db.update(assignments).set({ maxAttempts: 5, dueAt: new Date(Date.now() - 86_400_000), enforceDueDate: true }).where(eq(assignments.id, riley.assignment.id));
    await rep.post(`/practice/assignments/${riley.assignment.id}`);
    const home = (await rep.get('/me')).text;
    expect(home).toContain('no longer takes calls');
    expect(home).toContain('overdue');
    const [row] = await database.db.select().from(assignments).where(eq(assignments.id, riley.assignment.id));
    expect(row!.attemptsUsed).toBe(1);
  });

  it('has one browser call open at a time (a second "Practise now" neither opens a room nor uses an attempt)', async () => {
    await database.db.update(assignments).set({ maxAttempts: 5, attemptsUsed: 1, dueAt: null, enforceDueDate: false }).where(eq(assignments.id, riley.assignment.id));
    // ids.rileyWebCall is still dispatching.
    const again = await rep.post(`/practice/assignments/${riley.assignment.id}`);
    expect(again).toMatchObject({ status: 303, location: '/me' });
    expect((await rep.get('/me')).text).toContain('You already have a practice call open');
    const [row] = await database.db.select().from(assignments).where(eq(assignments.id, riley.assignment.id));
    expect(row!.attemptsUsed).toBe(1);
  });

  it('with no persona agent free, "Practise now" says so before anything is created or used', async () => {
    const before = (await database.db.select().from(calls).where(eq(calls.repId, riley.rep.id))).length;
    // Same session (cookies ignore the port), the web view whose agent health check finds no worker.
    const elsewhere = client(() => baseNoPartner);
    elsewhere.state.cookie = rep.state.cookie;
    await elsewhere.get('/me');
    const refused = await elsewhere.post(`/practice/assignments/${riley.assignment.id}`);
    expect(refused).toMatchObject({ status: 303, location: '/me' });
    expect((await elsewhere.get('/me')).text).toContain('No practice partner is free right now');
    expect((await database.db.select().from(calls).where(eq(calls.repId, riley.rep.id))).length).toBe(before);
    expect((await database.db.select().from(assignments).where(eq(assignments.id, riley.assignment.id)))[0]!.attemptsUsed).toBe(1);
  });

  it('cannot sign in with a link issued before the rep was deactivated', async () => {
    const [gone] = await database.db.insert(users).values({ role: 'rep', name: 'Soon Gone', email: 'soon-gone@test.local', managerId: riley.manager.id }).returning();
    await requestLink(gone!.email);
    const mail = await waitFor('link', async () => mailsTo(gone!.email)[0]);
    await database.db.update(users).set({ active: false }).where(eq(users.id, gone!.id));
    const path = /http:\/\/127\.0\.0\.1(\/login\/link\/[A-Za-z0-9_-]+)/.exec(mail.parsed.text ?? '')![1]!;
    const late = client();
    await late.get(path);
    expect((await late.post(path)).status).toBe(400);
  });
});

describe('sign-in link limits (last: they use up this client address)', () => {
  it('are rate limited per address and per client address, with the same answer', async () => {
    const [extra] = await database.db.insert(users).values({ role: 'rep', name: 'Rate Limited', email: 'rate-limited@test.local', managerId: riley.manager.id }).returning();
    const answers = [];
    for (let i = 0; i < 4; i += 1) answers.push(await requestLink(extra!.email));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 429]);
    expect(/<p role="status">([^<]+)<\/p>/.exec(answers[3]!.text)?.[1]).toBe(/<p role="status">([^<]+)<\/p>/.exec(answers[0]!.text)?.[1]);
    await sleep(500);
    expect(mailsTo(extra!.email)).toHaveLength(3);

    // One client trying many addresses: the per-IP limit (12 here; earlier tests used some) stops it.
    const statuses = [];
    for (let i = 0; i < 12; i += 1) statuses.push((await requestLink(`guess-${i}@test.local`)).status);
    expect(statuses).toContain(429);
  });
});
