// The management API end to end over HTTP against a real, migrated PostgreSQL.
import { eq, sql } from 'drizzle-orm';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiTokens, assignments, auditLog, calls, scenarios, scorecards, turnMetrics, turns } from '../../src/adapters/db/schema.js';
import { hashPassword } from '../../src/adapters/password.js';
import { createApiToken, hashApiToken, revokeApiToken } from '../../src/app/api_tokens.js';
import { createCallRoutingStore } from '../../src/adapters/db/call_routing_store.js';
import { buildMetadata } from '../../src/app/resolve_call.js';
import { createUser } from '../../src/app/users.js';
import type { AppDeps } from '../../src/app/use_case.js';
import { systemActor } from '../../src/domain/access.js';
import { hashPin } from '../../src/domain/pin.js';
import { createHttpApp } from '../../src/http/app.js';
import { listen, type RunningServer } from '../../src/http/server.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';

const PIN_SECRET = 'test-pin-secret-0123456789abcdef0123456789';

let database: TestDatabase;
let server: RunningServer;
let base: string;
let deps: AppDeps;
const tokens = { admin: '', morgan: '', quinn: '' };
const ids = { morgan: '', quinn: '', riley: '', pat: '' };

type Json = Record<string, any>;

async function api(token: string | null, method: string, path: string, body?: unknown): Promise<{ status: number; body: Json; headers: Headers }> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: {
      ...(token === null ? {} : { authorization: `Bearer ${token}` }),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as Json) : {}, headers: response.headers };
}

const personaBody = {
  name: 'Diane Carter',
  role: 'Chief Financial Officer',
  company: 'Northwind Logistics',
  personality: 'Sceptical and numbers-driven.',
  objections: ['Not in this year’s budget.'],
  openingLine: 'Diane Carter. You have two minutes.',
};

const rubric = [
  { id: 'discovery', name: 'Discovery', description: 'Asks about the buyer’s situation', weight: 2 },
  { id: 'next_step', name: 'Next step', description: 'Secures a concrete next step', weight: 1 },
];

async function createScenarioVia(token: string, extra: Json = {}): Promise<Json> {
  const persona = await api(token, 'POST', '/api/personas', personaBody);
  expect(persona.status).toBe(201);
  const scenario = await api(token, 'POST', '/api/scenarios', {
    title: 'Budget objection',
    objective: 'Book a follow-up meeting',
    context: 'Cold call to a CFO',
    difficulty: 'hard',
    personaId: persona.body.id,
    rubric,
    timeLimitSeconds: 300,
    ...extra,
  });
  expect(scenario.status).toBe(201);
  return scenario.body;
}

beforeAll(async () => {
  database = await createTestDatabase();
  deps = { db: database.db, pinSecret: PIN_SECRET, hashPassword };
  const admin = await createUser(deps, systemActor, { role: 'admin', name: 'Ada Admin', email: 'ada@example.test' });
  const morgan = await createUser(deps, systemActor, { role: 'manager', name: 'Morgan Manager', email: 'morgan@example.test' });
  const quinn = await createUser(deps, systemActor, { role: 'manager', name: 'Quinn Other', email: 'quinn@example.test' });
  const riley = await createUser(deps, systemActor, { role: 'rep', name: 'Riley Rep', email: 'riley@example.test', managerId: morgan.id, phoneNumbers: ['+15550100001'] });
  const pat = await createUser(deps, systemActor, { role: 'rep', name: 'Pat Peer', email: 'pat@example.test', managerId: quinn.id });
  Object.assign(ids, { morgan: morgan.id, quinn: quinn.id, riley: riley.id, pat: pat.id });
  tokens.admin = (await createApiToken(deps, systemActor, { name: 'admin', userId: admin.id })).token;
  tokens.morgan = (await createApiToken(deps, systemActor, { name: 'morgan', userId: morgan.id })).token;
  tokens.quinn = (await createApiToken(deps, systemActor, { name: 'quinn', userId: quinn.id })).token;

  const app = createHttpApp({
    logger: pino({ level: 'silent' }),
    health: { pingDatabase: database.ping, integrations: {} as never },
    managementApi: { ...deps, personaDefaults: { llmModel: 'llama-test', voiceId: 'voice-test' } },
  });
  server = await listen(app, 0, '127.0.0.1');
  base = `http://127.0.0.1:${server.port}`;
});

afterAll(async () => {
  await server?.close();
  await database?.close();
});

