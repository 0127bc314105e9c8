// A post-call job never scores a transcript the agent may still be writing: when a webhook closes
// the call first, the job waits (retried by pg-boss) for the agent's word that its last turn is
// written. Turns the agent could not write, or an agent that never reports, mark the call's
// transcript incomplete, and the email says so.
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { calls, scorecards, turns } from '../../src/adapters/db/schema.js';
import { createGroqScorecardModel } from '../../src/adapters/groq/scorecard_model.js';
import { createLogger } from '../../src/adapters/logger.js';
import { createSmtpMailer } from '../../src/adapters/mail/mailer.js';
import { createPostCallQueue, type PostCallQueue } from '../../src/adapters/queue/post_call_queue.js';
import { INCOMPLETE_TRANSCRIPT_NOTE } from '../../src/app/call_email.js';
import { finalizeCall, type FinalizeCallDeps } from '../../src/app/finalize_call.js';
import { runPostCall, type PostCallDeps } from '../../src/app/post_call.js';
import { startGroqEmulator, type GroqEmulator } from '../emulators/groq_emulator.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { startSmtpSink, type SmtpSink } from '../support/smtp_sink.js';
import { sleep, waitFor } from '../support/wait.js';
import { createCall, createWorld, GOOD_ANSWER, type World } from './fixtures.js';

const logger = createLogger({ level: 'silent', redactPii: false });

let database: TestDatabase;
let smtp: SmtpSink;
let groq: GroqEmulator;
let queue: PostCallQueue;
let world: World;
let finalizeDeps: FinalizeCallDeps;
let postCall: PostCallDeps;

beforeAll(async () => {
  database = await createTestDatabase();
  smtp = await startSmtpSink();
  groq = await startGroqEmulator();
  world = await createWorld(database.db);
  postCall = {
    db: database.db,
    mailer: createSmtpMailer({ host: smtp.host, port: smtp.port, secure: false, from: 'Practice Line <coach@practice.test>', timeoutMs: 10_000 }),
    publicBaseUrl: 'https://practice.example.com',
    logger,
    scorecardModel: createGroqScorecardModel({ apiKey: groq.apiKey, baseUrl: groq.url, model: 'openai/gpt-oss-120b' }),
    scorecardRetryDelayMs: 20,
  };
  queue = createPostCallQueue({ pool: database.pool, logger, retryLimit: 6, retryDelaySeconds: 1, pollingIntervalSeconds: 0.5 });
  await queue.start();
  await queue.work((job) => runPostCall(postCall, job).then(() => undefined));
  finalizeDeps = { pool: database.pool, enqueuePostCall: (callId, tx, delay) => queue.enqueue(callId, tx, delay), settleSeconds: 0, logger };
});

afterAll(async () => {
  await queue?.stop(5_000);
  await smtp?.stop();
  await groq?.stop();
  await database?.close();
});

beforeEach(() => {
  groq.script.reset();
  groq.script.add({ when: (request) => (request as { response_format?: unknown }).response_format !== undefined, json: GOOD_ANSWER });
});

const row = async (callId: string) => (await database.db.select().from(calls).where(eq(calls.id, callId)))[0]!;
const completed = (callId: string) => waitFor('the post-call job to complete', async () => ((await queue.jobsFor(callId))[0]?.state === 'completed' ? true : undefined), 60_000);
const emailsFor = (callId: string) => smtp.messages.filter((mail) => mail.parsed.headers.get('x-practice-call') === callId);
const scoringPrompts = () => groq.requests.filter((request) => request.endpoint === 'chat').map((request) => JSON.stringify(request.body));

describe('the post-call job and the agent’s last turns', () => {
  it('waits for the agent after a webhook closed the call, then scores the whole transcript', async () => {
    postCall.agentWaitMs = 60_000;
    const promptsBefore = scoringPrompts().length;
    const callId = await createCall(database.db, world);
    await finalizeCall(finalizeDeps, { callId, trigger: 'livekit' });
    await sleep(2_500);
    expect(await database.db.select().from(scorecards).where(eq(scorecards.callId, callId))).toEqual([]);
    expect(emailsFor(callId)).toEqual([]);

    // The agent's last turn lands, then the agent says it is done.
    const late = 'One last thing: could you send the ROI model before Thursday?';
    const at = new Date();
    await database.db.insert(turns).values({ callId, seq: 99, speaker: 'rep', text: late, startedAt: at, endedAt: new Date(at.getTime() + 2000) });
    expect((await finalizeCall(finalizeDeps, { callId, trigger: 'agent', unwrittenTurns: 0 })).outcome).toBe('already_finalized');
    await completed(callId);

    // Scored once, with the late turn in the prompt.
    const prompts = scoringPrompts().slice(promptsBefore);
    expect(prompts).toHaveLength(1);
    expect(prompts[0]).toContain('ROI model');
    expect(await row(callId)).toMatchObject({ transcriptIncomplete: false });
    expect(emailsFor(callId).every((mail) => mail.parsed.text?.includes('ROI model'))).toBe(true);
    expect(emailsFor(callId)).toHaveLength(2);
  });

  it('marks the transcript incomplete when the agent reports turns it could not write, and the email says so', async () => {
    postCall.agentWaitMs = 60_000;
    const callId = await createCall(database.db, world);
    await finalizeCall(finalizeDeps, { callId, trigger: 'agent', unwrittenTurns: 2 });
    await completed(callId);
    expect(await row(callId)).toMatchObject({ transcriptIncomplete: true });
    const mails = emailsFor(callId);
    expect(mails).toHaveLength(2);
    for (const mail of mails) {
      expect(mail.parsed.text).toContain(INCOMPLETE_TRANSCRIPT_NOTE);
      expect(String(mail.parsed.html)).toContain('Transcript incomplete');
    }
  });

  it('marks the transcript incomplete when the agent never reports, once the wait is over', async () => {
    postCall.agentWaitMs = 1_500;
    const callId = await createCall(database.db, world);
    await finalizeCall(finalizeDeps, { callId, trigger: 'twilio' });
    await completed(callId);
    expect(await row(callId)).toMatchObject({ transcriptIncomplete: true, agentFinishedAt: null });
    expect(emailsFor(callId)[0]?.parsed.text).toContain(INCOMPLETE_TRANSCRIPT_NOTE);
  });
});
