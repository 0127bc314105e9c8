// The overlapped turn pipeline end to end: a reply prepared speculatively from the first half of a
// hesitant sentence is thrown away when the rep carries on, so it is never heard and never stored;
// the reply to the whole sentence is. Its own worker waits 3 s of silence before a turn commits,
// so the 800 ms pause can only ever produce a speculation, never a cut-in: the test is about what
// happens to a superseded speculation, deterministically. The margin is for the host, not the
// product: under CI load the audio path has been seen to stall for over a second, which stretched
// the pause past a 1.5 s endpointing delay and committed the first half as a turn of its own.
// Its segments close after 400 ms of silence (the product's default is 200) and the pause is 800 ms:
// under CI load any process on the audio path (livekit-sip, the SFU, the agent) can stall for a few
// hundred ms, which a 200 ms segmenter hears as a pause, tearing the second half into fragments the
// STT emulator cannot transcribe. What is under test is the fate of a superseded speculation, not
// the segment length.
import { asc, eq } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { phoneSampleRate } from '../../sip/phone/phone.js';
import { turnMetrics, turns } from '../../src/adapters/db/schema.js';
import { renderSpeechAt } from '../emulators/audio.js';
import { espeakVoiceFor } from '../emulators/elevenlabs_emulator.js';
import { messageText } from '../emulators/persona_script.js';
import { createUtteranceMatcher } from '../emulators/utterance_matcher.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { waitFor } from '../support/wait.js';
import { type AgentWorld, dianeCarterCall, DIANE_VOICE_ID, startAgentWorld, installPostCallQueue, keepWorkerLog } from './agent_world.js';

const VOICE_ID = DIANE_VOICE_ID;
const FIRST_HALF = 'So about the budget,';
const SECOND_HALF = 'could we start with one route next quarter and grow from there?';
const SPECULATIVE = 'What budget? Nobody told me about a budget.';
const REPLY = 'One route is fine, send me the details.';

const metadata = dianeCarterCall({ persona: { personality: 'Blunt.' }, scenario: { title: 'Pilot', objective: 'Agree a pilot.' } });

let database: TestDatabase;
let world: AgentWorld;

beforeAll(async () => {
  database = await createTestDatabase();
  await installPostCallQueue(database.pool);
  world = await startAgentWorld({
    databaseUrl: database.url,
    db: database.db,
    utterances: [FIRST_HALF, SECOND_HALF],
    script: [
      // Only the first half alone draws the speculative line; the whole sentence draws the reply.
      { when: (_request, lastUser) => /budget/i.test(lastUser) && !/route/i.test(lastUser), reply: SPECULATIVE },
      { when: 'one route', reply: REPLY },
    ],
    workerEnv: { AGENT_TURN_PIPELINE: 'overlapped', AGENT_ENDPOINTING_MIN_DELAY_MS: '3000', AGENT_STT_SEGMENT_SILENCE_MS: '400' },
  });
}, 240_000);

afterEach(async (context) => {
  if (context.task.result?.state === 'fail' && world) {
    keepWorkerLog(world);
    console.error('turns:', JSON.stringify((await database.db.select().from(turns)).map((t) => [t.speaker, t.text])));
    console.error('heard by the STT emulator:', JSON.stringify(world.groq.requests.filter((r) => r.endpoint === 'transcription').map((r) => (r.outcome as { text?: string } | undefined)?.text)));
  }
});

afterAll(async () => {
  await world?.stop();
  await database?.close();
});

describe('the overlapped turn pipeline', () => {
  it('never speaks or stores a speculative reply that the rep talks over; the reply to the whole turn is used', async () => {
    const { callId, room } = await world.createCall(metadata);
    const { call } = await world.dialRoom(room);
    await waitFor('greeting stored', async () => ((await database.db.select().from(turns).where(eq(turns.callId, callId))).length > 0 ? true : undefined), 30_000);
    await call.waitForQuiet();

    // "So about the budget," — 800 ms — "could we start with one route ...": the first half is a
    // segment of its own (Whisper hears it during the pause), the turn is not over.
    const first = await renderSpeechAt(FIRST_HALF, phoneSampleRate);
    const second = await renderSpeechAt(SECOND_HALF, phoneSampleRate);
    const pause = new Int16Array(Math.round(0.8 * phoneSampleRate));
    const utterance = new Int16Array(first.samples.length + pause.length + second.samples.length);
    utterance.set(first.samples, 0);
    utterance.set(second.samples, first.samples.length + pause.length);
    await call.playPcm(utterance, 'hesitant');

    await waitFor('reply stored', async () => (await database.db.select().from(turns).where(eq(turns.callId, callId))).find((t) => t.speaker === 'persona' && t.text === REPLY), 60_000);
    await call.waitForQuiet();

    // The speculation really happened: the LLM was asked about the first half alone, and its line
    // was synthesised ahead of time (preemptive TTS).
    const chats = world.groq.requests.filter((r) => r.endpoint === 'chat').map((r) => (r.body as { messages: { role: string; content: unknown }[] }).messages);
    const lastUser = (messages: { role: string; content: unknown }[]) => messageText(messages.filter((m) => m.role === 'user').at(-1)?.content);
    expect(chats.some((messages) => lastUser(messages).trim() === FIRST_HALF), 'a reply was prepared from the first half').toBe(true);
    expect(world.elevenlabs.synthesized.some((s) => s.text.includes('Nobody told me')), 'its audio was synthesised ahead').toBe(true);

    // Stored: the whole rep turn and the reply to it, nothing of the speculation.
    const stored = await database.db.select().from(turns).where(eq(turns.callId, callId)).orderBy(asc(turns.seq));
    expect(stored.map((t) => [t.speaker, t.text])).toEqual([
      ['persona', 'Diane Carter speaking.'],
      ['rep', `${FIRST_HALF} ${SECOND_HALF}`],
      ['persona', REPLY],
    ]);
    const [metrics] = await database.db.select().from(turnMetrics).where(eq(turnMetrics.turnId, stored[2]!.id));
    expect(metrics?.speculativeLeadMs, 'the used reply was itself prepared before the 3 s silence ran out').toBeGreaterThan(0);

    // Heard: the reply, and never the speculative line.
    const matcher = createUtteranceMatcher({ speech: { voice: espeakVoiceFor(VOICE_ID) } });
    const recording = { samples: call.recording(), sampleRate: phoneSampleRate };
    expect(await matcher.locate(REPLY, recording), 'the reply is heard').toBeDefined();
    expect(await matcher.locate(SPECULATIVE, recording), 'the speculative line is never heard').toBeUndefined();
    await call.hangup();
  });
});