describe('authentication', () => {
  it('rejects a missing, unknown or revoked token with 401', async () => {
    const missing = await api(null, 'GET', '/api/personas');
    expect(missing.status).toBe(401);
    expect(missing.body.error.code).toBe('unauthorized');
    expect(missing.headers.get('www-authenticate')).toBe('Bearer');

    expect((await api('pl_not-a-real-token', 'GET', '/api/personas')).status).toBe(401);
    expect((await api('garbage', 'GET', '/api/calls')).status).toBe(401);

    const issued = await createApiToken(deps, systemActor, { name: 'short-lived', userId: ids.morgan });
    expect((await api(issued.token, 'GET', '/api/personas')).status).toBe(200);
    await revokeApiToken(deps, systemActor, issued.apiToken.id);
    expect((await api(issued.token, 'GET', '/api/personas')).status).toBe(401);
  });

  it('stores only a hash of API tokens and never issues one to a rep', async () => {
    const created = await api(tokens.morgan, 'POST', '/api/tokens', { name: 'ci' });
    expect(created.status).toBe(201);
    expect(created.body.token).toMatch(/^pl_/);
    expect(created.body.apiToken.tokenHash).toBeUndefined();
    const stored = await database.pool.query('select count(*)::int as n from api_tokens where token_hash = $1', [created.body.token]);
    expect(stored.rows[0].n).toBe(0);

    const forRep = await api(tokens.admin, 'POST', '/api/tokens', { name: 'rep', userId: ids.riley });
    expect(forRep.status).toBe(403);
    expect(forRep.body.error.code).toBe('forbidden');

    // Even a token row that somehow belongs to a rep (say, a manager later demoted) opens nothing.
    const repToken = 'pl_rep-token-that-exists-in-the-table';
    await database.db.insert(apiTokens).values({ userId: ids.riley, name: 'legacy', tokenHash: hashApiToken(repToken) });
    expect((await api(repToken, 'GET', '/api/calls')).status).toBe(401);
  });
});

describe('assignments and PINs', () => {
  it('returns the PIN once, stores only its HMAC, and never shows it again', async () => {
    const scenario = await createScenarioVia(tokens.morgan);
    const created = await api(tokens.morgan, 'POST', '/api/assignments', {
      scenarioId: scenario.id,
      repId: ids.riley,
      dueAt: '2030-01-31T17:00:00Z',
      enforceDueDate: true,
      passMark: 80,
      maxAttempts: 3,
    });
    expect(created.status).toBe(201);
    expect(created.headers.get('cache-control')).toBe('no-store');
    const pin = created.body.pin as string;
    expect(pin).toMatch(/^\d{6}$/);
    const id = created.body.assignment.id as string;
    expect(created.body.assignment).toMatchObject({ status: 'active', passMark: 80, maxAttempts: 3, attemptsUsed: 0, attemptsLeft: 3 });
    expect(created.body.assignment.pinHash).toBeUndefined();

    const one = await api(tokens.morgan, 'GET', `/api/assignments/${id}`);
    const list = await api(tokens.morgan, 'GET', '/api/assignments');
    expect(one.status).toBe(200);
    expect(list.body.items.map((item: Json) => item.id)).toContain(id);
    for (const response of [one, list]) {
      expect(JSON.stringify(response.body)).not.toContain(pin);
      expect(JSON.stringify(response.body)).not.toContain('pinHash');
    }

    const [row] = await database.db.select().from(assignments).where(eq(assignments.id, id));
    expect(row?.pinHash).toBe(hashPin(PIN_SECRET, pin));
    const dump = await database.pool.query(
      `select (select string_agg(a::text, '|') from assignments a) || (select string_agg(l::text, '|') from audit_log l) as everything`,
    );
    expect(dump.rows[0].everything).not.toContain(pin);

    const audit = await database.db.select().from(auditLog).where(eq(auditLog.entityId, id));
    expect(audit.map((entry) => entry.action)).toEqual(['assignment.created']);
    expect(audit[0]?.actorUserId).toBe(ids.morgan);
  });

  it('rotates the PIN, revokes, and refuses to rotate a revoked assignment', async () => {
    const scenario = await createScenarioVia(tokens.admin);
    const created = await api(tokens.admin, 'POST', '/api/assignments', { scenarioId: scenario.id, repId: ids.riley });
    expect(created.status).toBe(201);
    const id = created.body.assignment.id as string;

    const rotated = await api(tokens.morgan, 'POST', `/api/assignments/${id}/rotate-pin`);
    expect(rotated.status).toBe(200);
    expect(rotated.body.pin).toMatch(/^\d{6}$/);
    expect(rotated.body.assignment.pinRotatedAt).toBeTruthy();
    const [row] = await database.db.select().from(assignments).where(eq(assignments.id, id));
    expect(row?.pinHash).toBe(hashPin(PIN_SECRET, rotated.body.pin));
    expect(row?.pinHash).not.toBe(hashPin(PIN_SECRET, created.body.pin));

    const revoked = await api(tokens.morgan, 'POST', `/api/assignments/${id}/revoke`);
    expect(revoked.status).toBe(200);
    expect(revoked.body.status).toBe('revoked');
    const again = await api(tokens.morgan, 'POST', `/api/assignments/${id}/revoke`);
    expect(again.body.revokedAt).toBe(revoked.body.revokedAt);

    const late = await api(tokens.morgan, 'POST', `/api/assignments/${id}/rotate-pin`);
    expect(late.status).toBe(409);
    expect(late.body.error.code).toBe('conflict');

    const listed = await api(tokens.morgan, 'GET', '/api/assignments');
    expect(listed.body.items.map((item: Json) => item.id)).not.toContain(id);
    const withRevoked = await api(tokens.morgan, 'GET', '/api/assignments?includeRevoked=true');
    expect(withRevoked.body.items.map((item: Json) => item.id)).toContain(id);

    const audit = await database.db.select().from(auditLog).where(eq(auditLog.entityId, id)).orderBy(auditLog.id);
    expect(audit.map((entry) => entry.action)).toEqual(['assignment.created', 'assignment.pin_rotated', 'assignment.revoked']);
  });
});

