// A real browser call: a manager invites a rep (real SMTP), the rep signs in by the emailed link,
// presses "Practise now", and Debian's chromium joins livekit-server over loopback WebRTC with a fake
// microphone playing espeak-ng speech (the STT emulator's voice). The persona agent (a real worker
// process on the provider emulators) greets, hears the rep, replies; hanging up completes the call,
// and the scorecard, the email and the rep's progress follow.
import { mkdir } from 'node:fs/promises';
import { asc, eq } from 'drizzle-orm';
import type { BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { assignments, calls, scorecards, turns } from '../../src/adapters/db/schema.js';
import { createTestDatabase } from '../support/db.js';
import { waitFor } from '../support/wait.js';
import { MANAGER_PASSWORD, renderMicrophoneWav, startPracticeWorld, type PracticeWorld } from './practice_world.js';

const SHOTS = '.artifacts/screenshots';
const REP_LINE = 'Hi Diane, do you have two minutes?';
const REPLY = 'Two minutes. Go ahead, what is this about?';
const SCORECARD = {
  summary: 'A clear reason for the call in the first sentence.',
  criteria: [{ criterionId: 'opening', score: 85, evidence: 'do you have two minutes?', suggestion: 'Name the saving in the first sentence.' }],
};

let world: PracticeWorld;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  await mkdir(SHOTS, { recursive: true });
  // Quiet while the greeting plays, then the rep's sentence once, then quiet until the hang-up.
  const microphoneWav = await renderMicrophoneWav([REP_LINE], { leadInMs: 9000, gapMs: 500, tailMs: 60_000 });
  world = await startPracticeWorld({
    database: await createTestDatabase(),
    utterances: [REP_LINE],
    script: [{ when: (request) => request.response_format !== undefined, json: SCORECARD }, { when: 'two minutes', reply: REPLY }],
    microphoneWav,
  });
}, 300_000);

afterEach((context) => {
  if (context.task.result?.state !== 'fail') return;
  console.error(`worker log (tail):\n${world?.agents.workerLog().slice(-15_000)}`);
  const heard = world?.agents.groq.requests.filter((r) => r.outcome !== undefined && 'audioSeconds' in (r.outcome as object)).map((r) => r.outcome);
  console.error(`transcriptions: ${JSON.stringify(heard)}`);
});

afterAll(async () => {
  for (const context of contexts) await context.close().catch(() => undefined);
  await world?.stop();
});

async function newPage(): Promise<Page> {
  const context = await world.browser.newContext({ viewport: { width: 1200, height: 900 } });
  context.setDefaultTimeout(60_000);
  contexts.push(context);
  return context.newPage();
}

/** Waits until the element's text contains `expected` (pages refresh and stream on their own). */
async function textOf(locator: Locator, expected: string | RegExp, timeoutMs = 30_000): Promise<string> {
  let last = '';
  try {
    return await waitFor(`text ${String(expected)}`, async () => {
      last = await locator.first().innerText({ timeout: timeoutMs }).catch(() => '');
      return (typeof expected === 'string' ? last.includes(expected) : expected.test(last)) ? last : undefined;
    }, timeoutMs);
  } catch (error) {
    throw new Error(`${(error as Error).message}; the element said: ${JSON.stringify(last.slice(0, 300))}`);
  }
}

/** The figures the practice page keeps on window.practice. */
type PageFigures = { practice: { firstAudioAt: number | null; voicedSegments: number } };

const shot = (page: Page, name: string) => page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });
const turnsOf = (callId: string) => world.database.db.select().from(turns).where(eq(turns.callId, callId)).orderBy(asc(turns.seq));

/** The manager signs in, sends the invite from the users page; the rep opens it from their inbox. */
async function inviteAndSignIn(seeded: Awaited<ReturnType<PracticeWorld['seed']>>): Promise<Page> {
  const manager = await newPage();
  await manager.goto(`${world.base}/login`);
  await manager.locator('#f-email').fill(seeded.manager.email);
  await manager.getByLabel('Password').fill(MANAGER_PASSWORD);
  await manager.getByRole('button', { name: 'Log in' }).click();
  await manager.waitForURL(`${world.base}/calls`);
  await manager.goto(`${world.base}/users`);
  await manager.getByRole('row', { name: new RegExp(seeded.rep.name) }).getByRole('button', { name: 'Email sign-in invite' }).click();
  await textOf(manager.getByRole('status'), `Sign-in invite sent to ${seeded.rep.email}`);

  const invite = await waitFor('the invite email', async () => world.smtp.messages.find((m) => m.envelopeTo.includes(seeded.rep.email) && /invited/.test(m.parsed.subject ?? '')));
  const link = /http:\/\/127\.0\.0\.1(\/login\/link\/[A-Za-z0-9_-]+)/.exec(invite.parsed.text ?? '')?.[1];
  expect(link).toBeDefined();
  const rep = await newPage();
  await rep.goto(`${world.base}${link}`);
  await rep.getByRole('button', { name: 'Sign in' }).click();
  await rep.waitForURL(`${world.base}/me`);
  return rep;
}

