// A browser practice call, recorded: Debian's chromium joins over loopback WebRTC with a fake
// microphone, the persona agent (a real worker process) records the call, and the rep listens back
// on the call page: the player fetches the audio with range requests, the rep's sentence is on the
// left channel at the stored turn's offset, and clicking a turn's time seeks the player there.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { asc, eq } from 'drizzle-orm';
import type { BrowserContext } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { calls, recordings, signInTokens, turns } from '../../src/adapters/db/schema.js';
import { hashSignInToken } from '../../src/app/sign_in.js';
import { createUtteranceMatcher } from '../emulators/utterance_matcher.js';
import { createTestDatabase } from '../support/db.js';
import { waitFor } from '../support/wait.js';
import { renderMicrophoneWav, startPracticeWorld, type PracticeWorld } from './practice_world.js';

// One clause: a pause mid-sentence could end the rep's turn early on a loaded machine.
const REP_LINE = 'Hi Diane, do you have two minutes?';
const REPLY = 'Two minutes. Go ahead, what is this about?';
const RATE = 16_000;
const dataDir = mkdtempSync(join(tmpdir(), 'practice-line-browser-recording-'));
let world: PracticeWorld;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  // Quiet through the disclosure and the greeting, then the rep's sentence once.
  const microphoneWav = await renderMicrophoneWav([REP_LINE], { leadInMs: 12_000, gapMs: 500, tailMs: 60_000 });
  world = await startPracticeWorld({ database: await createTestDatabase(), utterances: [REP_LINE], script: [{ when: 'two minutes', reply: REPLY }], microphoneWav, recordingDataDir: dataDir });
}, 300_000);

afterEach((context) => {
  if (context.task.result?.state === 'fail') console.error(`worker log (tail):\n${world?.agents.workerLog().slice(-15_000)}`);
});

afterAll(async () => {
  for (const context of contexts) await context.close().catch(() => undefined);
  await world?.stop();
});

const turnsOf = (callId: string) => world.database.db.select().from(turns).where(eq(turns.callId, callId)).orderBy(asc(turns.seq));

it('records a browser call and plays it back on the call page, turns seeking the player', async () => {
  const seeded = await world.seed();
  const context = await world.browser.newContext({ viewport: { width: 1200, height: 900 } });
  context.setDefaultTimeout(60_000);
  contexts.push(context);
  const rep = await context.newPage();
  const token = `recording-${Date.now()}`;
  await world.database.db.insert(signInTokens).values({ userId: seeded.rep.id, tokenHash: hashSignInToken(token), purpose: 'sign_in', expiresAt: new Date(Date.now() + 600_000) });
  await rep.goto(`${world.base}/login/link/${token}`);
  await rep.getByRole('button', { name: 'Sign in' }).click();
  await rep.waitForURL(`${world.base}/me`);

  await rep.getByRole('row', { name: new RegExp(seeded.scenario.title) }).getByRole('button', { name: 'Practise now' }).click();
  await rep.waitForURL(/\/practice\/calls\/[0-9a-f-]{36}$/);
  const callId = /\/practice\/calls\/([0-9a-f-]{36})$/.exec(rep.url())![1]!;
  const repTurn = await waitFor('rep turn', async () => (await turnsOf(callId)).find((t) => t.speaker === 'rep' && /two minutes/i.test(t.text)), 120_000);
  await waitFor('reply turn', async () => (await turnsOf(callId)).find((t) => t.speaker === 'persona' && /Go ahead/.test(t.text)), 60_000);
  await new Promise((resolve) => setTimeout(resolve, 3000));
  await rep.getByRole('button', { name: 'Hang up' }).click();
  await rep.waitForURL(`${world.base}/calls/${callId}`, { timeout: 30_000 });

  const recording = await waitFor('recording complete', async () => {
    const [row] = await world.database.db.select().from(recordings).where(eq(recordings.callId, callId));
    return row?.status === 'complete' ? row : undefined;
  }, 60_000);
  const [call] = await world.database.db.select().from(calls).where(eq(calls.id, callId));
  expect(Math.abs(recording.durationMs! - (call!.endedAt!.getTime() - call!.answeredAt!.getTime()))).toBeLessThan(1000);

  // The page's own session fetches the audio, by range as a player does, then whole.
  await rep.reload();
  const player = rep.locator('#recording-player');
  await expect.poll(() => player.count()).toBe(1);
  const src = await player.getAttribute('src');
  const ranged = await rep.request.get(`${world.base}${src}`, { headers: { range: 'bytes=0-99' } });
  expect(ranged.status()).toBe(206);
  expect((await ranged.body()).subarray(0, 4).toString()).toBe('OggS');
  const whole = await rep.request.get(`${world.base}${src}`);
  const path = join(dataDir, `${callId}.ogg`);
  writeFileSync(path, await whole.body());
  const raw = execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-i', path, '-f', 's16le', '-ac', '2', '-ar', String(RATE), 'pipe:1'], { maxBuffer: 64 * 1024 * 1024 });
  const stereo = new Int16Array(raw.buffer, raw.byteOffset, raw.length / 2);
  const left = new Int16Array(stereo.length / 2);
  for (let i = 0; i < left.length; i++) left[i] = stereo[2 * i]!;
  expect(Math.abs(left.length / RATE - recording.durationMs! / 1000)).toBeLessThan(1);
  const matcher = createUtteranceMatcher();
  matcher.register(REP_LINE);
  const heard = await matcher.locate(REP_LINE, { samples: left, sampleRate: RATE });
  expect(heard, "the rep's sentence is on the left channel").toBeDefined();
  const repOffset = (repTurn.startedAt.getTime() - recording.startedAt.getTime()) / 1000;
  expect(Math.abs(heard!.startSeconds - repOffset)).toBeLessThan(1.0);

  // Clicking the rep turn's time seeks the player on the page (no navigation to the audio).
  const link = rep.locator(`#transcript li[data-seq="${repTurn.seq}"] a[data-audio-offset]`);
  const offset = Number(await link.getAttribute('data-audio-offset'));
  expect(Math.abs(offset - repOffset)).toBeLessThan(0.05);
  await link.click();
  await expect.poll(() => player.evaluate((element) => (element as unknown as { currentTime: number }).currentTime), { timeout: 10_000 }).toBeGreaterThanOrEqual(offset - 0.5);
  expect(rep.url()).toBe(`${world.base}/calls/${callId}`);
}, 420_000);
