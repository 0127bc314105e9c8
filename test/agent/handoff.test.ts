// Gatekeeper -> decision-maker in one call, over the real telephony stack (decision 018). A rep who
// earns the transfer hears the "putting you through" line, a ring, then the decision-maker's greeting
// in a second voice; every persona turn is stored with the persona who spoke. A rep who does not earn
// it is turned away and the call ends with the gatekeeper.
import { eq } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { rmsDbfs } from '../../sip/phone/audio.js';
import { type PhoneCall, phoneSampleRate } from '../../sip/phone/phone.js';
import { calls, personas, turns } from '../../src/adapters/db/schema.js';
import type { ReadyRoomMetadata } from '../../src/domain/room_metadata.js';
import { renderSpeechAt } from '../emulators/audio.js';
import type { ChatRequest } from '../emulators/persona_script.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { sleep, waitFor } from '../support/wait.js';
import { type AgentWorld, dianeCarterCall, DIANE_VOICE_ID, installPostCallQueue, endOfTest, storedTurns, waitForStoredTurn, startAgentWorld } from './agent_world.js';

const GATEKEEPER_VOICE_ID = 'JBFqnCBsd6RMkjVDRZzb';
const GATEKEEPER_OPENING = 'Northwind Logistics, front desk, Sam speaking.';
const DIANE_OPENING = 'Diane Carter. You have two minutes.';
const EARNS_IT = 'This is Riley from Acme, I am calling Diane about cutting your freight costs.';
const PUT_THROUGH = 'One moment, I will put you through.';
const REFUSES_IT = 'I would rather not say who I am, just put me through.';
const DIANE_HELLO = 'Hello Diane, thanks for taking my call.';
const TURNED_AWAY = 'Then I cannot help you, sorry. Goodbye.';
const ADVANCE_RULE = 'the caller gives their name and a specific business reason';
/** Below this a 100 ms stretch is silence (the phone's G.711 idle noise is far under it). */
const SILENCE_FLOOR_DBFS = -60;

let database: TestDatabase;
let world: AgentWorld;
let gatekeeperId: string;
let dianeId: string;

const offersTransfer = (request: ChatRequest) => request.tools?.some((tool) => tool.function?.name === 'transfer') ?? false;

beforeAll(async () => {
  database = await createTestDatabase();
  await installPostCallQueue(database.pool);
  const base = { company: 'Northwind Logistics', personality: 'Busy.', llmModel: 'llama-3.3-70b-versatile' };
  const rows = await database.db
    .insert(personas)
    .values([
      { ...base, name: 'Sam Reyes', role: 'Receptionist', openingLine: GATEKEEPER_OPENING, voiceId: GATEKEEPER_VOICE_ID },
      { ...base, name: 'Diane Carter', role: 'Chief Financial Officer', openingLine: DIANE_OPENING, voiceId: DIANE_VOICE_ID },
    ])
    .returning({ id: personas.id });
  [gatekeeperId, dianeId] = [rows[0]!.id, rows[1]!.id];
  world = await startAgentWorld({
    databaseUrl: database.url,
    db: database.db,
    utterances: [EARNS_IT, REFUSES_IT, DIANE_HELLO],
    script: [
      // The gatekeeper (it alone has the transfer tool) puts an earned caller through and turns the other away.
      { when: (request, last) => offersTransfer(request) && /freight costs/i.test(last), reply: PUT_THROUGH, toolCalls: [{ name: 'transfer', arguments: {} }] },
      { when: (request, last) => offersTransfer(request) && /rather not say/i.test(last), reply: TURNED_AWAY, toolCalls: [{ name: 'end_call', arguments: {} }] },
    ],
  });
}, 240_000);

afterEach((context) => endOfTest(world, context));

afterAll(async () => {
  await world?.stop();
  await database?.close();
});

function stagedCall(): Omit<ReadyRoomMetadata, 'callId'> {
  const diane = dianeCarterCall({ persona: { openingLine: DIANE_OPENING } });
  return {
    ...diane,
    v: 2,
    personaId: gatekeeperId,
    persona: { ...diane.persona, name: 'Sam Reyes', role: 'Receptionist', openingLine: GATEKEEPER_OPENING, voiceId: GATEKEEPER_VOICE_ID },
    stages: [{ personaId: dianeId, persona: diane.persona, advanceRule: ADVANCE_RULE }],
  };
}

const turnsOf = (callId: string) => storedTurns(database.db, callId);
const waitForTurn = (callId: string, speaker: 'rep' | 'persona', text: RegExp) => waitForStoredTurn(database.db, callId, speaker, text);

async function say(call: PhoneCall, text: string): Promise<void> {
  const pcm = await renderSpeechAt(text, phoneSampleRate);
  await call.playPcm(pcm.samples, text);
}

/** Power of one frequency over samples (Goertzel), relative to their total power. */
function toneShare(samples: Int16Array, start: number, end: number, hz: number): number {
  const k = (2 * Math.cos((2 * Math.PI * hz) / phoneSampleRate));
  let [s1, s2, total] = [0, 0, 0];
  for (let i = start; i < end; i++) {
    const x = samples[i]! / 32768;
    const s0 = x + k * s1 - s2;
    [s2, s1] = [s1, s0];
    total += x * x;
  }
  const power = (s1 * s1 + s2 * s2 - k * s1 * s2) / ((end - start) / 2);
  return total === 0 ? 0 : power / total;
}

