// A scoring provider outage is waited out: the post-call job is retried with backoff (pg-boss)
// for a bounded window, and the emails go once — with the scorecard when it arrives, or saying it
// is unavailable when the window closes. The Groq emulator fails on demand; mail lands on a real
// SMTP server on loopback.
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { scorecards } from '../../src/adapters/db/schema.js';
import { createGroqScorecardModel } from '../../src/adapters/groq/scorecard_model.js';
import { createLogger } from '../../src/adapters/logger.js';
import { createSmtpMailer } from '../../src/adapters/mail/mailer.js';
import { createPostCallQueue, type PostCallQueue } from '../../src/adapters/queue/post_call_queue.js';
import { finalizeCall, type FinalizeCallDeps } from '../../src/app/finalize_call.js';
import { runPostCall, type PostCallDeps } from '../../src/app/post_call.js';
import { startGroqEmulator, type GroqEmulator } from '../emulators/groq_emulator.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { startSmtpSink, type SmtpSink } from '../support/smtp_sink.js';
import { waitFor } from '../support/wait.js';
import { createCall, createWorld, GOOD_ANSWER, type World } from './fixtures.js';

const logger = createLogger({ level: 'silent', redactPii: false });
const MODEL = 'openai/gpt-oss-120b';

let database: TestDatabase;
let smtp: SmtpSink;
let groq: GroqEmulator;
let queue: PostCallQueue;
let world: World;
let finalizeDeps: FinalizeCallDeps;
/** Changed per test: the scoring window the worker applies. */
let scoringWindowMs = 60_000;

beforeAll(async () => {
  database = await createTestDatabase();
  smtp = await startSmtpSink();
  groq = await startGroqEmulator();
  world = await createWorld(database.db);
  const postCall = (): PostCallDeps => ({
    db: database.db,
    mailer: createSmtpMailer({ host: smtp.host, port: smtp.port, secure: false, from: 'Practice Line <coach@practice.test>', timeoutMs: 10_000 }),
    publicBaseUrl: 'https://practice.example.com',
    logger,
    scorecardModel: createGroqScorecardModel({ apiKey: groq.apiKey, baseUrl: groq.url, model: MODEL }),
    scorecardRetryDelayMs: 20,
    scoringWindowMs,
  });
  queue = createPostCallQueue({ pool: database.pool, logger, retryLimit: 4, retryDelaySeconds: 1, pollingIntervalSeconds: 0.5 });
  await queue.start();
  await queue.work((job) => runPostCall(postCall(), job).then(() => undefined));
  finalizeDeps = { pool: database.pool, enqueuePostCall: (callId, tx, delay) => queue.enqueue(callId, tx, delay), settleSeconds: 0, logger };
});

afterAll(async () => {
  await queue?.stop(5_000);
  await smtp?.stop();
  await groq?.stop();
  await database?.close();
});

beforeEach(() => {
  groq.knobs.reset();
  groq.script.reset();
  groq.script.add({ when: (request) => (request as { response_format?: unknown }).response_format !== undefined, json: GOOD_ANSWER });
});

const emailsFor = (callId: string) => smtp.messages.filter((mail) => mail.parsed.headers.get('x-practice-call') === callId);
const scorecardOf = async (callId: string) => (await database.db.select().from(scorecards).where(eq(scorecards.callId, callId)))[0];
const jobState = async (callId: string) => (await queue.jobsFor(callId))[0];

describe('scoring through a Groq outage', () => {
  it('retries the job instead of storing "unavailable", then emails once with the scorecard', async () => {
    scoringWindowMs = 60_000;
    // One job attempt makes three quick tries; all three fail, the retried job succeeds.
    groq.knobs.failNext('chat', { kind: 'status', status: 503 }, 3);
    const callId = await createCall(database.db, world);
    await finalizeCall(finalizeDeps, { callId, trigger: 'agent' });

    await waitFor('the job to complete', async () => ((await jobState(callId))?.state === 'completed' ? true : undefined), 60_000);
    expect((await jobState(callId))!.retryCount).toBeGreaterThanOrEqual(1);
    expect(await scorecardOf(callId)).toMatchObject({ status: 'scored', overallScore: 70 });
    const mails = emailsFor(callId);
    expect(mails).toHaveLength(2);
    for (const mail of mails) expect(mail.parsed.subject).not.toMatch(/unavailable/);
  });

  it('stores "unavailable" and sends the emails once the window has closed', async () => {
    scoringWindowMs = 1;
    groq.knobs.failNext('chat', { kind: 'status', status: 503 }, 100);
    const callId = await createCall(database.db, world);
    await finalizeCall(finalizeDeps, { callId, trigger: 'agent' });

    await waitFor('the job to complete', async () => ((await jobState(callId))?.state === 'completed' ? true : undefined), 60_000);
    const card = await scorecardOf(callId);
    expect(card).toMatchObject({ status: 'unavailable' });
    expect(card!.reason).toMatch(/503/);
    const toRep = emailsFor(callId).find((mail) => mail.envelopeTo.includes(world.repEmail));
    expect(toRep?.parsed.subject).toMatch(/scorecard unavailable/);
  });
});
