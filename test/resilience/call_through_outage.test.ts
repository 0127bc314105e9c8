// The fault the issue names: the database goes away for 20 s in the middle of a real practice call
// (test phone -> livekit-sip -> livekit-server -> agent worker process -> emulated providers) and
// comes back. The agent reaches Postgres through a TCP proxy the test switches to "refusing" (as a
// stopped server does). The conversation goes on; afterwards every turn is stored, in order, with
// no gap in seq, and the call is finalised by the agent - or, had turns been lost, flagged
// "transcript incomplete". Nothing is restarted.
import { eq } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { calls, turns } from '../../src/adapters/db/schema.js';
import { createLogger } from '../../src/adapters/logger.js';
import { createPostCallQueue, type PostCallQueue } from '../../src/adapters/queue/post_call_queue.js';
import type { ReadyRoomMetadata } from '../../src/domain/room_metadata.js';
import { renderSpeechAt } from '../emulators/audio.js';
import { type AgentWorld, startAgentWorld } from '../agent/agent_world.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { startFaultProxy, type FaultProxy } from '../support/fault_proxy.js';
import { phoneSampleRate, type PhoneCall } from '../../sip/phone/phone.js';
import { sleep, waitFor } from '../support/wait.js';
import { RUBRIC } from '../post_call/fixtures.js';

const OPENING = 'Diane Carter speaking. Who is this?';
const REP_1 = 'Hi Diane, Riley here. Got two minutes?';
const REPLY_1 = 'Two minutes. Go ahead.';
const REP_2 = 'Could we book a call next week?';
const REPLY_2 = 'Send me an email.';
const OUTAGE_MS = 20_000;

const logger = createLogger({ level: 'silent', redactPii: false });
let database: TestDatabase;
let proxy: FaultProxy;
let queue: PostCallQueue;
let agentWorld: AgentWorld;

beforeAll(async () => {
  database = await createTestDatabase();
  proxy = await startFaultProxy(database.url);
  queue = createPostCallQueue({ pool: database.pool, logger });
  await queue.start();
  agentWorld = await startAgentWorld({
    databaseUrl: proxy.url,
    db: database.db,
    utterances: [REP_1, REP_2],
    script: [
      { when: 'two minutes', reply: REPLY_1 },
      { when: 'next week', reply: REPLY_2 },
    ],
  });
}, 300_000);

afterEach((context) => {
  if (context.task.result?.state === 'fail') console.error(`worker log (tail):\n${agentWorld?.workerLog().slice(-20_000)}`);
});

afterAll(async () => {
  proxy?.set('up');
  await agentWorld?.stop();
  await queue?.stop(5_000);
  await proxy?.close();
  await database?.close();
});

async function speak(call: PhoneCall, text: string): Promise<void> {
  const pcm = await renderSpeechAt(text, phoneSampleRate);
  await call.playPcm(pcm.samples, text);
}

describe('a practice call while the database is down for 20 s', () => {
  it('keeps the conversation going and stores every turn once the database is back', async () => {
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
      rep: { id: '00000000-0000-4000-8000-000000000001', firstName: 'Riley' },
    };
    const { callId, room } = await agentWorld.createCall(metadata);
    const { call } = await agentWorld.dialRoom(room);
    const stored = async () => database.db.select().from(turns).where(eq(turns.callId, callId)).orderBy(turns.seq);
    const has = (pattern: RegExp) => async () => ((await stored()).some((turn) => pattern.test(turn.text)) ? true : undefined);
    await waitFor('the greeting', has(/Diane Carter speaking/), 60_000);

    proxy.set('refusing');
    const cutAt = Date.now();
    await sleep(1500);
    await speak(call, REP_1);
    // The persona answers from memory and the emulators; the database plays no part in a turn.
    await waitFor('the persona to answer during the outage', async () => (agentWorld.groq.requests.some((r) => r.endpoint === 'chat' && (JSON.stringify(r.body) ?? '').includes('two minutes')) ? true : undefined), 30_000);
    await sleep(Math.max(0, OUTAGE_MS - (Date.now() - cutAt)));
    expect((await stored()).map((turn) => turn.text)).toEqual([OPENING]);
    proxy.set('up');

    await waitFor('the turns queued during the outage', has(/Go ahead/), 60_000);
    await call.waitForQuiet();
    await speak(call, REP_2);
    await waitFor('the second reply', has(/Send me an email/), 60_000);
    await call.waitForQuiet();
    await call.hangup();

    const row = await waitFor('the agent to finalise the call', async () => {
      const [current] = await database.db.select().from(calls).where(eq(calls.id, callId));
      return current?.finalizedAt && current.agentFinishedAt ? current : undefined;
    }, 90_000);
    const rows = await stored();
    expect(rows.map((turn) => turn.seq)).toEqual(rows.map((_, index) => index + 1));
    expect(rows.map((turn) => turn.speaker)).toEqual(['persona', 'rep', 'persona', 'rep', 'persona']);
    expect(rows.map((turn) => turn.text)).toEqual([OPENING, expect.stringMatching(/Riley here/), REPLY_1, expect.stringMatching(/next week/), REPLY_2]);
    expect(row.transcriptIncomplete).toBe(false);
    expect(row.status).toBe('completed');
  });
});
