// The call page's scorecard and transcript state: "Re-run scoring" (a manager replaces a scorecard
// a Groq outage left unavailable, over plain HTTP with the real session, CSRF and the Groq
// emulator) and the "transcript incomplete" warning.
import { eq } from 'drizzle-orm';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assignments, auditLog, calls, scorecards, users } from '../../src/adapters/db/schema.js';
import { createGroqScorecardModel } from '../../src/adapters/groq/scorecard_model.js';
import { hashPassword, verifyPassword } from '../../src/adapters/password.js';
import { createUser } from '../../src/app/users.js';
import { loadConfig } from '../../src/config.js';
import { systemActor } from '../../src/domain/access.js';
import { createHttpApp } from '../../src/http/app.js';
import { listen, type RunningServer } from '../../src/http/server.js';
import { makeWebRouter } from '../../src/http/web/web_router.js';
import { startGroqEmulator, type GroqEmulator } from '../emulators/groq_emulator.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { createCall, createWorld, GOOD_ANSWER, type World } from '../post_call/fixtures.js';

const PIN_SECRET = 'rescore-test-pin-secret-0123456789abcdef';
let database: TestDatabase;
let groq: GroqEmulator;
let server: RunningServer;
let closeWeb: () => Promise<void>;
let base: string;
let world: World;

beforeAll(async () => {
  database = await createTestDatabase();
  groq = await startGroqEmulator();
  groq.script.add({ when: (request) => (request as { response_format?: unknown }).response_format !== undefined, json: GOOD_ANSWER });
  world = await createWorld(database.db);
  const logger = pino({ level: 'silent' });
  const web = makeWebRouter({
    app: { db: database.db, pinSecret: PIN_SECRET, hashPassword },
    pool: database.pool,
    sessionSecret: 'rescore-test-secret-0123456789abcdef0123',
    publicBaseUrl: 'http://localhost:3000',
    verifyPassword,
    logger,
    defaultVoiceId: 'v',
    defaultLlmModel: 'm',
    pruneExpiredSessions: false,
    rescoreRateLimit: 3,
    scoring: { scorecardModel: createGroqScorecardModel({ apiKey: groq.apiKey, baseUrl: groq.url, model: 'openai/gpt-oss-120b' }), scorecardRetryDelayMs: 10 },
  });
  closeWeb = web.close;
  server = await listen(createHttpApp({ logger, health: { pingDatabase: database.ping, integrations: loadConfig({}).integrations }, web: web.router }), 0, '127.0.0.1');
  base = `http://127.0.0.1:${server.port}`;
});

afterAll(async () => {
  await closeWeb?.();
  await server?.close();
  await groq?.stop();
  await database?.close();
});