describe('validation', () => {
  it('answers malformed bodies with 400 naming each bad field', async () => {
    const persona = await api(tokens.morgan, 'POST', '/api/personas', { ...personaBody, temperature: 5, name: '' });
    expect(persona.status).toBe(400);
    expect(persona.body.error.code).toBe('invalid_input');
    expect(Object.keys(persona.body.error.fields).sort()).toEqual(['name', 'temperature']);

    const good = await api(tokens.morgan, 'POST', '/api/personas', personaBody);
    const scenario = await api(tokens.morgan, 'POST', '/api/scenarios', {
      title: 'x',
      objective: 'y',
      context: 'z',
      personaId: good.body.id,
      rubric: [
        { id: 'discovery', name: 'Discovery', weight: 0 },
        { id: 'discovery', name: 'Again', weight: 1 },
      ],
      timeLimitSeconds: 5,
      extension: '123456',
    });
    expect(scenario.status).toBe(400);
    expect(scenario.body.error.fields).toMatchObject({
      'rubric.0.weight': 'must be greater than 0',
      'rubric.1.id': 'duplicate criterion id discovery',
      timeLimitSeconds: 'must be at least 30 seconds',
      extension: 'expected 2 to 5 digits',
    });

    const assignment = await api(tokens.morgan, 'POST', '/api/assignments', { passMark: 150 });
    expect(assignment.status).toBe(400);
    expect(Object.keys(assignment.body.error.fields).sort()).toEqual(['passMark', 'repId', 'scenarioId']);
    // Cross-field rules run once every field parses on its own.
    const undated = await api(tokens.morgan, 'POST', '/api/assignments', { scenarioId: good.body.id, repId: ids.riley, enforceDueDate: true });
    expect(undated.status).toBe(400);
    expect(undated.body.error.fields).toEqual({ dueAt: 'required when enforceDueDate is true' });

    const notJson = await api(tokens.morgan, 'POST', '/api/personas', '{"name": ');
    expect(notJson.status).toBe(400);
    expect(notJson.body.error.code).toBe('invalid_json');

    const user = await api(tokens.admin, 'POST', '/api/users', { role: 'boss', name: 'X', email: 'nope', phoneNumbers: ['555'] });
    expect(user.status).toBe(400);
    expect(Object.keys(user.body.error.fields).sort()).toEqual(['email', 'phoneNumbers.0', 'role']);
  });

  it('stores a scenario\'s background noise, refuses an unknown one, and hands it to the agent in the room metadata', async () => {
    const quiet = await createScenarioVia(tokens.morgan);
    expect(quiet.backgroundNoise).toBe('none');
    const street = await createScenarioVia(tokens.morgan, { backgroundNoise: 'street' });
    expect(street.backgroundNoise).toBe('street');
    const jungle = await api(tokens.morgan, 'PATCH', `/api/scenarios/${street.id}`, { backgroundNoise: 'jungle' });
    expect(jungle.status).toBe(400);
    expect(Object.keys(jungle.body.error.fields)).toEqual(['backgroundNoise']);
    const loaded = await createCallRoutingStore(database.db).scenario(street.id);
    const metadata = buildMetadata('0d6f3a52-8a4e-4f8a-a0f5-0f6c1b7d9e21', loaded!, { id: ids.riley, name: 'Riley Rep', role: 'rep', active: true });
    expect(metadata.scenario.backgroundNoise).toBe('street');
  });

  it("stores a scenario's scorecard and email language (null: the persona's), in its canonical spelling, and refuses an unsupported one", async () => {
    const followsPersona = await createScenarioVia(tokens.morgan);
    expect(followsPersona.feedbackLanguage).toBeNull();
    const english = await createScenarioVia(tokens.morgan, { feedbackLanguage: 'en-gb' });
    expect(english.feedbackLanguage).toBe('en-GB');
    const klingon = await api(tokens.morgan, 'PATCH', `/api/scenarios/${english.id}`, { feedbackLanguage: 'tlh' });
    expect(klingon.status).toBe(400);
    expect(Object.keys(klingon.body.error.fields)).toEqual(['feedbackLanguage']);
    const back = await api(tokens.morgan, 'PATCH', `/api/scenarios/${english.id}`, { feedbackLanguage: null });
    expect(back.status).toBe(200);
    expect(back.body.feedbackLanguage).toBeNull();
  });

  it('builds a staged scenario: stages added, reordered and removed as a whole list, validated per field, handed to the agent as v2 metadata', async () => {
    const persona = async (name: string, role: string) => (await api(tokens.morgan, 'POST', '/api/personas', { ...personaBody, name, role })).body.id as string;
    const [sam, diane, omar] = [await persona('Sam Reyes', 'Receptionist'), await persona('Diane Carter', 'CFO'), await persona('Omar Haddad', 'CEO')];
    const rule = 'the caller gives their name and a business reason';
    const staged = await createScenarioVia(tokens.morgan, { personaId: sam, stages: [{ personaId: diane, advanceRule: rule }] });
    expect(staged.stages).toEqual([{ position: 1, personaId: diane, advanceRule: rule }]);
    expect((await api(tokens.morgan, 'GET', `/api/scenarios/${staged.id}`)).body.stages).toEqual(staged.stages);

    const twoStages = await api(tokens.morgan, 'PATCH', `/api/scenarios/${staged.id}`, { stages: [{ personaId: omar, advanceRule: 'asked for the boss' }, { personaId: diane, advanceRule: rule }] });
    expect(twoStages.status).toBe(200);
    expect(twoStages.body.stages.map((stage: Json) => [stage.position, stage.personaId])).toEqual([[1, omar], [2, diane]]);
    const listed = (await api(tokens.morgan, 'GET', '/api/scenarios')).body.items.find((item: Json) => item.id === staged.id);
    expect(listed.stages).toHaveLength(2);

    const store = createCallRoutingStore(database.db);
    const rep = { id: ids.riley, name: 'Riley Rep', role: 'rep', active: true } as const;
    const metadata = buildMetadata('0d6f3a52-8a4e-4f8a-a0f5-0f6c1b7d9e21', (await store.scenario(staged.id))!, rep);
    expect(metadata).toMatchObject({ v: 2, personaId: sam, persona: { name: 'Sam Reyes' } });
    expect(metadata.stages!.map((stage) => [stage.personaId, stage.persona.name, stage.advanceRule])).toEqual([[omar, 'Omar Haddad', 'asked for the boss'], [diane, 'Diane Carter', rule]]);

    const bad = await api(tokens.morgan, 'PATCH', `/api/scenarios/${staged.id}`, { stages: [{ personaId: diane, advanceRule: ' ' }, { advanceRule: rule }] });
    expect(bad.status).toBe(400);
    expect(bad.body.error.fields).toEqual({ 'stages.0.advanceRule': expect.stringContaining('required'), 'stages.1.personaId': 'expected an id' });
    const twice = await api(tokens.morgan, 'PATCH', `/api/scenarios/${staged.id}`, { stages: [{ personaId: diane, advanceRule: rule }, { personaId: diane, advanceRule: rule }] });
    expect(twice.body.error.fields).toEqual({ 'stages.1.personaId': 'this persona is already a stage' });
    const answerer = await api(tokens.morgan, 'PATCH', `/api/scenarios/${staged.id}`, { stages: [{ personaId: sam, advanceRule: rule }] });
    expect(answerer.status).toBe(400);
    expect(answerer.body.error.fields).toEqual({ 'stages.0.personaId': 'the persona who answers cannot also be a later stage' });
    const becomesAnswerer = await api(tokens.morgan, 'PATCH', `/api/scenarios/${staged.id}`, { personaId: diane });
    expect(becomesAnswerer.body.error.fields).toEqual({ 'stages.1.personaId': 'the persona who answers cannot also be a later stage' });
    const unknown = await api(tokens.morgan, 'PATCH', `/api/scenarios/${staged.id}`, { stages: [{ personaId: '0d6f3a52-8a4e-4f8a-a0f5-0f6c1b7d9e21', advanceRule: rule }] });
    expect(unknown.body.error.fields).toEqual({ 'stages.0.personaId': 'no active persona with this id' });
    const tooMany = await api(tokens.morgan, 'PATCH', `/api/scenarios/${staged.id}`, { stages: Array.from({ length: 6 }, () => ({ personaId: diane, advanceRule: rule })) });
    expect(tooMany.body.error.fields).toMatchObject({ stages: 'at most 5 stages' });
    expect((await api(tokens.morgan, 'GET', `/api/scenarios/${staged.id}`)).body.stages).toHaveLength(2);

    const single = await api(tokens.morgan, 'PATCH', `/api/scenarios/${staged.id}`, { stages: [] });
    expect(single.body.stages).toEqual([]);
    const back = buildMetadata('0d6f3a52-8a4e-4f8a-a0f5-0f6c1b7d9e21', (await store.scenario(staged.id))!, rep);
    expect(back.v).toBe(1);
    expect('stages' in back || 'personaId' in back).toBe(false);
  });

  it('reports a taken extension, email or phone number as 409 on that field', async () => {
    await createScenarioVia(tokens.admin, { extension: '4242' });
    const persona = await api(tokens.admin, 'POST', '/api/personas', personaBody);
    const clash = await api(tokens.admin, 'POST', '/api/scenarios', {
      title: 't', objective: 'o', context: 'c', personaId: persona.body.id, rubric, extension: '4242',
    });
    expect(clash.status).toBe(409);
    expect(clash.body.error.fields).toEqual({ extension: 'already in use' });

    const samePhone = await api(tokens.morgan, 'POST', '/api/users', { role: 'rep', name: 'Twin', email: 'twin@example.test', phoneNumbers: ['+15550100099', '+15550100001'] });
    expect(samePhone.status).toBe(409);
    expect(samePhone.body.error.fields).toEqual({ 'phoneNumbers.1': 'already used by another user' });
    const keepOwn = await api(tokens.morgan, 'PATCH', `/api/users/${ids.riley}`, { phoneNumbers: ['+15550100001', '+15550100003'] });
    expect(keepOwn.status).toBe(200);

    const dup = await api(tokens.admin, 'POST', '/api/users', { role: 'rep', name: 'Dup', email: 'RILEY@example.test', managerId: ids.morgan });
    expect(dup.status).toBe(409);
    expect(dup.body.error.fields).toEqual({ email: 'already in use' });
  });
});