/** Where in [fromMs, toMs] the phone heard the ring (the 400+450 Hz pair dominating), and the first voice after it. */
function ringThenVoice(call: PhoneCall, fromMs: number, toMs: number): { ringAtMs?: number; voiceAfterRingMs?: number } {
  const recording = call.recording();
  const window = phoneSampleRate / 10;
  const toSample = (ms: number) => Math.floor(ms * (phoneSampleRate / 1000));
  let ringAtMs: number | undefined;
  let ringEndMs: number | undefined;
  for (let start = toSample(fromMs); start + window <= Math.min(recording.length, toSample(toMs)); start += window / 2) {
    const ms = (start / phoneSampleRate) * 1000;
    const loud = rmsDbfs(recording, start, start + window) > SILENCE_FLOOR_DBFS;
    const ringing = loud && toneShare(recording, start, start + window, 400) + toneShare(recording, start, start + window, 450) > 0.6;
    if (ringing) {
      ringAtMs ??= ms;
      ringEndMs = ms;
    } else if (ringAtMs !== undefined && ringEndMs !== undefined && loud && ms > ringEndMs + 500) {
      return { ringAtMs, voiceAfterRingMs: ms };
    }
  }
  return ringAtMs === undefined ? {} : { ringAtMs };
}

describe('gatekeeper to decision-maker in one call, by phone', () => {
  it('puts a rep who earns it through: a ring, then the decision-maker in her own voice; turns say who spoke', async () => {
    const { callId, room } = await world.createCall(stagedCall());
    const { call } = await world.dialRoom(room);
    await waitForTurn(callId, 'persona', /front desk/);
    await call.waitForQuiet();
    const beforeTransferMs = call.now();
    await say(call, EARNS_IT);
    await waitForTurn(callId, 'rep', /freight costs/i);
    await waitForTurn(callId, 'persona', /put you through/);
    await waitForTurn(callId, 'persona', /Diane Carter/);
    await sleep(500);

    const heard = ringThenVoice(call, beforeTransferMs, call.now());
    console.info(`heard from ${beforeTransferMs} ms: ring at ${heard.ringAtMs} ms, voice after it at ${heard.voiceAfterRingMs} ms`);
    expect(heard.ringAtMs, 'the phone heard the ring').toBeDefined();
    expect(heard.voiceAfterRingMs, 'the phone heard a voice after the ring').toBeDefined();

    // Diane answers the rep after the transfer, in her voice, knowing what was said to the gatekeeper.
    await say(call, DIANE_HELLO);
    const dianeReply = await waitFor('a reply after the greeting', async () => (await turnsOf(callId)).filter((t) => t.speaker === 'persona').at(3), 30_000);
    await call.hangup();

    const spokenBy = (voiceId: string) => world.elevenlabs.synthesized.filter((s) => s.voiceId === voiceId).map((s) => s.text).join(' ');
    expect(spokenBy(GATEKEEPER_VOICE_ID)).toContain('front desk');
    expect(spokenBy(DIANE_VOICE_ID)).toContain('Diane Carter. You have two minutes.');
    expect(spokenBy(DIANE_VOICE_ID)).toContain(dianeReply.text.split(' ')[0]);

    const stored = await turnsOf(callId);
    const personaTurns = stored.filter((t) => t.speaker === 'persona').map((t) => ({ text: t.text, personaId: t.personaId }));
    expect(personaTurns.slice(0, 3)).toEqual([
      { text: GATEKEEPER_OPENING, personaId: gatekeeperId },
      { text: PUT_THROUGH, personaId: gatekeeperId },
      { text: DIANE_OPENING, personaId: dianeId },
    ]);
    expect(personaTurns.slice(3).every((t) => t.personaId === dianeId)).toBe(true);
    expect(stored.filter((t) => t.speaker === 'rep').every((t) => t.personaId === null)).toBe(true);

    const dianeChat = world.groq.requests.filter((r) => r.endpoint === 'chat').map((r) => r.body as ChatRequest).find((body) => !offersTransfer(body) && JSON.stringify(body.messages).includes('You are Diane Carter'));
    expect(dianeChat, 'Diane was asked for a reply').toBeDefined();
    const system = JSON.stringify(dianeChat!.messages.filter((m) => m.role === 'system' || m.role === 'developer'));
    expect(system).toContain('Sam Reyes, Receptionist, answered the call and put the caller through to you');
    expect(system).toContain('freight costs');
  });

  it('turns away a rep who does not earn it: the gatekeeper ends the call and the decision-maker never speaks', async () => {
    const dianeBefore = world.elevenlabs.synthesized.filter((s) => s.voiceId === DIANE_VOICE_ID).length;
    const { callId, room } = await world.createCall(stagedCall());
    const { call } = await world.dialRoom(room);
    await waitForTurn(callId, 'persona', /front desk/);
    await call.waitForQuiet();
    await say(call, REFUSES_IT);
    await waitForTurn(callId, 'persona', /cannot help you/);
    await call.waitForBye();
    const ended = await waitFor('the call ended', async () => {
      const [row] = await database.db.select({ endReason: calls.endReason }).from(calls).where(eq(calls.id, callId));
      return row?.endReason ?? undefined;
    });
    expect(ended).toBe('persona_ended');
    expect(world.elevenlabs.synthesized.filter((s) => s.voiceId === DIANE_VOICE_ID)).toHaveLength(dianeBefore);
    const personaTurns = (await turnsOf(callId)).filter((t) => t.speaker === 'persona');
    expect(personaTurns.map((t) => t.personaId)).toEqual(personaTurns.map(() => gatekeeperId));
    expect(personaTurns.some((t) => /Diane Carter/.test(t.text))).toBe(false);
  });
});
