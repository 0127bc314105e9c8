// Call recordings end to end: test phone -> livekit-sip -> livekit-server -> agent worker (its own
// process) with recording on and the default disk storage. The stored Ogg/Opus file is decoded and
// checked where the stored turns say: the rep's sentence on the left channel, the persona's reply on
// the right, at the turns' offsets; its length is the call's. Killing the job mid-call leaves a
// playable recording up to a few seconds before the kill.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { eq } from 'drizzle-orm';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { phoneSampleRate, type PhoneCall } from '../../sip/phone/phone.js';
import { calls, recordings, turns } from '../../src/adapters/db/schema.js';
import { createDiskStorage } from '../../src/adapters/storage/disk_storage.js';
import { openRecordingFile } from '../../src/app/recording_files.js';
import { uploadSpooledChunks } from '../../agent/recording/chunk_uploader.js';
import { RECORDING_DISCLOSURE } from '../../agent/recording/call_recorder.js';
import { personaLines } from '../../src/domain/languages.js';
import { renderSpeechAt } from '../emulators/audio.js';
import { espeakVoiceFor } from '../emulators/elevenlabs_emulator.js';
import { createUtteranceMatcher } from '../emulators/utterance_matcher.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { sleep, waitFor } from '../support/wait.js';
import { type AgentWorld, DIANE_VOICE_ID, dianeCarterCall, startAgentWorld, installPostCallQueue, endOfTest, storedTurns, waitForStoredTurn } from './agent_world.js';

const OPENING = 'Diane Carter speaking. Who is this?';
// One clause each (no full stop inside): a pause mid-sentence could end the rep's turn early on a loaded machine.
const REP_1 = 'Hi Diane, do you have two minutes?';
const REPLY_1 = 'Two minutes. Go ahead, what is this about?';
const REP_2 = 'Could we book a call next week?';
const REPLY_2 = 'Send me an email.';
const RATE = 16_000;

let database: TestDatabase;
let world: AgentWorld;
const dataDir = mkdtempSync(join(tmpdir(), 'practice-line-recording-'));
const storage = createDiskStorage(join(dataDir, 'storage'));

beforeAll(async () => {
  database = await createTestDatabase();
  await installPostCallQueue(database.pool);
  world = await startAgentWorld({
    databaseUrl: database.url,
    db: database.db,
    utterances: [REP_1, REP_2],
    script: [
      { when: 'two minutes', reply: REPLY_1 },
      { when: 'next week', reply: REPLY_2 },
    ],
    workerEnv: { RECORDING_ENABLED: 'true', DATA_DIR: dataDir, RECORDING_CHUNK_SECONDS: '4' },
  });
}, 240_000);

afterEach((context) => endOfTest(world, context));

afterAll(async () => {
  await world?.stop();
  await database?.close();
});

async function speak(call: PhoneCall, text: string): Promise<void> {
  const pcm = await renderSpeechAt(text, phoneSampleRate);
  await call.playPcm(pcm.samples, text);
}

const turnsOf = (callId: string) => storedTurns(database.db, callId);
const waitForTurn = (callId: string, speaker: 'rep' | 'persona', text: RegExp, timeoutMs?: number) => waitForStoredTurn(database.db, callId, speaker, text, timeoutMs);

async function bytesOf(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of stream) parts.push(Buffer.from(part as Uint8Array));
  return Buffer.concat(parts);
}

/** The stored recording, decoded by Debian's ffmpeg (not the encoder's copy) into its two channels. */
async function decodeStored(callId: string): Promise<{ left: Int16Array; right: Int16Array; seconds: number; bytes: number }> {
  const file = await openRecordingFile(storage, callId);
  if (!file) throw new Error('no recording stored');
  const ogg = await bytesOf(file.open());
  const path = join(dataDir, `${callId}.ogg`);
  writeFileSync(path, ogg);
  const raw = execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-i', path, '-f', 's16le', '-ac', '2', '-ar', String(RATE), 'pipe:1'], { maxBuffer: 256 * 1024 * 1024 });
  const stereo = new Int16Array(raw.buffer, raw.byteOffset, raw.length / 2);
  const frames = stereo.length / 2;
  const left = new Int16Array(frames);
  const right = new Int16Array(frames);
  for (let i = 0; i < frames; i++) {
    left[i] = stereo[2 * i]!;
    right[i] = stereo[2 * i + 1]!;
  }
  return { left, right, seconds: frames / RATE, bytes: ogg.length };
}

/** RMS level (dBFS) of a channel between two offsets in seconds. */
function levelDb(samples: Int16Array, fromSeconds: number, toSeconds: number): number {
  const from = Math.max(0, Math.floor(fromSeconds * RATE));
  const to = Math.min(samples.length, Math.floor(toSeconds * RATE));
  let sum = 0;
  for (let i = from; i < to; i++) sum += (samples[i]! / 32768) ** 2;
  return to > from ? 10 * Math.log10(sum / (to - from) + 1e-12) : -120;
}

