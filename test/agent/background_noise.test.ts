// Background noise over the real telephony stack: with a scenario's ambience on, the phone hears it
// between the persona's sentences (above the silence floor, well under the voice) and the rep's
// turns are still transcribed and stored; with it off, silence stays silence.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { rmsDbfs } from '../../sip/phone/audio.js';
import { type PhoneCall, phoneSampleRate } from '../../sip/phone/phone.js';
import { turns } from '../../src/adapters/db/schema.js';
import type { BackgroundNoise } from '../../src/domain/background_noise.js';
import { renderSpeechAt } from '../emulators/audio.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { sleep } from '../support/wait.js';
import { type AgentWorld, dianeCarterCall, startAgentWorld, installPostCallQueue, endOfTest, storedTurns, waitForStoredTurn } from './agent_world.js';

const OPENING = 'Diane Carter speaking.';
const REP = 'Could we talk about your shipping costs for two minutes?';
const REPLY = 'Two minutes. Go ahead.';
/** Below this a 1 s stretch is silence (the phone's G.711 idle noise is far under it). */
const SILENCE_FLOOR_DBFS = -60;

let database: TestDatabase;
let world: AgentWorld;

beforeAll(async () => {
  database = await createTestDatabase();
  await installPostCallQueue(database.pool);
  world = await startAgentWorld({ databaseUrl: database.url, db: database.db, utterances: [REP], script: [{ when: 'two minutes', reply: REPLY }] });
}, 240_000);

afterEach((context) => endOfTest(world, context));

afterAll(async () => {
  await world?.stop();
  await database?.close();
});

const turnsOf = (callId: string) => storedTurns(database.db, callId);
const waitForTurn = (callId: string, speaker: 'rep' | 'persona', text: RegExp) => waitForStoredTurn(database.db, callId, speaker, text);

/** The level the phone heard over the last second (ending 200 ms ago). */
function lastSecondDbfs(call: PhoneCall): number {
  const end = Math.floor((call.now() - 200) * (phoneSampleRate / 1000));
  return rmsDbfs(call.recording(), end - phoneSampleRate, end);
}

/** The loudest 100 ms the phone heard: the persona's voice. */
function loudestDbfs(call: PhoneCall): number {
  const recording = call.recording();
  const window = phoneSampleRate / 10;
  let loudest = -Infinity;
  for (let start = 0; start + window <= recording.length; start += window / 2) loudest = Math.max(loudest, rmsDbfs(recording, start, start + window));
  return loudest;
}

/** A call: greeting, a gap, the rep's sentence, the reply, another gap. Returns the gap levels. */
async function callWith(backgroundNoise: BackgroundNoise) {
  const { callId, room } = await world.createCall(dianeCarterCall({ persona: { openingLine: OPENING }, scenario: { backgroundNoise } }));
  const { call } = await world.dialRoom(room);
  await waitForTurn(callId, 'persona', /Diane Carter speaking/);
  // A turn is stored once played; this gap leaves a whole second of it to measure after the voice.
  await sleep(1500);
  const afterGreeting = lastSecondDbfs(call);
  const pcm = await renderSpeechAt(REP, phoneSampleRate);
  await call.playPcm(pcm.samples, REP);
  const repTurn = await waitForTurn(callId, 'rep', /two minutes/i);
  await waitForTurn(callId, 'persona', /Go ahead/);
  await sleep(1500);
  const afterReply = lastSecondDbfs(call);
  const voice = loudestDbfs(call);
  await call.hangup();
  console.info(`${backgroundNoise}: voice ${voice.toFixed(1)} dBFS, gaps ${afterGreeting.toFixed(1)} / ${afterReply.toFixed(1)} dBFS`);
  return { afterGreeting, afterReply, voice, repTurn, turns: await turnsOf(callId) };
}

describe('background noise on a phone call', () => {
  it('office: ambience between the persona\'s sentences, under the voice; the rep is still transcribed', async () => {
    const heard = await callWith('office');
    expect(heard.afterGreeting, 'ambience after the greeting').toBeGreaterThan(SILENCE_FLOOR_DBFS);
    expect(heard.afterReply, 'ambience after the reply').toBeGreaterThan(SILENCE_FLOOR_DBFS);
    // Heard under speech, not over it.
    expect(heard.voice - heard.afterReply, `voice ${heard.voice.toFixed(1)} dBFS vs ambience ${heard.afterReply.toFixed(1)} dBFS`).toBeGreaterThan(10);
    expect(heard.repTurn.text).toBe(REP);
    expect(heard.turns.map((turn) => turn.speaker)).toEqual(['persona', 'rep', 'persona']);
    expect(world.workerLog()).toContain('background noise playing');
  });

  it('none: silence between sentences stays silence', async () => {
    const heard = await callWith('none');
    expect(heard.afterGreeting).toBeLessThan(SILENCE_FLOOR_DBFS);
    expect(heard.afterReply).toBeLessThan(SILENCE_FLOOR_DBFS);
    expect(heard.repTurn.text).toBe(REP);
    expect(heard.turns.map((turn) => turn.speaker)).toEqual(['persona', 'rep', 'persona']);
  });
});
