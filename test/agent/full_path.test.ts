// Both call paths with every real piece: the dispatch service (Twilio webhooks, /api/dispatch/resolve,
// LiveKit webhooks), livekit-server + livekit-sip with our trunks and rules, the agent worker, the
// test phone, the provider emulators, Postgres.
import { asc, eq } from 'drizzle-orm';
import { SipClient } from 'livekit-server-sdk';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildPracticeLinePlan, ensureSip } from '../../sip/ensure.js';
import { calls, personas, turnMetrics, turns } from '../../src/adapters/db/schema.js';
import { pino } from 'pino';
import { renderSpeechAt } from '../emulators/audio.js';
import { startElevenLabsEmulator, type ElevenLabsEmulator } from '../emulators/elevenlabs_emulator.js';
import { startGroqEmulator, type GroqEmulator } from '../emulators/groq_emulator.js';
import { AGENT_NAME, createCallRoutingWorld, seedPracticeCall, type CallRoutingWorld } from '../support/call_routing_world.js';
import { createSipPhone, phoneSampleRate, type PhoneCall, type SipPhone } from '../../sip/phone/phone.js';
import { findVerb } from '../support/twilio_caller.js';
import { callPrompts } from '../../src/domain/call_prompts.js';
import { startAgentWorker, installPostCallQueue } from './agent_world.js';
import { sleep, waitFor } from '../support/wait.js';

const LINE = '+15550009999';
const DIRECT_NUMBER = '+15550004000';
/** Direct-trunk numbers LINE_LANGUAGES sets to Spanish and German, and their calls (decision 017). */
const LANGUAGE_LINES = [
  {
    language: 'es',
    name: 'Spanish',
    number: '+34910004000',
    lineTag: 'es-ES',
    opening: 'Diana Carrillo al habla. ¿Quién es?',
    rep: 'Hola Diana, ¿podemos hablar de sus costes de envío?',
    cue: /costes de env[ií]o/i,
    reply: 'Tiene dos minutos. Adelante.',
  },
  {
    language: 'de',
    name: 'German',
    number: '+49300004000',
    lineTag: 'de',
    opening: 'Carter am Apparat. Wer spricht?',
    rep: 'Guten Tag, können wir kurz über Ihre Versandkosten sprechen?',
    cue: /Versandkosten/i,
    reply: 'Sie haben zwei Minuten. Bitte.',
  },
] as const;
const REP_1 = 'Hi Diane, Riley here. Got two minutes?';
const REP_2 = 'Could we book a call next week?';
const trunkAuth = { username: 'twilio-test', password: randomBytes(9).toString('hex') };

let world: CallRoutingWorld;
let groq: GroqEmulator;
let elevenlabs: ElevenLabsEmulator;
let worker: Awaited<ReturnType<typeof startAgentWorker>>;
const phones: SipPhone[] = [];

/** A seeded practice call whose persona uses a model the Groq emulator serves. */
async function seed() {
  const seeded = await seedPracticeCall(world);
  await world.database.db.update(personas).set({ llmModel: 'llama-3.3-70b-versatile' }).where(eq(personas.id, seeded.persona.id));
  return seeded;
}

beforeAll(async () => {
  world = await createCallRoutingWorld({ livekit: true, lineLanguages: new Map(LANGUAGE_LINES.map((line) => [line.number, line.lineTag])) });
  const stack = world.stack!;
  await installPostCallQueue(world.database.pool);
  await ensureSip(
    new SipClient(stack.httpUrl, world.apiKey, world.apiSecret),
    buildPracticeLinePlan({ agentName: AGENT_NAME, twilio: { authUsername: trunkAuth.username, authPassword: trunkAuth.password }, direct: { numbers: [DIRECT_NUMBER, ...LANGUAGE_LINES.map((line) => line.number)], allowOpen: true } }),
  );
  groq = await startGroqEmulator({
    utterances: [REP_1, REP_2],
    script: [{ when: 'two minutes', reply: 'Two minutes. Go ahead.' }, { when: 'next week', reply: 'Send me an email.' }, ...LANGUAGE_LINES.map((line) => ({ when: line.cue, reply: line.reply }))],
  });
  for (const line of LANGUAGE_LINES) groq.utterances.register(line.rep, { voice: line.language });
  elevenlabs = await startElevenLabsEmulator();
  worker = await startAgentWorker({
    livekit: { url: stack.livekitUrl, apiKey: world.apiKey, apiSecret: world.apiSecret },
    agentName: AGENT_NAME,
    groq,
    elevenlabs,
    databaseUrl: world.database.url,
    dispatchUrl: world.appUrl,
    dispatchSecret: world.sharedSecret,
  });
}, 240_000);

