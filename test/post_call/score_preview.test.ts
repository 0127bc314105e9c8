// Scoring a transcript without a call, over the HTTP API, against the Groq emulator.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGroqScorecardModel } from '../../src/adapters/groq/scorecard_model.js';
import { createLogger } from '../../src/adapters/logger.js';
import { createApiToken } from '../../src/app/api_tokens.js';
import { systemActor } from '../../src/domain/access.js';
import { createHttpApp } from '../../src/http/app.js';
import { listen, type RunningServer } from '../../src/http/server.js';
import { startGroqEmulator, type GroqEmulator } from '../emulators/groq_emulator.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { createWorld, GOOD_ANSWER, type World } from './fixtures.js';

const logger = createLogger({ level: 'silent', redactPii: false });
let database: TestDatabase;
let groq: GroqEmulator;
let server: RunningServer;
let base: string;
let world: World;
let token: string;

const TRANSCRIPT = [
  '[00:00] Diane: Diane Carter speaking.',
  '[00:04] Rep: Hi Diane, um, this is Riley from Ledgerly. How do you close the books today?',
  '[00:11] Diane: Spreadsheets, mostly. It takes us eight days.',
  '[00:16] Rep: Eight days is a lot. Could we book a demo on Thursday?',
  '[00:22] Diane: Send me an invite.',
].join('\n');

async function preview(body: unknown, options: { auth?: string | null; contentType?: string; query?: string } = {}) {
  const auth = options.auth === undefined ? token : options.auth;
  const response = await fetch(`${base}/api/scorecards/preview${options.query ?? ''}`, {
    method: 'POST',
    headers: { 'content-type': options.contentType ?? 'application/json', ...(auth ? { authorization: `Bearer ${auth}` } : {}) },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

beforeAll(async () => {
  database = await createTestDatabase();
  groq = await startGroqEmulator({ script: [{ when: (request) => request.response_format !== undefined, json: GOOD_ANSWER }] });
  world = await createWorld(database.db);
  token = (await createApiToken({ db: database.db }, systemActor, { name: 'preview', userId: world.managerId })).token;
  const app = createHttpApp({
    logger,
    health: { pingDatabase: database.ping, integrations: {} as never },
    scorecardApi: {
      db: database.db,
      scorecardModel: createGroqScorecardModel({ apiKey: groq.apiKey, baseUrl: groq.url, model: 'openai/gpt-oss-120b' }),
      scorecardRetryDelayMs: 10,
    },
  });
  server = await listen(app, 0, '127.0.0.1');
  base = `http://127.0.0.1:${server.port}`;
});

afterAll(async () => {
  await server?.close();
  await groq?.stop();
  await database?.close();
});

describe('POST /api/scorecards/preview', () => {
  it('scores a plain-text transcript with the same analytics and scorecard as a call', async () => {
    const { status, body } = await preview({ scenarioId: world.scenarioId, transcript: TRANSCRIPT, passMark: 65 });
    expect(status).toBe(200);
    expect(body['scenario']).toEqual({ id: world.scenarioId, title: 'Cold call the CFO' });
    expect(body['analytics']).toMatchObject({ timed: true, questionsAsked: 2, fillerWordCount: 1, repTurnCount: 2 });
    expect(body['scorecard']).toMatchObject({ status: 'scored', overallScore: 70, passed: true, promptVersion: 'scorecard-v2', model: 'openai/gpt-oss-120b' });
    expect(body['scorecard'].criteria.map((c: { criterionId: string; score: number }) => [c.criterionId, c.score])).toEqual([
      ['discovery', 85],
      ['next_step', 40],
    ]);
    expect(body['transcript'][1]).toEqual({ speaker: 'rep', text: 'Hi Diane, um, this is Riley from Ledgerly. How do you close the books today?', startSeconds: 4, endSeconds: 11 });
  });

  it('takes a JSON transcript inline and a text/plain body with query parameters', async () => {
    const turns = [
      { speaker: 'persona', text: 'Diane Carter speaking.', start: 0, end: 3 },
      { speaker: 'rep', text: 'How do you close the books today? Could we book a demo on Thursday?', start: 3, end: 9 },
    ];
    const json = await preview({ scenarioId: world.scenarioId, transcript: turns });
    expect(json.status).toBe(200);
    expect(json.body['scorecard']).toMatchObject({ status: 'scored', passed: null });
    const text = await preview(TRANSCRIPT, { contentType: 'text/plain', query: `?scenarioId=${world.scenarioId}&passMark=90` });
    expect(text.status).toBe(200);
    expect(text.body['scorecard']).toMatchObject({ status: 'scored', passed: false });
  });

  it('says what is wrong with a transcript, a scenario or the token', async () => {
    const unlabelled = await preview({ scenarioId: world.scenarioId, transcript: 'Diane: Hello\nTom: Hi' });
    expect(unlabelled.status).toBe(400);
    expect(unlabelled.body['error'].fields.transcript).toMatch(/no rep lines found/);
    const unknown = await preview({ scenarioId: '00000000-0000-4000-8000-000000000000', transcript: TRANSCRIPT });
    expect(unknown.status).toBe(404);
    expect((await preview({ scenarioId: world.scenarioId, transcript: TRANSCRIPT }, { auth: null })).status).toBe(401);
  });

  it('returns an unavailable scorecard with the reason when Groq keeps failing', async () => {
    groq.knobs.failNext('chat', { kind: 'status', status: 500 }, 3);
    const { status, body } = await preview({ scenarioId: world.scenarioId, transcript: TRANSCRIPT });
    expect(status).toBe(200);
    expect(body['scorecard']).toMatchObject({ status: 'unavailable', attempts: 3, reason: expect.stringMatching(/after 3 tries: Groq answered 500/) });
    expect(body['analytics']).toMatchObject({ questionsAsked: 2 });
  });
});
