// The persona agent end to end: test phone -> livekit-sip -> livekit-server -> agent worker (its own
// process, real plugins) -> Groq/ElevenLabs emulators, with turns landing in a real database.
// The room is created exactly as the dispatch service does after a PIN (metadata + agent dispatch).
// Only what needs the phone is here: audio heard, barge-in timing, BYE and the room going. The call
// logic (end_call, time limit, provider failures) is tested in-process in agent/persona_call.test.ts.
import { asc, eq } from 'drizzle-orm';
import { RoomAgentDispatch } from 'livekit-server-sdk';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { calls, turnMetrics, turns } from '../../src/adapters/db/schema.js';
import type { ReadyRoomMetadata } from '../../src/domain/room_metadata.js';
import { espeakVoiceFor } from '../emulators/elevenlabs_emulator.js';
import { renderSpeechAt } from '../emulators/audio.js';
import { createUtteranceMatcher } from '../emulators/utterance_matcher.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import type { PhoneCall } from '../../sip/phone/phone.js';
import { phoneSampleRate } from '../../sip/phone/phone.js';
import { rmsDbfs } from '../../sip/phone/audio.js';
import { type AgentWorld, dianeCarterCall, DIANE_VOICE_ID, startAgentWorld, installPostCallQueue, keepWorkerLog } from './agent_world.js';
import { sleep, waitFor } from '../support/wait.js';

const VOICE_ID = DIANE_VOICE_ID;
const OPENING = 'Diane Carter speaking. Who is this?';
const REP_1 = 'Hi Diane, Riley here. Got two minutes?';
const REP_2 = 'Could we book a call next week?';
const REPLY_1 = 'Two minutes. Go ahead.';
const REPLY_2 = 'Send me an email.';
const LONG_REPLY =
  'Well, let me tell you how we handle shipping today. We have three carriers, a regional one for the east coast, a national one for everything else, and a freight partner for pallets, and honestly every time someone calls me about costs they promise savings that never show up on the invoice.';
const BARGE_IN = 'Sorry to cut in, but what if I could show you the savings on your own invoices?';
const BACKCHANNEL = 'Yeah.';
const GOODBYE_CUE = 'That is all I needed, thanks Diane, goodbye.';
const ASK_LONG = 'How do you handle shipping today?';

const personaMetadata = (timeLimitSeconds = 300): Omit<ReadyRoomMetadata, 'callId'> =>
  dianeCarterCall({
    persona: { personality: 'Numbers-driven and impatient with fluff.', objections: ['We already have a vendor for this.'], openingLine: OPENING },
    scenario: { difficulty: 'medium', timeLimitSeconds },
  });



let database: TestDatabase;
let world: AgentWorld;

beforeAll(async () => {
  database = await createTestDatabase();
  await installPostCallQueue(database.pool);
  world = await startAgentWorld({
    databaseUrl: database.url,
    db: database.db,
    utterances: [REP_1, REP_2, BARGE_IN, BACKCHANNEL, GOODBYE_CUE, ASK_LONG],
    script: [
      { when: 'two minutes', reply: REPLY_1 },
      { when: 'next week', reply: REPLY_2 },
      { when: 'shipping today', reply: LONG_REPLY },
      { when: 'own invoices', reply: 'Fine, show me.' },
    ],
  });
}, 240_000);

afterEach(async (context) => {
  await world?.hangUpAll();
  if (context.task.result?.state === 'fail' && world) {
    keepWorkerLog(world, `\n${world.stack.describe()}`);
  }
});

afterAll(async () => {
  if (world) writeFileSync(join(world.stack.runDir, 'agent-worker.log'), world.workerLog());
  await world?.stop();
  await database?.close();
});

/** Plays an espeak-ng utterance; returns when it was on the wire (call clock). */
async function speak(call: PhoneCall, text: string): Promise<{ startMs: number; endMs: number }> {
  const pcm = await renderSpeechAt(text, phoneSampleRate);
  await call.playPcm(pcm.samples, text);
  const sent = call.sent().filter((item) => item.label === text).at(-1);
  if (!sent) throw new Error(`phone did not record sending ${text}`);
  return { startMs: sent.startMs, endMs: sent.endMs };
}