describe('teams', () => {
  it('lets a manager create reps only under themself and see only their own team', async () => {
    const created = await api(tokens.morgan, 'POST', '/api/users', { role: 'rep', name: 'New Rep', email: 'new.rep@example.test' });
    expect(created.status).toBe(201);
    expect(created.body.managerId).toBe(ids.morgan);
    expect(created.body.passwordHash).toBeUndefined();

    const manager = await api(tokens.morgan, 'POST', '/api/users', { role: 'manager', name: 'M', email: 'm2@example.test' });
    expect(manager.status).toBe(403);

    const visible = await api(tokens.morgan, 'GET', '/api/users');
    const names = visible.body.items.map((user: Json) => user.email);
    expect(names).toContain('riley@example.test');
    expect(names).not.toContain('pat@example.test');
    expect(names).not.toContain('quinn@example.test');

    const audit = await database.db.select().from(auditLog).where(eq(auditLog.entityId, created.body.id));
    expect(audit[0]).toMatchObject({ action: 'user.created', actorUserId: ids.morgan });
  });

  it('answers a manager reaching for another manager’s rep, assignment or call with 404', async () => {
    const scenario = await createScenarioVia(tokens.quinn);
    expect((await api(tokens.quinn, 'GET', `/api/users/${ids.pat}`)).status).toBe(200);

    const rep = await api(tokens.morgan, 'GET', `/api/users/${ids.pat}`);
    expect(rep.status).toBe(404);
    expect(rep.body.error.code).toBe('not_found');
    expect((await api(tokens.morgan, 'PATCH', `/api/users/${ids.pat}`, { name: 'Hijacked' })).status).toBe(404);

    const assign = await api(tokens.morgan, 'POST', '/api/assignments', { scenarioId: scenario.id, repId: ids.pat });
    expect(assign.status).toBe(404);

    const theirs = await api(tokens.quinn, 'POST', '/api/assignments', { scenarioId: scenario.id, repId: ids.pat });
    expect(theirs.status).toBe(201);
    const assignmentId = theirs.body.assignment.id as string;
    expect((await api(tokens.morgan, 'GET', `/api/assignments/${assignmentId}`)).status).toBe(404);
    expect((await api(tokens.morgan, 'POST', `/api/assignments/${assignmentId}/rotate-pin`)).status).toBe(404);
    expect((await api(tokens.morgan, 'POST', `/api/assignments/${assignmentId}/revoke`)).status).toBe(404);

    const [call] = await database.db
      .insert(calls)
      .values({ path: 'twilio', roomName: `room-${assignmentId}`, repId: ids.pat, scenarioId: scenario.id, assignmentId })
      .returning();
    expect((await api(tokens.morgan, 'GET', `/api/calls/${call!.id}`)).status).toBe(404);
    expect((await api(tokens.quinn, 'GET', `/api/calls/${call!.id}`)).status).toBe(200);
    const listed = await api(tokens.morgan, 'GET', '/api/calls?pageSize=100');
    expect(listed.body.items.map((item: Json) => item.id)).not.toContain(call!.id);

    // Nothing the other team owns changed.
    const [still] = await database.db.select().from(assignments).where(eq(assignments.id, assignmentId));
    expect(still?.revokedAt).toBeNull();
  });
});

