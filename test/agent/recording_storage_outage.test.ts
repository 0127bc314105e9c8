// Recording into S3-compatible storage (SeaweedFS, real) that goes down mid-call: the call carries
// on (the persona still answers), the chunks wait in the agent's spool, and once storage is back the
// next job's sweep uploads them: the stored recording is the whole call, including what was said
// during the outage.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { eq } from 'drizzle-orm';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { uploadSpooledChunks } from '../../agent/recording/chunk_uploader.js';
import { phoneSampleRate, type PhoneCall } from '../../sip/phone/phone.js';
import { calls, recordings } from '../../src/adapters/db/schema.js';
import { createS3Storage } from '../../src/adapters/storage/s3_storage.js';
import { openRecordingFile } from '../../src/app/recording_files.js';
import { renderSpeechAt } from '../emulators/audio.js';
import { createUtteranceMatcher } from '../emulators/utterance_matcher.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { type SeaweedS3, startSeaweedS3 } from '../support/seaweedfs.js';
import { sleep, waitFor } from '../support/wait.js';
import { type AgentWorld, dianeCarterCall, startAgentWorld, installPostCallQueue, endOfTest, storedTurns, waitForStoredTurn } from './agent_world.js';

const OPENING = 'Diane Carter speaking. Who is this?';
const REP_1 = 'Hi Diane, do you have two minutes?';
const REP_2 = 'Could we book a call next week?';
const RATE = 16_000;
const BUCKET = 'practice-recordings';

let database: TestDatabase;
let world: AgentWorld;
let s3: SeaweedS3;
const dataDir = mkdtempSync(join(tmpdir(), 'practice-line-s3-outage-'));

beforeAll(async () => {
  database = await createTestDatabase();
  await installPostCallQueue(database.pool);
  s3 = await startSeaweedS3();
  await s3.createBucket(BUCKET);
  world = await startAgentWorld({
    databaseUrl: database.url,
    db: database.db,
    utterances: [REP_1, REP_2],
    script: [
      { when: 'two minutes', reply: 'Two minutes. Go ahead.' },
      { when: 'next week', reply: 'Send me an email.' },
    ],
    workerEnv: {
      RECORDING_ENABLED: 'true',
      DATA_DIR: dataDir,
      STORAGE_BACKEND: 's3',
      S3_BUCKET: BUCKET,
      S3_ENDPOINT: s3.endpoint,
      S3_ACCESS_KEY_ID: s3.accessKeyId,
      S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
    },
  });
}, 300_000);

afterEach((context) => endOfTest(world, context));

afterAll(async () => {
  await world?.stop();
  await s3?.stop();
  await database?.close();
});

async function speak(call: PhoneCall, text: string): Promise<void> {
  await call.playPcm((await renderSpeechAt(text, phoneSampleRate)).samples, text);
}
const turnsOf = (callId: string) => storedTurns(database.db, callId);
const waitForTurn = (callId: string, speaker: 'rep' | 'persona', text: RegExp) => waitForStoredTurn(database.db, callId, speaker, text, 40_000);

async function bytesOf(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of stream) parts.push(Buffer.from(part as Uint8Array));
  return Buffer.concat(parts);
}

it('goes on through a storage outage and stores the whole call once storage is back', async () => {
  const storage = createS3Storage({ bucket: BUCKET, region: 'us-east-1', endpoint: s3.endpoint, forcePathStyle: true, credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey } });
  const { callId, room } = await world.createCall(dianeCarterCall({ persona: { openingLine: OPENING } }));
  const { call } = await world.dialRoom(room);
  await waitForTurn(callId, 'persona', /Diane Carter speaking/);
  await call.waitForQuiet();
  await speak(call, REP_1);
  await waitForTurn(callId, 'persona', /Go ahead/);
  await waitFor('chunks in S3', async () => ((await storage.list(`recordings/${callId}/`)).length > 0 ? true : undefined), 20_000);

  await s3.stopServer();
  await sleep(2000);
  await speak(call, REP_2);
  // The persona still answers while storage is down.
  await waitForTurn(callId, 'persona', /Send me an email/);
  await sleep(3000);
  await call.hangup();
  const recording = await waitFor('recording closed', async () => {
    const [row] = await database.db.select().from(recordings).where(eq(recordings.callId, callId));
    return row?.status === 'complete' ? row : undefined;
  }, 60_000);
  expect(world.workerLog()).toContain('recording chunks left in the spool');

  await s3.restart();
  // What the next job does when it starts (agent/main.ts), on the worker's spool.
  expect(await uploadSpooledChunks(storage, join(dataDir, 'recording-spool'), pino({ level: 'silent' }))).toBeGreaterThan(0);
  const file = await openRecordingFile(storage, callId);
  const path = join(dataDir, `${callId}.ogg`);
  writeFileSync(path, await bytesOf(file!.open()));
  const raw = execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-i', path, '-f', 's16le', '-ac', '2', '-ar', String(RATE), 'pipe:1'], { maxBuffer: 64 * 1024 * 1024 });
  const stereo = new Int16Array(raw.buffer, raw.byteOffset, raw.length / 2);
  const left = new Int16Array(stereo.length / 2);
  for (let i = 0; i < left.length; i++) left[i] = stereo[2 * i]!;
  const [row] = await database.db.select().from(calls).where(eq(calls.id, callId));
  expect(Math.abs(left.length / RATE - recording.durationMs! / 1000)).toBeLessThan(1);
  expect(Math.abs(recording.durationMs! - (row!.endedAt!.getTime() - row!.answeredAt!.getTime()))).toBeLessThan(1000);
  const matcher = createUtteranceMatcher();
  matcher.register([REP_1, REP_2]);
  expect(await matcher.locate(REP_2, { samples: left, sampleRate: RATE }), 'what the rep said during the outage is in the recording').toBeDefined();
}, 300_000);
