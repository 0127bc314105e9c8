// Listening back over plain HTTP against the real app, a migrated database and the disk storage:
// the call page's player and turn links, range requests, and who may hear what (the rep their own
// calls, a manager their team's, admins everything; 404 for anyone else, as for the call itself).
import { eq } from 'drizzle-orm';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { calls, recordings, scenarios, signInTokens, turns, users } from '../../src/adapters/db/schema.js';
import { hashPassword, verifyPassword } from '../../src/adapters/password.js';
import { createDiskStorage } from '../../src/adapters/storage/disk_storage.js';
import { recordingChunkKey } from '../../src/app/recording_files.js';
import { hashSignInToken } from '../../src/app/sign_in.js';
import { loadConfig } from '../../src/config.js';
import { createHttpApp } from '../../src/http/app.js';
import { listen, type RunningServer } from '../../src/http/server.js';
import { makeWebRouter } from '../../src/http/web/web_router.js';
import { seedPracticeCall } from '../support/call_routing_world.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';

const PIN_SECRET = 'recording-access-pin-secret-0123456789abcdef';
const PASSWORD = 'recording-password-1234';
const storageRoot = mkdtempSync(join(tmpdir(), 'practice-line-recording-web-'));
const storage = createDiskStorage(storageRoot);

let database: TestDatabase;
let server: RunningServer;
let closeWeb: () => Promise<void>;
let base: string;
let riley: Awaited<ReturnType<typeof seedPracticeCall>>;
let other: Awaited<ReturnType<typeof seedPracticeCall>>;
let adminEmail: string;
const ids = { rileyCall: '', otherCall: '', unrecorded: '', deleted: '' };
/** Two chunks whose concatenation is the audio file. */
const audio = Buffer.from(Array.from({ length: 50_000 }, (_, i) => (i * 13) % 256));

beforeAll(async () => {
  database = await createTestDatabase();
  const world = { database, pinSecret: PIN_SECRET };
  riley = await seedPracticeCall(world);
  other = await seedPracticeCall(world);
  const passwordHash = await hashPassword(PASSWORD);
  for (const id of [riley.rep.id, riley.manager.id, other.rep.id, other.manager.id]) await database.db.update(users).set({ passwordHash }).where(eq(users.id, id));
  adminEmail = `admin-${Date.now()}@test.local`;
  await database.db.insert(users).values({ role: 'admin', name: 'Ada Admin', email: adminEmail, passwordHash });

  const answeredAt = new Date('2026-11-30T10:00:00.000Z');
  const call = async (seed: typeof riley) => {
    const [row] = await database.db
      .insert(calls)
      .values({ path: 'twilio', status: 'completed', roomName: `room-${Math.random().toString(36).slice(2)}`, assignmentId: seed.assignment.id, scenarioId: seed.scenario.id, personaId: seed.persona.id, repId: seed.rep.id, answeredAt, endedAt: new Date(answeredAt.getTime() + 60_000) })
      .returning();
    return row!.id;
  };
  ids.rileyCall = await call(riley);
  ids.otherCall = await call(other);
  ids.unrecorded = await call(riley);
  ids.deleted = await call(riley);
  for (const callId of [ids.rileyCall, ids.otherCall]) {
    await database.db.insert(recordings).values({ callId, status: 'complete', contentType: 'audio/ogg', startedAt: new Date(answeredAt.getTime() + 500), durationMs: 60_000, chunks: 2, bytes: audio.length });
    await storage.put(recordingChunkKey(callId, 1), audio.subarray(0, 30_000), 'audio/ogg');
    await storage.put(recordingChunkKey(callId, 2), audio.subarray(30_000), 'audio/ogg');
  }
  await database.db.insert(recordings).values({ callId: ids.deleted, status: 'deleted', contentType: 'audio/ogg', startedAt: answeredAt, deletedAt: new Date(), deletedReason: 'retention', retentionDays: 30 });
  await database.db.insert(turns).values({ callId: ids.rileyCall, seq: 0, speaker: 'persona', text: 'Diane Carter speaking.', startedAt: new Date(answeredAt.getTime() + 3_000), endedAt: new Date(answeredAt.getTime() + 5_000) });

  const logger = pino({ level: 'silent' });
  const web = makeWebRouter({
    app: { db: database.db, pinSecret: PIN_SECRET, hashPassword, storage },
    pool: database.pool,
    sessionSecret: 'recording-access-session-secret-0123456789abcdef',
    publicBaseUrl: 'http://127.0.0.1',
    verifyPassword,
    logger,
    defaultVoiceId: 'v',
    defaultLlmModel: 'm',
    pruneExpiredSessions: false,
  });
  closeWeb = web.close;
  server = await listen(createHttpApp({ logger, health: { pingDatabase: database.ping, integrations: loadConfig({}).integrations }, web: web.router }), 0, '127.0.0.1');
  base = `http://127.0.0.1:${server.port}`;
}, 60_000);

afterAll(async () => {
  await server?.close();
  await closeWeb?.();
  await database?.close();
  rmSync(storageRoot, { recursive: true, force: true });
});