describe('practising in the browser', () => {
  it('invite -> sign in -> Practise now -> greeting heard, rep turn stored, reply heard -> hang up -> scorecard, email, progress', async () => {
    const seeded = await world.seed();
    // An earlier phone attempt, scored 55, so progress has something to compare with.
    const [earlier] = await world.database.db
      .insert(calls)
      .values({ path: 'twilio', status: 'completed', roomName: `earlier-${seeded.assignment.id}`, assignmentId: seeded.assignment.id, scenarioId: seeded.scenario.id, personaId: seeded.persona.id, repId: seeded.rep.id, createdAt: new Date(Date.now() - 2 * 86_400_000), durationSeconds: 95 })
      .returning();
    await world.database.db.insert(scorecards).values({ callId: earlier!.id, status: 'scored', overallScore: 55, passed: false, criteria: [{ criterionId: 'opening', name: 'Opening', weight: 2, score: 55, evidence: '', suggestion: '' }], model: 'm', promptVersion: 'v' });
    await world.database.db.update(assignments).set({ attemptsUsed: 1 }).where(eq(assignments.id, seeded.assignment.id));
    const rep = await inviteAndSignIn(seeded);
    const row = rep.getByRole('row', { name: new RegExp(seeded.scenario.title) });
    await textOf(row, 'in progress');
    await textOf(rep.locator('main'), '+15550009999');
    await shot(rep, 'rep-home');

    await row.getByRole('button', { name: 'Practise now' }).click();
    await rep.waitForURL(/\/practice\/calls\/[0-9a-f-]{36}$/);
    const callId = /\/practice\/calls\/([0-9a-f-]{36})$/.exec(rep.url())![1]!;
    const [created] = await world.database.db.select().from(calls).where(eq(calls.id, callId));
    expect(created).toMatchObject({ path: 'web', isTest: false, assignmentId: seeded.assignment.id, repId: seeded.rep.id });
    const [used] = await world.database.db.select().from(assignments).where(eq(assignments.id, seeded.assignment.id));
    expect(used!.attemptsUsed).toBe(2);

    // The persona joins and greets; the page hears it (remote track level) and captions it.
    await textOf(rep.locator('#practice-status'), 'Diane Carter has joined', 60_000);
    await rep.waitForFunction(() => (globalThis as unknown as PageFigures).practice.firstAudioAt !== null, undefined, { timeout: 60_000 });
    await textOf(rep.locator('#captions'), 'Diane Carter speaking.');
    await waitFor('greeting turn', async () => (await turnsOf(callId)).find((t) => t.speaker === 'persona'));

    // The fake microphone speaks after its lead-in: the meter moves, the agent stores it as the rep's turn and replies.
    await rep.waitForFunction(() => Number((globalThis as unknown as { document: { getElementById(id: string): { value: number } } }).document.getElementById('mic-level').value) > 0.05, undefined, { timeout: 60_000, polling: 50 });
    const repTurn = await waitFor('rep turn', async () => (await turnsOf(callId)).find((t) => t.speaker === 'rep'), 90_000);
    expect(repTurn.text).toMatch(/do you have two minutes\?/i);
    await waitFor('reply turn', async () => (await turnsOf(callId)).find((t) => t.speaker === 'persona' && /Go ahead/.test(t.text)), 60_000);
    await rep.waitForFunction(() => (globalThis as unknown as PageFigures).practice.voicedSegments >= 2, undefined, { timeout: 30_000 });
    await textOf(rep.locator('#captions'), 'Go ahead');
    await textOf(rep.locator('#captions'), /You: .*two minutes/i);
    await shot(rep, 'practice-mid-call');

    await rep.getByRole('button', { name: 'Hang up' }).click();
    await rep.waitForURL(`${world.base}/calls/${callId}`, { timeout: 30_000 });
    // The call page fills in once the post-call job has scored the call.
    await textOf(rep.locator('#scorecard'), /85\s*\/ 100/, 120_000);
    const callPage = await rep.locator('main').innerText();
    expect(callPage).not.toContain('Latency per turn');
    expect(callPage).not.toContain('Usage and cost');
    expect(callPage).toContain('Browser');
    await shot(rep, 'call-page');

    const [ended] = await world.database.db.select().from(calls).where(eq(calls.id, callId));
    expect(ended).toMatchObject({ status: 'completed', endReason: 'caller_hung_up' });
    const [card] = await world.database.db.select().from(scorecards).where(eq(scorecards.callId, callId));
    expect(card).toMatchObject({ status: 'scored', overallScore: 85, passed: true });
    const mail = await waitFor('the post-call email', async () => world.smtp.messages.find((m) => m.parsed.headers.get('x-practice-call') === callId && m.envelopeTo.includes(seeded.rep.email)), 60_000);
    expect(mail.parsed.text).toMatch(/Riley Rep: Hi Diane, do you have two minutes\?/);
    const [passed] = await world.database.db.select().from(assignments).where(eq(assignments.id, seeded.assignment.id));
    expect(passed!.passedAt).not.toBeNull();

    await rep.goto(`${world.base}/me`);
    await textOf(rep.getByRole('row', { name: new RegExp(seeded.scenario.title) }), 'passed');
    expect(await rep.locator('#progress svg.progress circle').count()).toBe(2);
    await textOf(rep.locator('#progress'), 'Since your previous attempt: overall +30');
    await textOf(rep.locator('#progress'), 'Opening: 55 → 85 (+30)');
    await textOf(rep.locator('#my-calls'), 'browser');
    await shot(rep, 'rep-progress');
  }, 420_000);

  it('an agent that never joins: the page says so once its join timeout (WEB_AGENT_JOIN_TIMEOUT_SECONDS) passes and the attempt is given back', async () => {
    const seeded = await world.seed({ maxAttempts: 1 });
    const rep = await inviteAndSignIn(seeded);
    const form = rep.getByRole('row', { name: new RegExp(seeded.scenario.title) }).locator('form');
    const action = await form.getAttribute('action');
    // The same assignment through the web view whose dispatch names an agent nobody runs.
    await rep.goto(`${world.baseWithoutAgent}/me`);
    await rep.locator(`form[action="${action}"] button`).click();
    await rep.waitForURL(/\/practice\/calls\//);
    const callId = /\/practice\/calls\/([0-9a-f-]{36})$/.exec(rep.url())![1]!;
    expect((await world.database.db.select().from(assignments).where(eq(assignments.id, seeded.assignment.id)))[0]!.attemptsUsed).toBe(1);
    await textOf(rep.locator('#practice-status'), 'could not join. Your attempt was given back', 40_000);
    const [row] = await world.database.db.select().from(calls).where(eq(calls.id, callId));
    expect(row).toMatchObject({ status: 'failed', endReason: 'agent_unavailable' });
    expect((await world.database.db.select().from(assignments).where(eq(assignments.id, seeded.assignment.id)))[0]!.attemptsUsed).toBe(0);
  }, 180_000);

  it('"Try this scenario": a manager calls the persona as a test call, kept out of the rep\'s progress', async () => {
    const seeded = await world.seed();
    const manager = await newPage();
    await manager.goto(`${world.base}/login`);
    await manager.locator('#f-email').fill(seeded.manager.email);
    await manager.getByLabel('Password').fill(MANAGER_PASSWORD);
    await manager.getByRole('button', { name: 'Log in' }).click();
    await manager.waitForURL(`${world.base}/calls`);
    await manager.goto(`${world.base}/scenarios/${seeded.scenario.id}`);
    expect(await manager.getByRole('button', { name: 'Try this scenario' }).count()).toBe(1);
    // The persona page offers the same for each scenario the persona plays; use that one.
    await manager.goto(`${world.base}/personas/${seeded.persona.id}`);
    await manager.locator('li', { hasText: seeded.scenario.title }).getByRole('button', { name: 'Try this scenario' }).click();
    await manager.waitForURL(/\/practice\/calls\//);
    const callId = /\/practice\/calls\/([0-9a-f-]{36})$/.exec(manager.url())![1]!;
    await textOf(manager.locator('#practice-status'), 'Diane Carter has joined', 60_000);
    await waitFor('greeting turn', async () => (await turnsOf(callId)).find((t) => t.speaker === 'persona'), 60_000);
    await manager.getByRole('button', { name: 'Hang up' }).click();
    await manager.waitForURL(`${world.base}/calls/${callId}`, { timeout: 30_000 });
    await textOf(manager.locator('main'), 'Browser (test call)');
    const [row] = await world.database.db.select().from(calls).where(eq(calls.id, callId));
    expect(row).toMatchObject({ path: 'web', isTest: true, assignmentId: null, repId: seeded.manager.id });
    await waitFor('the call ends', async () => ((await world.database.db.select().from(calls).where(eq(calls.id, callId)))[0]?.status === 'completed' ? true : undefined), 60_000);
    // The rep's assignment did not move.
    expect((await world.database.db.select().from(assignments).where(eq(assignments.id, seeded.assignment.id)))[0]!.attemptsUsed).toBe(0);
  }, 240_000);

  it('mute, then the time limit: the persona says time is up, the room goes, the page sees the call end and opens the call page', async () => {
    // Room for the greeting (over by ~4 s) and the mute check before the time is up, and no more.
    const seeded = await world.seed({ timeLimitSeconds: 9 });
    const rep = await inviteAndSignIn(seeded);
    await rep.getByRole('row', { name: new RegExp(seeded.scenario.title) }).getByRole('button', { name: 'Practise now' }).click();
    await rep.waitForURL(/\/practice\/calls\//);
    const callId = /\/practice\/calls\/([0-9a-f-]{36})$/.exec(rep.url())![1]!;
    await textOf(rep.locator('#practice-status'), 'Diane Carter has joined', 60_000);
    // Mute reaches the server: the rep's microphone track is marked muted in the room.
    await rep.getByRole('button', { name: 'Mute' }).click();
    const [call] = await world.database.db.select().from(calls).where(eq(calls.id, callId));
    await waitFor('the microphone muted in the room', async () => {
      const people = await world.agents.rooms.listParticipants(call!.roomName);
      const mic = people.find((p) => p.identity === `caller-${seeded.rep.id}`)?.tracks[0];
      return mic?.muted ? true : undefined;
    });
    expect(await rep.getByRole('button', { name: 'Unmute' }).getAttribute('aria-pressed')).toBe('true');
    await textOf(rep.locator('#practice-status'), 'The call has ended', 60_000);
    await rep.waitForURL(`${world.base}/calls/${callId}`, { timeout: 30_000 });
    const ended = await waitFor('the call closed', async () => {
      const [row] = await world.database.db.select().from(calls).where(eq(calls.id, callId));
      return row?.status === 'completed' ? row : undefined;
    }, 60_000);
    expect(ended.endReason).toBe('time_limit');
  }, 240_000);

  it('a network drop shows "Reconnecting…" and the call carries on once the network is back', async () => {
    const seeded = await world.seed();
    const rep = await inviteAndSignIn(seeded);
    await rep.getByRole('row', { name: new RegExp(seeded.scenario.title) }).getByRole('button', { name: 'Practise now' }).click();
    await rep.waitForURL(/\/practice\/calls\//);
    const callId = /\/practice\/calls\/([0-9a-f-]{36})$/.exec(rep.url())![1]!;
    await textOf(rep.locator('#practice-status'), 'Diane Carter has joined', 60_000);
    // The signalling connection drops and stays refused for a few seconds, then the network is back.
    world.signalling.down();
    await textOf(rep.locator('#practice-status'), 'Reconnecting', 30_000);
    await new Promise((resolve) => setTimeout(resolve, 3000));
    world.signalling.up();
    await textOf(rep.locator('#practice-status'), 'Diane Carter has joined', 60_000);
    const [row] = await world.database.db.select().from(calls).where(eq(calls.id, callId));
    expect(row!.status).toBe('in_progress');
    // Media still flows both ways: the rep's sentence (spoken after the drop) is heard and answered.
    await waitFor('rep turn after the drop', async () => (await turnsOf(callId)).find((t) => t.speaker === 'rep'), 90_000);
    await waitFor('reply after the drop', async () => (await turnsOf(callId)).find((t) => t.speaker === 'persona' && /Go ahead/.test(t.text)), 60_000);
    await rep.getByRole('button', { name: 'Hang up' }).click();
    await rep.waitForURL(`${world.base}/calls/${callId}`, { timeout: 30_000 });
  }, 240_000);
});