const turnsOf = (callId: string) => database.db.select().from(turns).where(eq(turns.callId, callId)).orderBy(asc(turns.seq));

async function waitForTurn(callId: string, speaker: 'rep' | 'persona', text: RegExp, timeoutMs = 30_000) {
  return waitFor(`${speaker} turn ${text}`, async () => (await turnsOf(callId)).find((turn) => turn.speaker === speaker && text.test(turn.text)), timeoutMs);
}

describe('a practice call through the real telephony stack', () => {
  it('greets, converses turn by turn with everything stored, and completes when the phone hangs up', async () => {
    const { callId, room } = await world.createCall(personaMetadata());
    const { call } = await world.dialRoom(room);

    // The greeting: voiced audio that is the opening line in the persona's voice.
    await waitForTurn(callId, 'persona', /Diane Carter speaking/);
    await call.waitForQuiet();
    const matcher = createUtteranceMatcher();
    matcher.register(OPENING, { voice: espeakVoiceFor(VOICE_ID) });
    const greeting = await matcher.locate(OPENING, { samples: call.recording(), sampleRate: phoneSampleRate });
    expect(greeting, 'the opening line is heard at the phone').toBeDefined();

    await speak(call, REP_1);
    await waitForTurn(callId, 'rep', /two minutes/i);
    await waitForTurn(callId, 'persona', /Go ahead/);
    await call.waitForQuiet();
    await speak(call, REP_2);
    await waitForTurn(callId, 'rep', /next week/i);
    await waitForTurn(callId, 'persona', /Send me an email/);
    await call.waitForQuiet();
    expect(call.voicedSegments().length).toBeGreaterThanOrEqual(3);

    await call.hangup();
    const closed = await waitFor('call completed', async () => {
      const [row] = await database.db.select().from(calls).where(eq(calls.id, callId));
      return row?.status === 'completed' && row.usage !== null ? row : undefined;
    }, 60_000);
    expect(closed.endReason).toBe('caller_hung_up');
    expect(closed.answeredAt).not.toBeNull();
    expect(closed.usage?.ttsCharacters).toBeGreaterThan(0);
    expect(closed.usage?.llmPromptTokens).toBeGreaterThan(0);
    expect(closed.usage?.sttAudioSeconds).toBeGreaterThan(0);
    expect(Number(closed.estimatedCostUsd)).toBeGreaterThan(0);

    const stored = await turnsOf(callId);
    expect(stored.map((turn) => turn.speaker)).toEqual(['persona', 'rep', 'persona', 'rep', 'persona']);
    const replies = stored.filter((turn) => turn.speaker === 'persona').slice(1);
    for (const reply of replies) {
      const [metrics] = await database.db.select().from(turnMetrics).where(eq(turnMetrics.turnId, reply.id));
      expect(metrics?.llmTtftMs, 'LLM TTFT stored').toBeGreaterThan(0);
      expect(metrics?.ttsTtfbMs, 'TTS TTFB stored').toBeGreaterThan(0);
      expect(metrics?.endToEndMs, 'end-to-end stored').toBeGreaterThan(0);
      expect(metrics?.endOfUtteranceDelayMs, 'endpointing stored').not.toBeNull();
      expect(metrics?.sttMs, 'STT request time stored').toBeGreaterThan(0);
    }
    // No room left behind.
    await waitFor('room deleted', async () => ((await world.rooms.listRooms([room])).length === 0 ? true : undefined), 30_000);
  });

  it('lets a backchannel pass but stops for a real interruption, stored as interrupted', async () => {
    const { callId, room } = await world.createCall(personaMetadata());
    const { call } = await world.dialRoom(room);
    await waitForTurn(callId, 'persona', /Diane Carter speaking/);
    await call.waitForQuiet();
    const askedAt = (await speak(call, ASK_LONG)).endMs;
    await waitForTurn(callId, 'rep', /shipping today/i);
    // The long reply is playing once the phone hears voice again after the question.
    await waitFor('long reply audible', async () => (voiced(call, call.now() - 300, call.now()) ? true : undefined), 20_000);
    await sleep(1500);

    const backchannelEnd = (await speak(call, BACKCHANNEL)).endMs;
    await sleep(2500);
    expect(voiced(call, backchannelEnd + 800, backchannelEnd + 2300), 'the persona keeps talking over "yeah"').toBe(true);

    const { startMs: bargeStart, endMs: bargeEnd } = await speak(call, BARGE_IN);
    expect(bargeEnd - bargeStart).toBeGreaterThan(3000);
    expect(voiced(call, bargeStart + 2200, bargeEnd), 'the persona stops while the caller talks over it').toBe(false);

    const reply = await waitForTurn(callId, 'persona', /three carriers/);
    expect(reply.interrupted).toBe(true);
    expect(reply.text.length).toBeLessThan(LONG_REPLY.length);
    await waitForTurn(callId, 'rep', /own invoices/i);
    await waitForTurn(callId, 'persona', /show me/);
    // The backchannel got no reply of its own: greeting, the interrupted reply, the answer to the interruption.
    const personaTurns = (await turnsOf(callId)).filter((turn) => turn.speaker === 'persona').map((turn) => turn.text);
    expect(personaTurns).toHaveLength(3);
    expect(personaTurns[2]).toMatch(/show me/);
    expect(askedAt).toBeGreaterThan(0);
    await call.hangup();
  });

  it('ends the call itself with end_call: goodbye, BYE at the phone, no room left', async () => {
    const { callId, room } = await world.createCall(personaMetadata());
    const { call } = await world.dialRoom(room);
    await waitForTurn(callId, 'persona', /Diane Carter speaking/);
    await call.waitForQuiet();
    await speak(call, GOODBYE_CUE);
    const end = await call.waitForBye(40_000);
    expect(end.by).toBe('remote');
    await waitForTurn(callId, 'persona', /goodbye/i);
    const closed = await waitFor('call completed', async () => {
      const [row] = await database.db.select().from(calls).where(eq(calls.id, callId));
      return row?.finalizedAt ? row : undefined;
    }, 30_000);
    expect(closed).toMatchObject({ status: 'completed', endReason: 'persona_ended' });
    const goodbyes = (await turnsOf(callId)).filter((turn) => turn.speaker === 'persona' && /goodbye/i.test(turn.text));
    expect(goodbyes, 'one goodbye, not the model\'s plus a fallback').toHaveLength(1);
    await waitFor('room deleted', async () => ((await world.rooms.listRooms([room])).length === 0 ? true : undefined), 30_000);
  });

  it('refuses metadata it cannot parse: a short apology, then a hang-up, no persona', async () => {
    const room = `call-bad-${Date.now()}`;
    const bad = JSON.stringify({ v: 1, stage: 'ready', callId: 'not-a-uuid' });
    await world.rooms.createRoom({ name: room, metadata: bad, emptyTimeout: 60, agents: [new RoomAgentDispatch({ agentName: world.agentName, metadata: bad })] });
    const { call } = await world.dialRoom(room);
    const end = await call.waitForBye(60_000);
    expect(end.by).toBe('remote');
    expect(world.elevenlabs.synthesized.some((s) => s.text.includes("couldn't be set up"))).toBe(true);
    expect(call.voicedSegments().length).toBeGreaterThan(0);
    await waitFor('room deleted', async () => ((await world.rooms.listRooms([room])).length === 0 ? true : undefined), 30_000);
  });
});

/** Whether the phone heard voice (above -40 dBFS in some 100 ms window) between two call times. */
function voiced(call: PhoneCall, fromMs: number, toMs: number): boolean {
  const recording = call.recording();
  const perMs = phoneSampleRate / 1000;
  for (let t = Math.max(0, fromMs); t + 100 <= toMs; t += 50) {
    const start = Math.floor(t * perMs);
    const end = Math.floor((t + 100) * perMs);
    if (end > recording.length) break;
    if (rmsDbfs(recording, start, end) > -40) return true;
  }
  return false;
}