describe('call recordings through the real telephony stack', () => {
  it('stores a stereo recording with the rep left and the persona right, at the stored turn offsets, as long as the call', async () => {
    const { callId, room } = await world.createCall(dianeCarterCall({ persona: { openingLine: OPENING } }));
    const { call } = await world.dialRoom(room);
    await waitForTurn(callId, 'persona', /Diane Carter speaking/);
    await call.waitForQuiet();
    await speak(call, REP_1);
    await waitForTurn(callId, 'persona', /Go ahead/);
    await call.waitForQuiet();
    await call.hangup();

    const recording = await waitFor('recording complete', async () => {
      const [row] = await database.db.select().from(recordings).where(eq(recordings.callId, callId));
      return row?.status === 'complete' ? row : undefined;
    }, 60_000);
    const [callRow] = await database.db.select().from(calls).where(eq(calls.id, callId));
    // The disclosure came first, in the persona's voice, before the greeting.
    const disclosureMatcher = createUtteranceMatcher();
    disclosureMatcher.register(['This practice call is recorded for coaching.', OPENING], { voice: espeakVoiceFor(DIANE_VOICE_ID) });
    const atPhone = { samples: call.recording(), sampleRate: phoneSampleRate };
    const disclosure = await disclosureMatcher.locate('This practice call is recorded for coaching.', atPhone);
    const greeting = await disclosureMatcher.locate(OPENING, atPhone);
    expect(disclosure, 'the disclosure is heard at the phone').toBeDefined();
    expect(greeting, 'the greeting is heard at the phone').toBeDefined();
    expect(disclosure!.endSeconds).toBeLessThanOrEqual(greeting!.startSeconds + 0.2);
    const decoded = await decodeStored(callId);
    console.info(`recording: ${decoded.bytes} bytes for ${decoded.seconds.toFixed(1)} s = ${Math.round((decoded.bytes / decoded.seconds) * 60)} bytes per call minute`);

    // As long as the call: the stored duration, the decoded audio and answer-to-end agree within 1 s.
    expect(Math.abs(decoded.seconds * 1000 - recording.durationMs!)).toBeLessThan(1000);
    const callMs = callRow!.endedAt!.getTime() - callRow!.answeredAt!.getTime();
    expect(Math.abs(decoded.seconds * 1000 - callMs)).toBeLessThan(1000);
    expect(recording.bytes).toBe(decoded.bytes);

    const stored = await turnsOf(callId);
    const repTurn = stored.find((turn) => turn.speaker === 'rep')!;
    const reply = stored.find((turn) => turn.speaker === 'persona' && /Go ahead/.test(turn.text))!;
    const offset = (at: Date) => (at.getTime() - recording.startedAt.getTime()) / 1000;

    const matcher = createUtteranceMatcher();
    matcher.register(REP_1);
    matcher.register(REPLY_1, { voice: espeakVoiceFor(DIANE_VOICE_ID) });
    const repHeard = await matcher.locate(REP_1, { samples: decoded.left, sampleRate: RATE });
    const replyHeard = await matcher.locate(REPLY_1, { samples: decoded.right, sampleRate: RATE });
    expect(repHeard, "the rep's sentence is on the left channel").toBeDefined();
    expect(replyHeard, "the persona's reply is on the right channel").toBeDefined();
    // Where the stored turns say (VAD start estimates are a few hundred ms off at most).
    expect(Math.abs(repHeard!.startSeconds - offset(repTurn.startedAt))).toBeLessThan(1.0);
    expect(Math.abs(replyHeard!.startSeconds - offset(reply.startedAt))).toBeLessThan(1.0);
    // And not on the other channel: the persona is silent while the rep speaks, the rep while the persona replies.
    const repMiddle = (offset(repTurn.startedAt) + offset(repTurn.endedAt)) / 2;
    expect(levelDb(decoded.left, repMiddle - 1, repMiddle + 1)).toBeGreaterThan(-40);
    expect(levelDb(decoded.right, repMiddle - 1, repMiddle + 1)).toBeLessThan(-50);
    const replyStart = offset(reply.startedAt);
    expect(levelDb(decoded.right, replyStart, replyStart + 1.5)).toBeGreaterThan(-40);
    expect(levelDb(decoded.left, replyStart, replyStart + 1.5)).toBeLessThan(-50);
  }, 180_000);

  it('keeps the recording playable up to a few seconds before the agent job is killed mid-call', async () => {
    const { callId, room } = await world.createCall(dianeCarterCall({ persona: { openingLine: OPENING } }));
    const { call } = await world.dialRoom(room);
    await waitForTurn(callId, 'persona', /Diane Carter speaking/);
    await call.waitForQuiet();
    await speak(call, REP_1);
    await waitForTurn(callId, 'persona', /Go ahead/);
    await call.waitForQuiet();
    await speak(call, REP_2);
    await waitForTurn(callId, 'persona', /Send me an email/);
    await sleep(4000);

    // The job process that runs this call (its log line carries the pid).
    const line = world.workerLog().split('\n').find((entry) => entry.includes('recording started') && entry.includes(callId));
    const pid = Number(/"pid":(\d+)/.exec(line ?? '')?.[1]);
    expect(pid, 'the job process logged its pid').toBeGreaterThan(0);
    const [row] = await database.db.select().from(recordings).where(eq(recordings.callId, callId));
    const killedAt = Date.now();
    process.kill(pid, 'SIGKILL');
    await sleep(3000);
    await call.hangup().catch(() => undefined);

    // Uploaded at once: every chunk the job had finished. Its unfinished chunk is in the spool, and
    // the next job's sweep (the same function, called here) uploads it.
    const atOnce = (await openRecordingFile(storage, callId))?.size ?? 0;
    await uploadSpooledChunks(storage, join(dataDir, 'recording-spool'), pino({ level: 'silent' }));
    const decoded = await decodeStored(callId);
    const recordedUntilKill = (killedAt - row!.startedAt.getTime()) / 1000;
    console.info(`job killed ${recordedUntilKill.toFixed(1)} s into the recording; ${atOnce} bytes stored at once, ${decoded.bytes} after the spool sweep: ${decoded.seconds.toFixed(1)} s playable`);
    expect(decoded.bytes).toBeGreaterThanOrEqual(atOnce);
    expect(decoded.seconds, 'at most ~10 s lost before the kill').toBeGreaterThan(recordedUntilKill - 10);
    expect(decoded.seconds).toBeLessThanOrEqual(recordedUntilKill + 1);
    const matcher = createUtteranceMatcher();
    matcher.register(REP_1);
    expect(await matcher.locate(REP_1, { samples: decoded.left, sampleRate: RATE }), 'what was said before the kill plays back').toBeDefined();
  }, 180_000);

  it("says the disclosure in the persona's language: a Spanish persona's call discloses in Spanish", async () => {
    const disclosure = personaLines('es').recordingDisclosure;
    const synthesizedBefore = world.elevenlabs.synthesized.length;
    const requestsBefore = world.elevenlabs.requests.length;
    const { callId, room } = await world.createCall(dianeCarterCall({ persona: { language: 'es', openingLine: 'Diana Carrillo al habla.' } }));
    const { call } = await world.dialRoom(room);
    await waitForTurn(callId, 'persona', /Diana Carrillo/);
    await call.waitForQuiet();
    await call.hangup();
    const spoken = world.elevenlabs.synthesized.slice(synthesizedBefore);
    expect(spoken.filter((s) => s.text.includes(disclosure)).map((s) => s.voiceId), 'the Spanish disclosure, in the persona voice').toEqual([DIANE_VOICE_ID]);
    expect(spoken.some((s) => s.text.includes(RECORDING_DISCLOSURE)), 'no English disclosure').toBe(false);
    // Every synthesis of the call asked for Spanish (HTTP: in the body; the streaming socket: in its URL).
    const settings = world.elevenlabs.requests
      .slice(requestsBefore)
      .filter((r) => r.endpoint === 'tts')
      .map((r) => ({ ...(typeof r.body === 'object' && r.body !== null && !Array.isArray(r.body) ? r.body : {}), ...r.query }) as Record<string, unknown>);
    expect(settings.length).toBeGreaterThan(0);
    for (const setting of settings) expect(setting).toMatchObject({ language_code: 'es' });
  }, 120_000);

  it('records nothing, and says no disclosure, on a scenario that switches recording off', async () => {
    const { callId, room } = await world.createCall(dianeCarterCall({ persona: { openingLine: OPENING }, scenario: { recordCalls: false } }));
    const { call } = await world.dialRoom(room);
    await waitForTurn(callId, 'persona', /Diane Carter speaking/);
    // The whole greeting reaches the phone.
    await call.waitForQuiet();
    await call.hangup();
    await waitFor('call ended', async () => {
      const [row] = await database.db.select().from(calls).where(eq(calls.id, callId));
      return row?.endedAt ? row : undefined;
    }, 60_000);
    expect(await database.db.select().from(recordings).where(eq(recordings.callId, callId))).toHaveLength(0);
    expect(await openRecordingFile(storage, callId)).toBeUndefined();
    // The first voice the phone heard is the greeting, not the disclosure.
    const matcher = createUtteranceMatcher();
    matcher.register([OPENING, 'This practice call is recorded for coaching.'], { voice: espeakVoiceFor(DIANE_VOICE_ID) });
    const atPhone = { samples: call.recording(), sampleRate: phoneSampleRate };
    expect(await matcher.locate('This practice call is recorded for coaching.', atPhone)).toBeUndefined();
    expect(await matcher.locate(OPENING, atPhone)).toBeDefined();
  }, 120_000);
});
