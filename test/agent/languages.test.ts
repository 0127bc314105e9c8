// A persona in another language over the real telephony stack: the greeting and replies are
// synthesised in that language with the persona's voice and the multilingual model, Whisper is asked
// for that language, and the rep's sentence in it (espeak-ng's voice, registered with the STT
// emulator) is stored as a rep turn.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { phoneSampleRate } from '../../sip/phone/phone.js';
import { renderSpeechAt } from '../emulators/audio.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { sleep } from '../support/wait.js';
import { type AgentWorld, dianeCarterCall, DIANE_VOICE_ID, startAgentWorld, installPostCallQueue, endOfTest, storedTurns, waitForStoredTurn } from './agent_world.js';

const CASES = [
  {
    language: 'es',
    espeak: 'es',
    opening: 'Diana Carrillo al habla. ¿Quién es?',
    rep: 'Hola Diana, ¿podemos hablar de sus costes de envío?',
    cue: /costes de env[ií]o/i,
    reply: 'Tiene dos minutos. Adelante.',
  },
  {
    language: 'de',
    espeak: 'de',
    opening: 'Carter am Apparat. Wer spricht?',
    rep: 'Guten Tag, können wir kurz über Ihre Versandkosten sprechen?',
    cue: /Versandkosten/i,
    reply: 'Sie haben zwei Minuten. Bitte.',
  },
] as const;

let database: TestDatabase;
let world: AgentWorld;

beforeAll(async () => {
  database = await createTestDatabase();
  await installPostCallQueue(database.pool);
  world = await startAgentWorld({ databaseUrl: database.url, db: database.db, utterances: [], script: CASES.map((c) => ({ when: c.cue, reply: c.reply })) });
  for (const c of CASES) world.groq.utterances.register(c.rep, { voice: c.espeak });
}, 240_000);

afterEach((context) => endOfTest(world, context));

afterAll(async () => {
  await world?.stop();
  await database?.close();
});

const turnsOf = (callId: string) => storedTurns(database.db, callId);
const waitForTurn = (callId: string, speaker: 'rep' | 'persona', text: RegExp) => waitForStoredTurn(database.db, callId, speaker, text);

describe('personas in other languages, by phone', () => {
  for (const c of CASES) {
    it(`${c.language}: speaks, hears and stores the call in ${c.language}`, async () => {
      const sttBefore = world.groq.requests.length;
      const ttsBefore = world.elevenlabs.requests.length;
      const { callId, room } = await world.createCall(dianeCarterCall({ persona: { language: c.language, openingLine: c.opening } }));
      const { call } = await world.dialRoom(room);
      await waitForTurn(callId, 'persona', /Carr|Carter/);
      await sleep(2500);
      const pcm = await renderSpeechAt(c.rep, phoneSampleRate, { voice: c.espeak });
      await call.playPcm(pcm.samples, c.rep);
      const repTurn = await waitForTurn(callId, 'rep', c.cue).catch((error: unknown) => {
        console.error(world.groq.requests.slice(sttBefore).filter((r) => r.endpoint === 'transcription').map((r) => JSON.stringify({ body: r.body, outcome: r.outcome })));
        throw error;
      });
      expect(repTurn.text).toBe(c.rep);
      await waitForTurn(callId, 'persona', new RegExp(c.reply.split(' ')[0]!));
      await call.hangup();

      // Synthesis: the persona's voice, the multilingual model, the language code; the lines themselves.
      const spoken = world.elevenlabs.synthesized.filter((s) => s.text.includes(c.opening.split(' ')[0]!) || s.text.includes(c.reply.split(' ')[0]!));
      expect(spoken.map((s) => s.voiceId)).toEqual(spoken.map(() => DIANE_VOICE_ID));
      expect(spoken.length).toBeGreaterThanOrEqual(2);
      // HTTP synthesis (the prerendered greeting) carries them in the body, the streaming socket in its URL.
      const ttsSettings = world.elevenlabs.requests
        .slice(ttsBefore)
        .filter((r) => r.endpoint === 'tts')
        .map((r) => ({ ...(typeof r.body === 'object' && r.body !== null && !Array.isArray(r.body) ? r.body : {}), ...r.query }) as Record<string, unknown>);
      expect(ttsSettings.length).toBeGreaterThan(0);
      for (const settings of ttsSettings) expect(settings).toMatchObject({ model_id: 'eleven_flash_v2_5', language_code: c.language });
      // Transcription: every Whisper request of this call asked for the persona's language.
      const stt = world.groq.requests.slice(sttBefore).filter((r) => r.endpoint === 'transcription');
      expect(stt.length).toBeGreaterThan(0);
      for (const request of stt) expect((request.body as Record<string, unknown>)['language']).toBe(c.language);
      // The persona was told to speak it.
      const chat = world.groq.requests.slice(sttBefore).find((r) => r.endpoint === 'chat');
      const system = (chat!.body as { messages: { role: string; content: string }[] }).messages.find((m) => m.role === 'system')!.content;
      expect(system).toContain(`Speak only ${c.language === 'es' ? 'Spanish' : 'German'} (language tag ${c.language})`);
    });
  }
});
