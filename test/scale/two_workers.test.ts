// Scale-out on one machine, for real (docs/scale-out.md): two agent worker processes and two
// dispatch service instances against one livekit-server and one Postgres. Each worker holds one
// call (AGENT_MAX_CALLS=1), so where a call lands is decided by the load the workers report and
// the jobs they refuse, not by chance. One world for the whole file; the cases run in order.
import { asc, eq } from 'drizzle-orm';
import { SipClient } from 'livekit-server-sdk';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildPracticeLinePlan, ensureSip } from '../../sip/ensure.js';
import { createSipPhone, phoneSampleRate, type PhoneCall, type SipPhone } from '../../sip/phone/phone.js';
import { createAgentAvailability } from '../../src/adapters/agent_availability.js';
import { calls, personas, turns } from '../../src/adapters/db/schema.js';
import { installPostCallQueue, startAgentWorker } from '../agent/agent_world.js';
import { renderSpeechAt } from '../emulators/audio.js';
import { startElevenLabsEmulator, type ElevenLabsEmulator } from '../emulators/elevenlabs_emulator.js';
import { startGroqEmulator, type GroqEmulator } from '../emulators/groq_emulator.js';
import { AGENT_NAME, createCallRoutingWorld, seedPracticeCall, type CallRoutingWorld } from '../support/call_routing_world.js';
import { freePort } from '../support/ports.js';
import { findVerb, spokenLines, type createTwilioEmulator } from '../support/twilio_caller.js';
import { sleep, waitFor } from '../support/wait.js';

const LINE = '+15550009999';
const REP_1 = 'Hi Diane, Riley here. Got two minutes?';
/**
 * How soon a caller whose worker died must hear BYE: livekit-server notices the agent's silent peer
 * connection after its ICE timeouts (10 s to disconnected, 5 s more to failed) and its 5 s disconnect
 * timer (~20 s, livekit-server v1.13 rtc/transport.go, rtc/participant.go), then the webhook and the room deletion.
 */
const BYE_BOUND_MS = 30_000;
const trunkAuth = { username: 'twilio-test', password: randomBytes(9).toString('hex') };

type Worker = Awaited<ReturnType<typeof startAgentWorker>>;
type Twilio = ReturnType<typeof createTwilioEmulator>;
let world: CallRoutingWorld;
let instanceB: Twilio;
let groq: GroqEmulator;
let elevenlabs: ElevenLabsEmulator;
const ports: number[] = [];
const workers: Worker[] = [];
const phones: SipPhone[] = [];

async function startWorker(port: number): Promise<Worker> {
  const stack = world.stack!;
  const worker = await startAgentWorker({
    livekit: { url: stack.livekitUrl, apiKey: world.apiKey, apiSecret: world.apiSecret },
    agentName: AGENT_NAME,
    groq,
    elevenlabs,
    databaseUrl: world.database.url,
    env: { AGENT_HTTP_PORT: String(port), AGENT_MAX_CALLS: '1', AGENT_IDLE_PROCESSES: '1', LOG_LEVEL: 'info' },
  });
  workers.push(worker);
  return worker;
}

beforeAll(async () => {
  ports.push(await freePort(), await freePort(), await freePort());
  world = await createCallRoutingWorld({ livekit: true, agentHealthUrl: ports.map((p) => `http://127.0.0.1:${p}`).join(','), agentMaxCalls: 1 });
  instanceB = (await world.startInstance()).twilio;
  await installPostCallQueue(world.database.pool);
  await ensureSip(new SipClient(world.stack!.httpUrl, world.apiKey, world.apiSecret), buildPracticeLinePlan({ agentName: AGENT_NAME, twilio: { authUsername: trunkAuth.username, authPassword: trunkAuth.password } }));
  groq = await startGroqEmulator({ utterances: [REP_1], script: [{ when: 'two minutes', reply: 'Two minutes. Go ahead.' }] });
  elevenlabs = await startElevenLabsEmulator();
  await startWorker(ports[0]!);
  await startWorker(ports[1]!);
}, 300_000);