describe('calls', () => {
  it('lists newest first with filters and pagination, and shows one call with turns, metrics and scorecard', async () => {
    const scenario = await createScenarioVia(tokens.morgan);
    const start = new Date('2026-03-01T10:00:00Z');
    const made = [];
    for (let index = 0; index < 3; index += 1) {
      const [row] = await database.db
        .insert(calls)
        .values({
          path: 'twilio',
          roomName: `list-${index}-${scenario.id}`,
          repId: ids.riley,
          scenarioId: scenario.id,
          personaId: scenario.personaId,
          status: index === 2 ? 'in_progress' : 'completed',
          durationSeconds: 60 + index,
          createdAt: new Date(start.getTime() + index * 60_000),
        })
        .returning();
      made.push(row!);
    }
    const [turn] = await database.db
      .insert(turns)
      .values([
        { callId: made[0]!.id, seq: 0, speaker: 'persona', text: 'Diane Carter. You have two minutes.', startedAt: start, endedAt: start },
        { callId: made[0]!.id, seq: 1, speaker: 'rep', text: 'I can cut your freight spend by 12%.', startedAt: start, endedAt: start },
      ])
      .returning();
    await database.db.insert(turnMetrics).values({ turnId: turn!.id, llmTtftMs: 210, ttsTtfbMs: 180, endToEndMs: 640 });
    await database.db.insert(scorecards).values({
      callId: made[0]!.id, status: 'scored', overallScore: 82.5, passed: true, model: 'm', promptVersion: 'v1',
      criteria: [{ criterionId: 'discovery', name: 'Discovery', weight: 2, score: 80, evidence: 'e', suggestion: 's' }],
    });

    const filter = `scenarioId=${scenario.id}`;
    const all = await api(tokens.morgan, 'GET', `/api/calls?${filter}`);
    expect(all.status).toBe(200);
    expect(all.body.total).toBe(3);
    expect(all.body.items.map((item: Json) => item.id)).toEqual([made[2]!.id, made[1]!.id, made[0]!.id]);
    const oldest = all.body.items[2];
    expect(oldest).toMatchObject({ durationSeconds: 60, score: 82.5, passed: true, rep: { id: ids.riley, name: 'Riley Rep' }, scenario: { title: 'Budget objection' } });

    const page2 = await api(tokens.morgan, 'GET', `/api/calls?${filter}&pageSize=2&page=2`);
    expect(page2.body).toMatchObject({ page: 2, pageSize: 2, total: 3 });
    expect(page2.body.items.map((item: Json) => item.id)).toEqual([made[0]!.id]);

    const live = await api(tokens.morgan, 'GET', `/api/calls?${filter}&status=in_progress`);
    expect(live.body.items.map((item: Json) => item.id)).toEqual([made[2]!.id]);
    const byText = await api(tokens.morgan, 'GET', `/api/calls?${filter}&q=${encodeURIComponent('FREIGHT spend by 12%')}`);
    expect(byText.body.items.map((item: Json) => item.id)).toEqual([made[0]!.id]);
    const wildcard = await api(tokens.morgan, 'GET', `/api/calls?${filter}&q=${encodeURIComponent('by 1_%')}`);
    expect(wildcard.body.total).toBe(0);
    const window = await api(tokens.morgan, 'GET', `/api/calls?${filter}&from=2026-03-01T10:00:30Z&to=2026-03-01T10:01:30Z`);
    expect(window.body.items.map((item: Json) => item.id)).toEqual([made[1]!.id]);
    const bad = await api(tokens.morgan, 'GET', `/api/calls?status=ringing-ish&page=0`);
    expect(bad.status).toBe(400);
    expect(Object.keys(bad.body.error.fields).sort()).toEqual(['page', 'status']);

    const detail = await api(tokens.morgan, 'GET', `/api/calls/${made[0]!.id}`);
    expect(detail.status).toBe(200);
    expect(detail.body.turns.map((t: Json) => [t.seq, t.speaker])).toEqual([[0, 'persona'], [1, 'rep']]);
    expect(detail.body.turns[0].metrics).toMatchObject({ llmTtftMs: 210, ttsTtfbMs: 180, endToEndMs: 640 });
    expect(detail.body.turns[1].metrics).toBeNull();
    expect(detail.body.scorecard).toMatchObject({ status: 'scored', overallScore: 82.5, passed: true });
    expect(detail.body.emailDeliveries).toEqual([]);
    expect(detail.body.rep).toEqual({ id: ids.riley, name: 'Riley Rep', email: 'riley@example.test' });

    expect((await api(tokens.morgan, 'GET', '/api/calls/00000000-0000-4000-8000-000000000000')).status).toBe(404);
    const malformed = await api(tokens.morgan, 'GET', '/api/calls/not-an-id');
    expect(malformed.status).toBe(404);
    expect(malformed.body.error).toEqual({ code: 'not_found', message: 'call not found', fields: {} });
    expect((await api(tokens.morgan, 'DELETE', `/api/calls/${made[0]!.id}`)).status).toBe(404);
  });
});

