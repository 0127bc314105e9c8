// Input edges of the JSON API and the web forms: a NUL character (which PostgreSQL cannot store)
// is refused with a 400 naming the field instead of reaching the database as a 500; the scorecard
// preview (a paid LLM call each) has a body size limit and a per-user rate limit; lists are
// paginated; personas and scenarios are edited only by their owning team's manager or an admin.
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword, verifyPassword } from '../../src/adapters/password.js';
import { createApiToken } from '../../src/app/api_tokens.js';
import { createUser } from '../../src/app/users.js';
import { loadConfig } from '../../src/config.js';
import { systemActor } from '../../src/domain/access.js';
import { createHttpApp } from '../../src/http/app.js';
import { listen, type RunningServer } from '../../src/http/server.js';
import { makeWebRouter } from '../../src/http/web/web_router.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';

const PIN_SECRET = 'input-edges-pin-secret-0123456789abcdef';
let database: TestDatabase;
let server: RunningServer;
let closeWeb: () => Promise<void>;
let base: string;
let token: string;
const password = 'manager-password-0123';
let email: string;

type Json = Record<string, any>;
async function api(method: string, path: string, body?: unknown): Promise<{ status: number; body: Json }> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Json) : {} };
}

const persona = { name: 'Diane Carter', role: 'CFO', company: 'Northwind', personality: 'Sceptical.', objections: ['No budget.'], openingLine: 'Yes?' };

beforeAll(async () => {
  database = await createTestDatabase();
  const deps = { db: database.db, pinSecret: PIN_SECRET, hashPassword };
  const manager = await createUser(deps, systemActor, { role: 'manager', name: 'Morgan Edge', email: 'morgan.edges@example.test', password });
  email = manager.email;
  token = (await createApiToken(deps, systemActor, { name: 'edges', userId: manager.id })).token;
  const logger = pino({ level: 'silent' });
  const web = makeWebRouter({
    app: deps,
    pool: database.pool,
    sessionSecret: 'input-edges-secret-0123456789abcdef0123',
    publicBaseUrl: 'http://localhost:3000',
    verifyPassword,
    logger,
    defaultVoiceId: 'v',
    defaultLlmModel: 'm',
    pruneExpiredSessions: false,
  });
  closeWeb = web.close;
  const app = createHttpApp({
    logger,
    health: { pingDatabase: database.ping, integrations: loadConfig({}).integrations },
    managementApi: { ...deps, personaDefaults: { llmModel: 'llama-test', voiceId: 'voice-test' } },
    scorecardApi: { db: database.db, scorecardModel: null, previewRateLimit: { windowMs: 60_000, limit: 3 } },
    web: web.router,
  });
  server = await listen(app, 0, '127.0.0.1');
  base = `http://127.0.0.1:${server.port}`;
});

afterAll(async () => {
  await closeWeb?.();
  await server?.close();
  await database?.close();
});