afterEach((context) => {
  if (context.task.result?.state !== 'fail' || !world?.stack) return;
  workers.forEach((worker, i) => writeFileSync(join(world.stack!.runDir, `agent-worker-${i}.log`), worker.stdout() + worker.stderr()));
  console.error(`agent worker logs: ${world.stack.runDir}/agent-worker-*.log\n${world.stack.describe()}`);
});

afterAll(async () => {
  for (const phone of phones) await phone.close().catch(() => undefined);
  for (const worker of workers) await worker.stop();
  await groq?.stop();
  await elevenlabs?.stop();
  await world?.close();
});

const turnsOf = (callId: string) => world.database.db.select().from(turns).where(eq(turns.callId, callId)).orderBy(asc(turns.seq));
const callRow = async (callId: string) => (await world.database.db.select().from(calls).where(eq(calls.id, callId)))[0]!;
const waitForTurn = (callId: string, speaker: 'rep' | 'persona', text: RegExp) =>
  waitFor(`${speaker} turn ${text}`, async () => (await turnsOf(callId)).find((turn) => turn.speaker === speaker && text.test(turn.text)), 45_000);
/** The worker whose job joined this room (its job processes log through it). */
const workerOf = (room: string) => workers.find((worker) => (worker.stdout() + worker.stderr()).includes(room));
const everyWorkerFree = createAgentAvailability(ports.map((p) => `http://127.0.0.1:${p}`), { maxCalls: 1 });

interface LiveCall {
  call: PhoneCall;
  callId: string;
  room: string;
}

/** A rep keys their PIN on the given dispatch instance, the phone dials the room, the persona greets. */
async function placeCall(twilio: Twilio): Promise<LiveCall> {
  const seeded = await seedPracticeCall(world);
  await world.database.db.update(personas).set({ llmModel: 'llama-3.3-70b-versatile' }).where(eq(personas.id, seeded.persona.id));
  const caller = twilio.call({ from: seeded.repPhone, to: LINE });
  const dialled = await caller.keyDigits(await caller.start(), seeded.pin);
  const [, room, callId] = /^sip:([^@]+)@[^;]+;transport=tcp\?X-Practice-Call=([0-9a-f-]{36})$/.exec(findVerb(dialled.verbs, 'Sip')?.text ?? '') ?? [];
  expect(room, spokenLines(dialled.verbs).join(' ')).toBeDefined();
  const phone = await createSipPhone({ from: seeded.repPhone });
  phones.push(phone);
  const call = await phone.dial(`${world.stack!.sipUri(room!)}?X-Practice-Call=${callId}`, { auth: trunkAuth, answerTimeoutMs: 60_000 });
  await waitForTurn(callId!, 'persona', /Diane Carter speaking/);
  return { call, callId: callId!, room: room! };
}

async function converse(live: LiveCall): Promise<void> {
  await live.call.waitForQuiet();
  await live.call.playPcm((await renderSpeechAt(REP_1, phoneSampleRate)).samples, REP_1);
  await waitForTurn(live.callId, 'persona', /Go ahead/);
}

async function hangUpCompleted(live: LiveCall): Promise<void> {
  await live.call.hangup();
  const row = await waitFor('call closed', async () => ((await callRow(live.callId)).endedAt ? callRow(live.callId) : undefined), 60_000);
  expect(row.status).toBe('completed');
}

const refusedPolitely = async (twilio: Twilio) => {
  const seeded = await seedPracticeCall(world);
  return spokenLines((await twilio.call({ from: seeded.repPhone, to: LINE }).start()).verbs).join(' ');
};