async function logIn(email: string, password: string): Promise<string> {
  const form = await fetch(`${base}/login`);
  const cookie = (form.headers.get('set-cookie') ?? '').split(';')[0]!;
  const token = /name="_csrf" value="([^"]+)"/.exec(await form.text())?.[1] ?? '';
  const res = await fetch(`${base}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ _csrf: token, email, password }).toString(),
  });
  expect(res.status).toBe(303);
  return (res.headers.get('set-cookie') ?? '').split(';')[0]!;
}

describe('re-run scoring from the call page', () => {
  it('lets the rep’s manager replace an unavailable scorecard, and records it in the audit log', async () => {
    const password = 'manager-password-0123';
    await database.db.update(users).set({ passwordHash: await hashPassword(password) }).where(eq(users.id, world.managerId));
    const callId = await createCall(database.db, world);
    await database.db.update(calls).set({ status: 'completed', endedAt: new Date() }).where(eq(calls.id, callId));
    await database.db.insert(scorecards).values({ callId, status: 'unavailable', reason: 'no valid scorecard after 3 tries: groq 503', model: 'm', promptVersion: 'scorecard-v1' });

    const [manager] = await database.db.select().from(users).where(eq(users.id, world.managerId));
    const cookie = await logIn(manager!.email, password);
    const page = await (await fetch(`${base}/calls/${callId}`, { headers: { cookie } })).text();
    expect(page).toContain('Scorecard unavailable');
    expect(page).toContain(`action="/calls/${callId}/rescore"`);
    const token = /action="\/calls\/[^"]+\/rescore" class="inline"><input type="hidden" name="_csrf" value="([^"]+)"/.exec(page)?.[1] ?? '';

    // Without the form's CSRF token nothing happens.
    const forged = await fetch(`${base}/calls/${callId}/rescore`, { method: 'POST', redirect: 'manual', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: '' });
    expect(forged.status).toBe(403);

    const res = await fetch(`${base}/calls/${callId}/rescore`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: token }).toString(),
    });
    expect(res.status).toBe(303);
    const [card] = await database.db.select().from(scorecards).where(eq(scorecards.callId, callId));
    expect(card).toMatchObject({ status: 'scored', overallScore: 70, reason: null });
    const after = await (await fetch(`${base}/calls/${callId}`, { headers: { cookie } })).text();
    expect(after).toContain('<span class="score">70</span>');
    const audit = await database.db.select().from(auditLog).where(eq(auditLog.entityId, callId));
    expect(audit.map((row) => row.action)).toContain('scorecard.rescored');
    // 70 meets the pass mark of 70: the rep's assignment now shows as passed (decision 015).
    const [assignment] = await database.db.select().from(assignments).where(eq(assignments.id, world.assignmentId));
    expect(assignment!.passedAt).not.toBeNull();
  });

  it('shows a transcript marked incomplete as such on the call page', async () => {
    const password = 'manager-password-0123';
    await database.db.update(users).set({ passwordHash: await hashPassword(password) }).where(eq(users.id, world.managerId));
    const callId = await createCall(database.db, world);
    const [manager] = await database.db.select().from(users).where(eq(users.id, world.managerId));
    const cookie = await logIn(manager!.email, password);
    expect(await (await fetch(`${base}/calls/${callId}`, { headers: { cookie } })).text()).not.toContain('Transcript incomplete');
    await database.db.update(calls).set({ status: 'completed', endedAt: new Date(), transcriptIncomplete: true }).where(eq(calls.id, callId));
    expect(await (await fetch(`${base}/calls/${callId}`, { headers: { cookie } })).text()).toContain('Transcript incomplete:');
  });

  it('refuses a manager of another team as not found, and changes nothing', async () => {
    const password = 'other-manager-password-0123';
    const other = await createUser({ db: database.db, pinSecret: PIN_SECRET, hashPassword }, systemActor, { role: 'manager', name: 'Quinn Other', email: 'quinn.rescore@example.test', password });
    const callId = await createCall(database.db, world);
    await database.db.update(calls).set({ status: 'completed', endedAt: new Date() }).where(eq(calls.id, callId));
    const cookie = await logIn(other.email, password);
    const page = await fetch(`${base}/calls/${callId}`, { headers: { cookie } });
    expect(page.status).toBe(404);
    const token = /name="_csrf" value="([^"]+)"/.exec(await (await fetch(`${base}/calls`, { headers: { cookie } })).text())?.[1] ?? '';
    const res = await fetch(`${base}/calls/${callId}/rescore`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: token }).toString(),
    });
    expect(res.status).toBe(404);
    expect(await database.db.select().from(scorecards).where(eq(scorecards.callId, callId))).toEqual([]);
  });

  it('limits re-scoring to a few requests a minute per user', async () => {
    const password = 'admin-password-0123';
    const admin = await createUser({ db: database.db, pinSecret: PIN_SECRET, hashPassword }, systemActor, { role: 'admin', name: 'Ada Limit', email: 'ada.limit.rescore@example.test', password });
    const callId = await createCall(database.db, world);
    await database.db.update(calls).set({ status: 'completed', endedAt: new Date() }).where(eq(calls.id, callId));
    const cookie = await logIn(admin.email, password);
    const token = /name="_csrf" value="([^"]+)"/.exec(await (await fetch(`${base}/calls/${callId}`, { headers: { cookie } })).text())?.[1] ?? '';
    const rescore = () =>
      fetch(`${base}/calls/${callId}/rescore`, { method: 'POST', redirect: 'manual', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ _csrf: token }).toString() });
    expect([(await rescore()).status, (await rescore()).status, (await rescore()).status]).toEqual([303, 303, 303]);
    expect((await rescore()).status).toBe(429);
  });
});