/** Signs in as staff with a password, or as a rep through a sign-in link (reps have no password). */
async function signIn(email: string) {
  let cookie = '';
  const remember = (response: Response) => {
    const set = response.headers.get('set-cookie');
    if (set) cookie = set.split(';')[0]!;
  };
  const [user] = await database.db.select().from(users).where(eq(users.email, email));
  const isRep = user!.role === 'rep';
  const token = `link-${Math.random().toString(36).slice(2)}-${Date.now()}`;
  if (isRep) await database.db.insert(signInTokens).values({ userId: user!.id, tokenHash: hashSignInToken(token), purpose: 'sign_in', expiresAt: new Date(Date.now() + 600_000) });
  const formPath = isRep ? `/login/link/${token}` : '/login';
  const form = await fetch(`${base}${formPath}`, { redirect: 'manual' });
  remember(form);
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await form.text())![1]!;
  const login = await fetch(`${base}${formPath}`, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(isRep ? { _csrf: csrf } : { _csrf: csrf, email, password: PASSWORD }).toString(),
  });
  remember(login);
  expect(login.status).toBe(303);
  return (path: string, headers: Record<string, string> = {}) => fetch(`${base}${path}`, { redirect: 'manual', headers: { cookie, ...headers } });
}

describe('listening back', () => {
  it('serves a rep their own recording, whole and by range, and nobody else\'s', async () => {
    const rep = await signIn(riley.rep.email);
    const whole = await rep(`/calls/${ids.rileyCall}/recording`);
    expect(whole.status).toBe(200);
    expect(whole.headers.get('content-type')).toBe('audio/ogg');
    expect(whole.headers.get('accept-ranges')).toBe('bytes');
    expect(Buffer.from(await whole.arrayBuffer())).toEqual(audio);

    // A range across the chunk boundary, as a browser seeking would ask.
    const part = await rep(`/calls/${ids.rileyCall}/recording`, { range: 'bytes=29990-30009' });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 29990-30009/${audio.length}`);
    expect(Buffer.from(await part.arrayBuffer())).toEqual(audio.subarray(29_990, 30_010));
    const tail = await rep(`/calls/${ids.rileyCall}/recording`, { range: 'bytes=-10' });
    expect(Buffer.from(await tail.arrayBuffer())).toEqual(audio.subarray(-10));
    expect((await rep(`/calls/${ids.rileyCall}/recording`, { range: `bytes=${audio.length + 5}-` })).status).toBe(416);

    expect((await rep(`/calls/${ids.otherCall}/recording`)).status).toBe(404);
    expect((await rep(`/calls/${ids.unrecorded}/recording`)).status).toBe(404);
    expect((await rep(`/calls/${ids.deleted}/recording`)).status).toBe(404);
  });

  it('serves a manager their team\'s recordings only, and an admin everyone\'s', async () => {
    const manager = await signIn(riley.manager.email);
    expect((await manager(`/calls/${ids.rileyCall}/recording`)).status).toBe(200);
    expect((await manager(`/calls/${ids.otherCall}/recording`)).status).toBe(404);
    const otherManager = await signIn(other.manager.email);
    expect((await otherManager(`/calls/${ids.rileyCall}/recording`)).status).toBe(404);
    const admin = await signIn(adminEmail);
    expect((await admin(`/calls/${ids.rileyCall}/recording`)).status).toBe(200);
    expect((await admin(`/calls/${ids.otherCall}/recording`)).status).toBe(200);
    expect((await fetch(`${base}/calls/${ids.rileyCall}/recording`, { redirect: 'manual' })).status).not.toBe(200);
  });

  it('shows the player with turn links on the call page, and says when a call was not recorded or its audio was deleted', async () => {
    const rep = await signIn(riley.rep.email);
    const page = await (await rep(`/calls/${ids.rileyCall}`)).text();
    expect(page).toContain(`<audio id="recording-player" controls preload="metadata" src="/calls/${ids.rileyCall}/recording">`);
    // The greeting started 3 s after the answer, 2.5 s into the recording.
    expect(page).toContain(`href="/calls/${ids.rileyCall}/recording#t=2.5" data-audio-offset="2.50"`);
    expect(page).toContain('/static/recording.js');
    expect(await (await rep(`/calls/${ids.unrecorded}`)).text()).toContain('This call was not recorded.');
    expect(await (await rep(`/calls/${ids.deleted}`)).text()).toContain('Audio deleted after 30 days.');
    expect((await fetch(`${base}/static/recording.js`)).status).toBe(200);
  });

  it('offers the per-scenario recording switch on the scenario form, on unless switched off', async () => {
    const manager = await signIn(riley.manager.email);
    const on = await (await manager(`/scenarios/${riley.scenario.id}`)).text();
    expect(on).toContain('<input type="checkbox" name="recordCalls" value="on" checked>');
    await database.db.update(scenarios).set({ recordCalls: false }).where(eq(scenarios.id, riley.scenario.id));
    const off = await (await manager(`/scenarios/${riley.scenario.id}`)).text();
    expect(off).toContain('<input type="checkbox" name="recordCalls" value="on">');
  });

  it("offers the scenario's scorecard and email language on the same form: the persona's by default, or a language chosen (decision 017)", async () => {
    const manager = await signIn(riley.manager.email);
    const followsPersona = await (await manager(`/scenarios/${riley.scenario.id}`)).text();
    const select = /<select name="feedbackLanguage"[\s\S]*?<\/select>/.exec(followsPersona)?.[0] ?? '';
    expect(select).toContain('<option value="">The persona&#39;s language</option>');
    expect(select).toContain('<option value="es-MX">Spanish (es-MX)</option>');
    expect(select).not.toContain(' selected');
    await database.db.update(scenarios).set({ feedbackLanguage: 'en' }).where(eq(scenarios.id, riley.scenario.id));
    const english = await (await manager(`/scenarios/${riley.scenario.id}`)).text();
    expect(english).toContain('<option value="en" selected>English (en)</option>');
  });
});
