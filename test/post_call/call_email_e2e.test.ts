// End to end after hang-up: a real practice call (test phone -> livekit-sip -> livekit-server ->
// agent worker process -> emulated Groq/ElevenLabs), the agent finalises on shutdown, the post-call
// worker (as the dispatch service runs it) scores the call and the rep's email arrives on a real
// SMTP server with the transcript of that very call.
import { eq } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { calls, scorecards } from '../../src/adapters/db/schema.js';
import { createGroqScorecardModel } from '../../src/adapters/groq/scorecard_model.js';
import { createLogger } from '../../src/adapters/logger.js';
import { createSmtpMailer } from '../../src/adapters/mail/mailer.js';
import { createPostCallQueue, type PostCallQueue } from '../../src/adapters/queue/post_call_queue.js';
import { runPostCall } from '../../src/app/post_call.js';
import type { ReadyRoomMetadata } from '../../src/domain/room_metadata.js';
import { renderSpeechAt } from '../emulators/audio.js';
import { type AgentWorld, startAgentWorld } from '../agent/agent_world.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { phoneSampleRate, type PhoneCall } from '../../sip/phone/phone.js';
import { startSmtpSink, type SmtpSink } from '../support/smtp_sink.js';
import { createWorld, RUBRIC, type World } from './fixtures.js';
import { waitFor as waitForWithin } from '../support/wait.js';

// A whole call plus the post-call job: each step may take up to a minute on a loaded machine.
const waitFor = <T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000) => waitForWithin(what, probe, timeoutMs);

const OPENING = 'Diane Carter speaking. Who is this?';
const REP_1 = 'Hi Diane, Riley here. Got two minutes?';
const REPLY_1 = 'Two minutes. Go ahead.';
const REP_2 = 'Could we book a call next week?';
const REPLY_2 = 'Send me an email.';
const SCORECARD = {
  summary: 'Clear opener and a direct ask for a meeting.',
  criteria: [
    { criterionId: 'discovery', score: 60, evidence: 'Got two minutes?', suggestion: 'Ask how they ship today before pitching.' },
    { criterionId: 'next_step', score: 80, evidence: 'Could we book a call next week?', suggestion: 'Offer two concrete time slots.' },
  ],
};

const logger = createLogger({ level: 'silent', redactPii: false });

let database: TestDatabase;
let agentWorld: AgentWorld;
let smtp: SmtpSink;
let queue: PostCallQueue;
let people: World;


beforeAll(async () => {
  database = await createTestDatabase();
  smtp = await startSmtpSink();
  // The dispatch service installs the queue at start-up, before any call; so do we.
  queue = createPostCallQueue({ pool: database.pool, logger, retryDelaySeconds: 1, pollingIntervalSeconds: 0.5 });
  await queue.start();
  agentWorld = await startAgentWorld({
    databaseUrl: database.url,
    db: database.db,
    utterances: [REP_1, REP_2],
    script: [
      { when: (request) => request.response_format !== undefined, json: SCORECARD },
      { when: 'two minutes', reply: REPLY_1 },
      { when: 'next week', reply: REPLY_2 },
    ],
  });
  const mailer = createSmtpMailer({ host: smtp.host, port: smtp.port, secure: false, from: 'Practice Line <coach@practice.test>' });
  const scorecardModel = createGroqScorecardModel({ apiKey: agentWorld.groq.apiKey, baseUrl: agentWorld.groq.url, model: 'openai/gpt-oss-120b' });
  await queue.work(async (job) => {
    await runPostCall({ db: database.db, mailer, scorecardModel, publicBaseUrl: 'https://practice.example.com', logger }, job);
  });
  people = await createWorld(database.db);
}, 300_000);

afterEach((context) => {
  if (context.task.result?.state === 'fail') console.error(`worker log (tail):\n${agentWorld?.workerLog().slice(-20_000)}`);
});

afterAll(async () => {
  await agentWorld?.stop();
  await queue?.stop(5_000);
  await smtp?.stop();
  await database?.close();
});

async function speak(call: PhoneCall, text: string): Promise<void> {
  const pcm = await renderSpeechAt(text, phoneSampleRate);
  await call.playPcm(pcm.samples, text);
}