afterEach(async (context) => {
  for (const phone of phones.splice(0)) await phone.close().catch(() => undefined);
  if (context.task.result?.state === 'fail' && world?.stack) {
    const file = join(world.stack.runDir, 'agent-worker.log');
    writeFileSync(file, worker?.stdout() + worker?.stderr());
    console.error(`agent worker log: ${file}\n${world.stack.describe()}`);
  }
});

afterAll(async () => {
  await worker?.stop();
  await groq?.stop();
  await elevenlabs?.stop();
  await world?.close();
});

const turnsOf = (callId: string) => world.database.db.select().from(turns).where(eq(turns.callId, callId)).orderBy(asc(turns.seq));
const waitForTurn = (callId: string, speaker: 'rep' | 'persona', text: RegExp, timeoutMs = 30_000) =>
  waitFor(`${speaker} turn ${text}`, async () => (await turnsOf(callId)).find((turn) => turn.speaker === speaker && text.test(turn.text)), timeoutMs);
async function speak(call: PhoneCall, text: string): Promise<void> {
  const pcm = await renderSpeechAt(text, phoneSampleRate);
  await call.playPcm(pcm.samples, text);
}
async function newPhone(from: string): Promise<SipPhone> {
  const phone = await createSipPhone({ from });
  phones.push(phone);
  return phone;
}

async function converseAndHangUp(call: PhoneCall, callId: string): Promise<void> {
  await waitForTurn(callId, 'persona', /Diane Carter speaking/);
  await call.waitForQuiet();
  await speak(call, REP_1);
  await waitForTurn(callId, 'rep', /two minutes/i);
  await waitForTurn(callId, 'persona', /Go ahead/);
  await call.waitForQuiet();
  await speak(call, REP_2);
  await waitForTurn(callId, 'rep', /next week/i);
  await waitForTurn(callId, 'persona', /Send me an email/);
  await call.waitForQuiet();
  await call.hangup();
  const closed = await waitFor('call closed', async () => {
    const [row] = await world.database.db.select().from(calls).where(eq(calls.id, callId));
    return row?.finalizedAt || (row?.status === 'completed' && row.usage) ? row : undefined;
  }, 60_000);
  expect(closed.status).toBe('completed');
  const stored = await turnsOf(callId);
  expect(stored.map((turn) => turn.speaker)).toEqual(['persona', 'rep', 'persona', 'rep', 'persona']);
  for (const reply of stored.filter((turn) => turn.speaker === 'persona').slice(1)) {
    const [metrics] = await world.database.db.select().from(turnMetrics).where(eq(turnMetrics.turnId, reply.id));
    expect(metrics?.endToEndMs).toBeGreaterThan(0);
  }
}