describe('a NUL character', () => {
  it('in a JSON field is a 400 naming that field, top-level or nested', async () => {
    const top = await api('POST', '/api/personas', { ...persona, name: 'Di\u0000ane' });
    expect(top.status).toBe(400);
    expect(top.body.error).toMatchObject({ code: 'invalid_input', fields: { name: expect.stringMatching(/NUL/) } });

    const nested = await api('POST', '/api/personas', { ...persona, objections: ['fine', 'no\u0000budget'] });
    expect(nested.status).toBe(400);
    expect(Object.keys(nested.body.error.fields)).toEqual(['objections.1']);

    const inQuery = await api('GET', '/api/calls?status=completed%00');
    expect(inQuery.status).toBe(400);
    expect(Object.keys(inQuery.body.error.fields)).toEqual(['query.status']);

    // Nothing was stored, and the same request without the NUL works.
    expect((await api('GET', '/api/personas')).body.items).toEqual([]);
    expect((await api('POST', '/api/personas', persona)).status).toBe(201);
  });

  it('in a web form field is a 400 page naming that field', async () => {
    const form = await fetch(`${base}/login`);
    const cookie = (form.headers.get('set-cookie') ?? '').split(';')[0]!;
    const csrf = /name="_csrf" value="([^"]+)"/.exec(await form.text())?.[1] ?? '';
    const login = await fetch(`${base}/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: csrf, email, password }).toString(),
    });
    const session = (login.headers.get('set-cookie') ?? '').split(';')[0]!;
    const res = await fetch(`${base}/personas`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: session, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: csrf, name: 'Pat\u0000', role: 'CFO', company: 'Co', personality: 'x', openingLine: 'Hi' }).toString(),
    });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('The field “name” contains a NUL character');
  });
});

describe('POST /api/scorecards/preview', () => {
  it('refuses a body over the size limit with 413, then limits each user to a few previews a minute', async () => {
    const huge = await fetch(`${base}/api/scorecards/preview`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'text/plain' },
      body: `Rep: ${'hello '.repeat(80_000)}`,
    });
    expect(huge.status).toBe(413);
    expect(((await huge.json()) as Json).error.code).toBe('too_large');

    const preview = () => api('POST', '/api/scorecards/preview', { scenarioId: '00000000-0000-4000-8000-000000000000', transcript: 'Rep: hello' });
    // The oversized request counted too: two more fit in the window of three.
    expect((await preview()).status).toBe(404);
    expect((await preview()).status).toBe(404);
    const limited = await preview();
    expect(limited.status).toBe(429);
    expect(limited.body.error.code).toBe('rate_limited');
  });
});

describe('list endpoints', () => {
  it('are paginated (page, pageSize up to 200, hasMore), in a stable order', async () => {
    for (let i = 0; i < 5; i += 1) expect((await api('POST', '/api/personas', { ...persona, name: `Paged Persona ${i}` })).status).toBe(201);
    const all = (await api('GET', '/api/personas?pageSize=200')).body;
    expect(all.hasMore).toBe(false);
    expect(all.items.length).toBeGreaterThanOrEqual(5);

    const seen: string[] = [];
    for (let page = 1; ; page += 1) {
      const { status, body } = await api('GET', `/api/personas?pageSize=2&page=${page}`);
      expect(status).toBe(200);
      expect(body).toMatchObject({ page, pageSize: 2 });
      expect(body.items.length).toBeLessThanOrEqual(2);
      seen.push(...body.items.map((p: Json) => p.id));
      if (!body.hasMore) break;
    }
    expect(seen).toEqual(all.items.map((p: Json) => p.id));

    const tooBig = await api('GET', '/api/personas?pageSize=5000');
    expect(tooBig.status).toBe(400);
    expect(tooBig.body.error.fields).toHaveProperty('pageSize');
    for (const path of ['/api/users', '/api/scenarios', '/api/assignments', '/api/tokens']) {
      const { status, body } = await api('GET', `${path}?pageSize=1`);
      expect(status, path).toBe(200);
      expect(body, path).toMatchObject({ page: 1, pageSize: 1, hasMore: expect.any(Boolean) });
      expect(body.items.length, path).toBeLessThanOrEqual(1);
    }
  });
});

describe('team ownership of personas and scenarios', () => {
  it('lets the owning manager and admins edit; other managers may read and use them but not change them', async () => {
    const deps = { db: database.db, pinSecret: PIN_SECRET, hashPassword };
    const other = await createUser(deps, systemActor, { role: 'manager', name: 'Quinn Team', email: 'quinn.team@example.test' });
    const otherToken = (await createApiToken(deps, systemActor, { name: 'other', userId: other.id })).token;
    const admin = await createUser(deps, systemActor, { role: 'admin', name: 'Ada Team', email: 'ada.team@example.test' });
    const adminToken = (await createApiToken(deps, systemActor, { name: 'admin', userId: admin.id })).token;
    const as = (who: string) => async (method: string, path: string, body?: unknown) => {
      const saved = token;
      token = who;
      try {
        return await api(method, path, body);
      } finally {
        token = saved;
      }
    };
    const mine = await api('POST', '/api/personas', { ...persona, name: 'Team Persona' });
    expect(mine.status).toBe(201);
    expect(mine.body.teamManagerId).not.toBeNull();
    const scenario = await api('POST', '/api/scenarios', { title: 'Team scenario', objective: 'Book a demo', context: 'Cold call', difficulty: 'easy', personaId: mine.body.id, rubric: [{ id: 'open', name: 'Opening', description: 'Says why', weight: 1 }], timeLimitSeconds: 300 });
    expect(scenario.status).toBe(201);

    const quinn = as(otherToken);
    expect((await quinn('GET', `/api/personas/${mine.body.id}`)).status).toBe(200);
    const refused = await quinn('PATCH', `/api/personas/${mine.body.id}`, { name: 'Hijacked' });
    expect(refused.status).toBe(403);
    expect(refused.body.error.message).toMatch(/another team/);
    expect((await quinn('PATCH', `/api/scenarios/${scenario.body.id}`, { archived: true })).status).toBe(403);
    // Using another team's persona in one's own scenario is fine (shared, read-only).
    const borrowed = await quinn('POST', '/api/scenarios', { title: 'Borrowed', objective: 'Book a demo', context: 'Cold call', difficulty: 'easy', personaId: mine.body.id, rubric: [{ id: 'open', name: 'Opening', description: 'Says why', weight: 1 }], timeLimitSeconds: 300 });
    expect(borrowed.status).toBe(201);

    expect((await api('PATCH', `/api/personas/${mine.body.id}`, { name: 'Renamed by owner' })).status).toBe(200);
    expect((await as(adminToken)('PATCH', `/api/scenarios/${scenario.body.id}`, { archived: true })).status).toBe(200);
    // An admin's persona is the organisation's: managers use it, only admins change it.
    const shared = await as(adminToken)('POST', '/api/personas', { ...persona, name: 'Org Persona' });
    expect(shared.body.teamManagerId).toBeNull();
    expect((await api('PATCH', `/api/personas/${shared.body.id}`, { name: 'Nope' })).status).toBe(403);
    expect((await api('GET', `/api/personas/${mine.body.id}`)).body.name).toBe('Renamed by owner');

    // The web view shows the organisation's persona to this manager read-only, their own editable.
    const form = await fetch(`${base}/login`);
    const csrf = /name="_csrf" value="([^"]+)"/.exec(await form.text())?.[1] ?? '';
    const login = await fetch(`${base}/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: (form.headers.get('set-cookie') ?? '').split(';')[0]!, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: csrf, email, password }).toString(),
    });
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!;
    const sharedPage = await (await fetch(`${base}/personas/${shared.body.id}`, { headers: { cookie } })).text();
    expect(sharedPage).toContain('Read-only: this persona belongs to the whole organisation');
    expect(sharedPage).toContain('<fieldset disabled');
    const ownPage = await (await fetch(`${base}/personas/${mine.body.id}`, { headers: { cookie } })).text();
    expect(ownPage).not.toContain('Read-only');
    // Read-only is still usable: "Try this scenario" (decision 015) sits outside the disabled form.
    const orgScenario = await as(adminToken)('POST', '/api/scenarios', { title: 'Org scenario', objective: 'Book a demo', context: 'Cold call', difficulty: 'easy', personaId: shared.body.id, rubric: [{ id: 'open', name: 'Opening', description: 'Says why', weight: 1 }], timeLimitSeconds: 300 });
    expect(orgScenario.status).toBe(201);
    const orgScenarioPage = await (await fetch(`${base}/scenarios/${orgScenario.body.id}`, { headers: { cookie } })).text();
    expect(orgScenarioPage).toContain('Read-only: this scenario belongs to the whole organisation');
    const tryButton = orgScenarioPage.indexOf(`action="/scenarios/${orgScenario.body.id}/try"`);
    expect(tryButton).toBeGreaterThan(-1);
    expect(tryButton).toBeLessThan(orgScenarioPage.indexOf('<fieldset disabled'));
    const sharedWithScenario = await (await fetch(`${base}/personas/${shared.body.id}`, { headers: { cookie } })).text();
    const tryFromPersona = sharedWithScenario.indexOf(`action="/scenarios/${orgScenario.body.id}/try"`);
    expect(tryFromPersona).toBeGreaterThan(-1);
    expect(tryFromPersona).toBeLessThan(sharedWithScenario.indexOf('<fieldset disabled'));
  });
});