describe('audit', () => {
  it('writes one audit row per change, in the same transaction', async () => {
    const before = await database.db.select({ n: sql<number>`count(*)::int` }).from(auditLog);
    const persona = await api(tokens.admin, 'POST', '/api/personas', personaBody);
    await api(tokens.admin, 'PATCH', `/api/personas/${persona.body.id}`, { archived: true });
    const failed = await api(tokens.admin, 'PATCH', `/api/personas/${persona.body.id}`, { temperature: -1 });
    expect(failed.status).toBe(400);
    const after = await database.db.select({ n: sql<number>`count(*)::int` }).from(auditLog);
    expect(after[0]!.n - before[0]!.n).toBe(2);
    const rows = await database.db.select().from(auditLog).where(eq(auditLog.entityId, persona.body.id)).orderBy(auditLog.id);
    expect(rows.map((row) => [row.action, row.details.changed ?? null])).toEqual([
      ['persona.created', null],
      ['persona.updated', ['archived']],
    ]);

    const trail = await api(tokens.admin, 'GET', `/api/audit?entityType=persona&entityId=${persona.body.id}`);
    expect(trail.status).toBe(200);
    expect(trail.body.items.map((row: Json) => row.action)).toEqual(['persona.updated', 'persona.created']);
    expect((await api(tokens.morgan, 'GET', '/api/audit')).status).toBe(403);
  });
});