describe('after a real practice call', () => {
  it("the rep's email arrives with the transcript of that very call", async () => {
    const metadata: Omit<ReadyRoomMetadata, 'callId'> = {
      v: 1,
      stage: 'ready',
      persona: {
        name: 'Diane Carter',
        role: 'Chief Financial Officer',
        company: 'Northwind Logistics',
        personality: 'Numbers-driven and impatient with fluff.',
        objections: [],
        openingLine: OPENING,
        voiceId: 'EXAVITQu4vr4xnYQH9Pm',
        language: 'en',
        llmModel: 'llama-3.3-70b-versatile',
        temperature: 0.7,
      },
      scenario: { title: 'Cold call the CFO', objective: 'Book a demo', context: 'Outbound cold call', difficulty: 'medium', rubric: RUBRIC, timeLimitSeconds: 300 },
      rep: { id: people.repId, firstName: 'Riley' },
    };
    const { callId, room } = await agentWorld.createCall(metadata);
    // What the dispatch service records when it resolves the PIN.
    await database.db
      .update(calls)
      .set({ repId: people.repId, scenarioId: people.scenarioId, assignmentId: people.assignmentId })
      .where(eq(calls.id, callId));

    const { call } = await agentWorld.dialRoom(room);
    const turnTexts = async () => (await database.db.query.turns.findMany({ where: (t, { eq: is }) => is(t.callId, callId) })).map((t) => t.text);
    await waitFor('the greeting', async () => ((await turnTexts()).some((text) => /Diane Carter speaking/.test(text)) ? true : undefined));
    await call.waitForQuiet();
    await speak(call, REP_1);
    await waitFor('the first reply', async () => ((await turnTexts()).some((text) => /Go ahead/.test(text)) ? true : undefined));
    await call.waitForQuiet();
    await speak(call, REP_2);
    await waitFor('the second reply', async () => ((await turnTexts()).some((text) => /Send me an email/.test(text)) ? true : undefined));
    await call.waitForQuiet();
    await call.hangup();

    const mail = await waitFor(
      "the rep's email",
      async () => smtp.messages.find((m) => m.parsed.headers.get('x-practice-call') === callId && m.envelopeTo.includes(people.repEmail)),
      120_000,
    );
    const text = mail.parsed.text ?? '';
    expect(mail.parsed.subject).toBe('Your practice call: Cold call the CFO (67/100, not passed)');
    expect(text).toMatch(/\[00:00\] Diane Carter: Diane Carter speaking\. Who is this\?/);
    expect(text).toMatch(/\[\d\d:\d\d\] Riley Rep: Hi Diane, Riley here\. Got two minutes\?/);
    expect(text).toMatch(/\[\d\d:\d\d\] Diane Carter: Two minutes\. Go ahead\./);
    expect(text).toMatch(/\[\d\d:\d\d\] Riley Rep: Could we book a call next week\?/);
    expect(text).toMatch(/\[\d\d:\d\d\] Diane Carter: Send me an email\./);
    expect(text).toContain('- Secures a next step (weight 1): 80/100');
    expect(text).toContain(`https://practice.example.com/calls/${callId}`);

    const [row] = await database.db.select().from(calls).where(eq(calls.id, callId));
    expect(row).toMatchObject({ status: 'completed', endReason: 'caller_hung_up' });
    expect(row!.finalizedAt).not.toBeNull();
    expect(row!.analytics).toMatchObject({ repTurnCount: 2, personaTurnCount: 3, questionsAsked: 2 });
    const [card] = await database.db.select().from(scorecards).where(eq(scorecards.callId, callId));
    expect(card).toMatchObject({ status: 'scored', overallScore: 66.7, passed: false });
    expect(await queue.jobsFor(callId)).toHaveLength(1);
    await waitFor('the manager email', async () =>
      smtp.messages.find((m) => m.parsed.headers.get('x-practice-call') === callId && m.envelopeTo.includes(people.managerEmail)),
    );
    expect(smtp.messages.filter((m) => m.parsed.headers.get('x-practice-call') === callId)).toHaveLength(2);
  });
});