/** The worker and every process under it (its job processes): what losing its machine looks like. */
function killTree(pid: number): void {
  const children = (parent: number): number[] =>
    readdirSync('/proc')
      .filter((entry) => /^\d+$/.test(entry))
      .filter((entry) => {
        try {
          return Number(readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]) === parent;
        } catch {
          return false;
        }
      })
      .flatMap((entry) => [Number(entry), ...children(Number(entry))]);
  for (const target of [pid, ...children(pid)]) process.kill(target, 'SIGKILL');
}

let first: LiveCall;
let second: LiveCall;

describe('two agent workers and two dispatch instances on one livekit-server and one Postgres', () => {
  it('spreads calls over both workers, from either instance; with both full a caller on either hears that no partner is free', async () => {
    first = await placeCall(world.twilio);
    second = await placeCall(instanceB);
    const [a, b] = [workerOf(first.room), workerOf(second.room)];
    expect(a).toBeDefined();
    expect(b).toBeDefined();
    expect(a).not.toBe(b);
    // Both workers hold their one call; /worker says so to both instances.
    await waitFor('both workers report their call', async () => (!(await everyWorkerFree()).available ? true : undefined), 20_000);
    expect(await refusedPolitely(world.twilio)).toMatch(/No practice partner is free/);
    expect(await refusedPolitely(instanceB)).toMatch(/No practice partner is free/);
  }, 240_000);

  it('a worker lost mid-call: its caller hears BYE within the bound and the call fails as agent_lost with its turns kept', async () => {
    await converse(first);
    const lost = workerOf(first.room)!;
    const killedAt = Date.now();
    killTree(lost.child.pid!);
    await first.call.waitForBye(BYE_BOUND_MS);
    console.log(`scale: BYE ${Date.now() - killedAt} ms after the worker was killed (bound ${BYE_BOUND_MS} ms)`);
    const row = await waitFor('lost call closed', async () => ((await callRow(first.callId)).endedAt ? callRow(first.callId) : undefined));
    expect(row).toMatchObject({ status: 'failed', endReason: 'agent_lost' });
    expect((await turnsOf(first.callId)).map((turn) => turn.speaker)).toEqual(['persona', 'rep', 'persona']);
  }, 240_000);

  // The next call is placed 500 ms after /worker shows the survivor free: the worker must have told
  // livekit-server by then, or livekit-server drops the room's job and the phone rings unanswered
  // (agent/load_report.ts). The framework alone reports every 2.5 s; the push is checked every
  // 100 ms. Placed at once, with no margin at all, the call lost that race in 3 of 6 runs on this
  // machine (the cause of the push's lateness is not known; see the issue-20 note).
  it('after a worker is lost, the next call goes to the survivor; a rolling restart (new worker up, SIGTERM to the old one) drops no live call, and new calls go to the new worker', async () => {
    const survivor = workerOf(second.room)!;
    await hangUpCompleted(second);
    const survivorFree = createAgentAvailability(`http://127.0.0.1:${ports[workers.indexOf(survivor)]}`, { maxCalls: 1 });
    let lastDetail: string | undefined;
    await waitFor('the survivor is free again', async () => {
      const state = await survivorFree();
      lastDetail = state.detail;
      return state.available ? true : undefined;
    }, 60_000).catch((error: Error) => {
      throw new Error(`${error.message}: ${lastDetail}`);
    });
    await sleep(500);
    const third = await placeCall(instanceB);
    expect(workerOf(third.room)).toBe(survivor);
    second = third;

    const old = workerOf(second.room)!;
    const replacement = await startWorker(ports[2]!);
    old.child.kill('SIGTERM');
    // The old worker drains: its caller converses to the end of the call.
    await converse(second);
    await hangUpCompleted(second);
    expect(await Promise.race([old.exited, sleep(30_000).then(() => 'still running')])).not.toBe('still running');
    const fresh = await placeCall(world.twilio);
    expect(workerOf(fresh.room)).toBe(replacement);
    await hangUpCompleted(fresh);
  }, 240_000);
});