describe('the persona agent on both call paths', () => {
  it('Twilio path: /twilio/voice -> PIN -> <Dial><Sip> -> greeting, turns stored, completed on hang-up', async () => {
    const seeded = await seed();
    const caller = world.twilio.call({ from: seeded.repPhone, to: LINE });
    const greeting = await caller.start();
    const dialled = await caller.keyDigits(greeting, seeded.pin);
    const sip = findVerb(dialled.verbs, 'Sip');
    const match = /^sip:([^@]+)@[^;]+;transport=tcp\?X-Practice-Call=([0-9a-f-]{36})$/.exec(sip?.text ?? '');
    expect(match, sip?.text).not.toBeNull();
    const [, roomName, callId] = match!;

    // Twilio would now dial the SIP URI; the test phone does, on the Twilio trunk.
    const phone = await newPhone(seeded.repPhone);
    const call = await phone.dial(`${world.stack!.sipUri(roomName!)}?X-Practice-Call=${callId}`, { auth: trunkAuth, answerTimeoutMs: 60_000 });
    await converseAndHangUp(call, callId!);
  });

  it('direct trunk: PIN keyed by DTMF after the spoken prompt, then the persona', async () => {
    const seeded = await seed();
    const phone = await newPhone(seeded.repPhone);
    const call = await phone.dial(`sip:${DIRECT_NUMBER}@${world.stack!.sipHost}:${world.stack!.sipPort}`, { answerTimeoutMs: 60_000 });
    // The PIN prompt is spoken first (default voice).
    await waitFor('PIN prompt synthesised', async () => (elevenlabs.synthesized.some((s) => /enter your (practice )?PIN/.test(s.text)) ? true : undefined), 30_000);
    await sleep(2500);
    await call.sendDtmf(`${seeded.pin}#`);
    const callId = await waitFor('call row for the direct-trunk call', async () => {
      const [row] = await world.database.db.select().from(calls).where(eq(calls.assignmentId, seeded.assignment.id));
      return row?.id;
    });
    const [row] = await world.database.db.select().from(calls).where(eq(calls.id, callId));
    expect(row).toMatchObject({ path: 'sip' });
    await converseAndHangUp(call, callId);
  });

  it('direct trunk: a PIN spoken aloud works as a fallback for the keypad', async () => {
    const seeded = await seed();
    const words = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'];
    const spokenPin = `My PIN is ${[...seeded.pin].map((digit) => words[Number(digit)]).join(' ')}.`;
    groq.utterances.register(spokenPin);
    const phone = await newPhone(seeded.repPhone);
    const call = await phone.dial(`sip:${DIRECT_NUMBER}@${world.stack!.sipHost}:${world.stack!.sipPort}`, { answerTimeoutMs: 60_000 });
    const promptsBefore = elevenlabs.synthesized.filter((s) => /enter your (practice )?PIN/.test(s.text)).length;
    await waitFor('PIN prompt synthesised', async () => (elevenlabs.synthesized.filter((s) => /enter your (practice )?PIN/.test(s.text)).length > promptsBefore ? true : undefined), 30_000);
    await sleep(3500);
    await speak(call, spokenPin);
    const callId = await waitFor('call row for the spoken PIN', async () => {
      const [row] = await world.database.db.select().from(calls).where(eq(calls.assignmentId, seeded.assignment.id));
      return row?.id;
    });
    await waitForTurn(callId, 'persona', /Diane Carter speaking/);
    // The spoken PIN was a PIN, not the rep's first words: it must not be stored as a turn (the
    // transcript goes to the scorer and into emails) nor answered by the persona.
    await call.waitForQuiet();
    await speak(call, REP_1);
    await waitForTurn(callId, 'persona', /Go ahead/);
    await call.hangup();
    const stored = await turnsOf(callId);
    expect(stored.map((turn) => turn.speaker)).toEqual(['persona', 'rep', 'persona']);
    expect(stored[1]!.text).toMatch(/two minutes/i);
    expect(stored.map((turn) => turn.text).join(' ')).not.toMatch(/\bPIN\b/i);
  });

  for (const line of LANGUAGE_LINES) {
    it(`direct trunk in ${line.language}: the line prompts in ${line.language}, the PIN is keyed, then the persona speaks, hears and stores ${line.language}`, async () => {
      const seeded = await seed();
      await world.database.db.update(personas).set({ language: line.language, openingLine: line.opening }).where(eq(personas.id, seeded.persona.id));
      const sttBefore = groq.requests.length;
      const ttsBefore = elevenlabs.requests.length;
      const synthesizedBefore = elevenlabs.synthesized.length;
      const phone = await newPhone(seeded.repPhone);
      const call = await phone.dial(`sip:${line.number}@${world.stack!.sipHost}:${world.stack!.sipPort}`, { answerTimeoutMs: 60_000 });
      // The line's language from the first word. Streamed synthesis may split the prompt into sentences: look for its PIN sentence.
      const prompt = callPrompts(line.language).greeting.split('. ')[1]!;
      expect(prompt).toMatch(/PIN/);
      await waitFor('PIN prompt synthesised in the line language', async () => (elevenlabs.synthesized.slice(synthesizedBefore).some((s) => s.text.includes(prompt)) ? true : undefined), 30_000);
      expect(elevenlabs.synthesized.slice(synthesizedBefore).some((s) => /enter your (practice )?PIN/.test(s.text)), 'no English prompt').toBe(false);
      await sleep(2500);
      await call.sendDtmf(`${seeded.pin}#`);
      const callId = await waitFor('call row for the direct-trunk call', async () => {
        const [row] = await world.database.db.select().from(calls).where(eq(calls.assignmentId, seeded.assignment.id));
        return row?.id;
      });
      const openingWords = line.opening.split(' ').slice(0, 2).join(' ');
      const replyWords = line.reply.split(' ').slice(0, 3).join(' ');
      await waitForTurn(callId, 'persona', new RegExp(openingWords));
      await call.waitForQuiet();
      const pcm = await renderSpeechAt(line.rep, phoneSampleRate, { voice: line.language });
      await call.playPcm(pcm.samples, line.rep);
      const repTurn = await waitForTurn(callId, 'rep', line.cue);
      expect(repTurn.text).toBe(line.rep);
      await waitForTurn(callId, 'persona', new RegExp(replyWords));
      await call.hangup();

      // Every Whisper request of the call, at the gate and after the PIN, asked for the language.
      const stt = groq.requests.slice(sttBefore).filter((r) => r.endpoint === 'transcription');
      expect(stt.length).toBeGreaterThan(0);
      for (const request of stt) expect((request.body as Record<string, unknown>)['language']).toBe(line.language);
      // Every synthesis asked for it on the multilingual model; the persona's lines in its own voice.
      const ttsSettings = elevenlabs.requests
        .slice(ttsBefore)
        .filter((r) => r.endpoint === 'tts')
        .map((r) => ({ ...(typeof r.body === 'object' && r.body !== null && !Array.isArray(r.body) ? r.body : {}), ...r.query }) as Record<string, unknown>);
      expect(ttsSettings.length).toBeGreaterThan(0);
      for (const settings of ttsSettings) expect(settings).toMatchObject({ model_id: 'eleven_flash_v2_5', language_code: line.language });
      const personaLines = elevenlabs.synthesized.slice(synthesizedBefore).filter((s) => s.text.includes(openingWords) || s.text.includes(replyWords));
      expect(personaLines.length).toBeGreaterThanOrEqual(2);
      expect(new Set(personaLines.map((s) => s.voiceId))).toEqual(new Set([seeded.persona.voiceId]));
      // The persona was told to speak it.
      const chat = groq.requests.slice(sttBefore).find((r) => r.endpoint === 'chat');
      const system = (chat!.body as { messages: { role: string; content: string }[] }).messages.find((m) => m.role === 'system')!.content;
      expect(system).toContain(`Speak only ${line.name} (language tag ${line.language})`);
      const stored = await turnsOf(callId);
      expect(stored.map((turn) => turn.speaker)).toEqual(['persona', 'rep', 'persona']);
    });
  }

  it('a job process killed mid-call: its worker tells the dispatch service, which hangs up (BYE); the call is failed with agent_lost and its turns are kept', async () => {
    const seeded = await seed();
    const caller = world.twilio.call({ from: seeded.repPhone, to: LINE });
    const dialled = await caller.keyDigits(await caller.start(), seeded.pin);
    const [, roomName, callId] = /^sip:([^@]+)@[^;]+;transport=tcp\?X-Practice-Call=([0-9a-f-]{36})$/.exec(findVerb(dialled.verbs, 'Sip')?.text ?? '')!;
    const phone = await newPhone(seeded.repPhone);
    const call = await phone.dial(`${world.stack!.sipUri(roomName!)}?X-Practice-Call=${callId}`, { auth: trunkAuth, answerTimeoutMs: 60_000 });
    await waitForTurn(callId!, 'persona', /Diane Carter speaking/);
    await call.waitForQuiet();
    await speak(call, REP_1);
    await waitForTurn(callId!, 'persona', /Go ahead/);

    // The job's own process (pino logs carry its pid), not the worker.
    const joined = (worker.stdout() + worker.stderr()).split('\n').find((line) => line.includes('"msg":"caller joined"') && line.includes(roomName!));
    const pid = Number(/"pid":(\d+)/.exec(joined ?? '')?.[1]);
    expect(pid).toBeGreaterThan(0);
    expect(pid).not.toBe(worker.child.pid);
    process.kill(pid, 'SIGKILL');

    // Nobody is left to end the call but the dispatch service. The worker sees its job process exit
    // and reports the room (agent/job_watch.ts); the dispatch service marks the call failed and
    // deletes the room, and livekit-sip hangs up. (livekit-server's webhook would say the same
    // ~20 s later, when the agent's connection times out: test/scale/two_workers.test.ts, where
    // the whole worker is lost, takes that path.)
    await call.waitForBye(60_000);
    const [row] = await world.database.db.select().from(calls).where(eq(calls.id, callId!));
    expect(row).toMatchObject({ status: 'failed', endReason: 'agent_lost' });
    expect(world.ended).toContainEqual({ callId, trigger: 'agent_worker' });
    await waitFor('the agent-lost warning in the dispatch log', async () =>
      world.logs.some((line) => line.includes('persona agent lost mid-call') && line.includes(callId!)) ? true : undefined,
    );
    const stored = await turnsOf(callId!);
    expect(stored.map((turn) => turn.speaker)).toEqual(['persona', 'rep', 'persona']);
  });
});
