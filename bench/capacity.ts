// How many concurrent calls one box holds (npm run bench:capacity): ramps concurrent phone calls
// through the real stack — test phones -> livekit-sip -> livekit-server -> agent worker (one
// worker, its job processes) -> Groq/ElevenLabs emulators at their published latencies, Postgres —
// each call speaking a scripted conversation. Figures only; nothing is asserted.
//
//   npm run bench:capacity -- [--steps 1,2,4,6,8,10,12,14,16,20] [--turns 6] [--stagger-ms 400]
//                              [--env AGENT_IDLE_PROCESSES=2,AGENT_DB_POOL_MAX=1]
//
// Per step (N calls at once, started --stagger-ms apart) it prints turn latency p50/p95 (last
// voiced audio the phone sends -> first voiced audio it hears back, as bench:turn), greeting
// latency, failed and dropped calls, turns stored, peak Postgres connections, and CPU (% of one
// core, averaged over the step) and peak RSS per component. The emulators run in their own process
// and the phones in this one, so their cost is reported apart ("harness") and never hides ours.
// It stops after the first step whose p95 exceeds 1.5x the first step's p95 or where a call failed,
// and prints the capacity, the limiting component and the per-call cost.
import { RoomAgentDispatch, RoomServiceClient, SipClient } from 'livekit-server-sdk';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, totalmem, tmpdir } from 'node:os';
import { join } from 'node:path';
import { inArray, sql } from 'drizzle-orm';
import { buildPracticeLinePlan, ensureSip } from '../sip/ensure.js';
import { createSipPhone, phoneSampleRate } from '../sip/phone/phone.js';
import { startStack, type Stack } from '../sip/stack/stack.js';
import { createDatabase, type DatabaseHandle } from '../src/adapters/db/client.js';
import { applyMigrations } from '../src/adapters/db/migrate.js';
import { calls, turns } from '../src/adapters/db/schema.js';
import { encodeRoomMetadata, type ReadyRoomMetadata } from '../src/domain/room_metadata.js';
import { dianeCarterCall, startAgentWorker, installPostCallQueue } from '../test/agent/agent_world.js';
import { renderSpeechAt } from '../test/emulators/audio.js';
import { PRESETS } from '../test/emulators/knobs.js';
import { startEntry, type RunningProcess } from '../test/support/process.js';
import { type ComponentSpec, type ComponentUsage, startSampling, type UsageWindow } from './process_sampler.js';
import { runBench, startBenchPostgres } from './bench_postgres.js';
import { PERSONA_REPLY, REP_SENTENCES } from './rep_lines.js';
import { lastVoiced, pcmTrack, percentile, sleep, waitForHeard, waitForQuiet } from './voice_timing.js';

const args = process.argv.slice(2);
const argValue = (name: string) => {
  const index = args.indexOf(`--${name}`);
  return index >= 0 ? args[index + 1] : undefined;
};
const STEPS = (argValue('steps') ?? '1,2,4,6,8,10,12,14,16,20').split(',').map(Number);
const TURNS = Number(argValue('turns') ?? 6);
const STAGGER_MS = Number(argValue('stagger-ms') ?? 400);
const WORKER_ENV = Object.fromEntries((argValue('env') ?? '').split(',').filter((kv) => kv.includes('=')).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
if (STEPS.some((n) => !Number.isInteger(n) || n <= 0) || !Number.isInteger(TURNS) || TURNS <= 0) throw new Error('--steps are positive integers, --turns a positive integer');

/** Over the first step's p95 by more than this, or any failed call, and the ramp stops. */
const P95_LIMIT = 1.5;
/** Machine CPU above this is saturated. */
const SATURATED_PERCENT = 85;

const metadata = dianeCarterCall({ scenario: { title: 'Capacity bench', objective: 'Measure.', timeLimitSeconds: 900 } });

interface CallResult {
  callId: string;
  latenciesMs: number[];
  greetingMs?: number;
  /** Why the call did not finish its script: set-up, no greeting, no reply, or the far end hung up. */
  failure?: string;
  dropped: boolean;
}

interface StepResult {
  calls: number;
  results: CallResult[];
  usage: UsageWindow;
  turnsStored: number;
  turnsExpected: number;
  peakDbConnections: number;
}

interface World {
  stack: Stack;
  db: DatabaseHandle;
  rooms: RoomServiceClient;
  agentName: string;
  trunkAuth: { username: string; password: string };
  speech: Map<string, Int16Array>;
}

async function createCall(world: World): Promise<{ callId: string; room: string }> {
  const room = `cap-${randomBytes(6).toString('hex')}`;
  const [row] = await world.db.db.insert(calls).values({ path: 'twilio', roomName: room, status: 'dispatching', repId: null }).returning({ id: calls.id });
  const full: ReadyRoomMetadata = { ...metadata, callId: row!.id };
  const encoded = encodeRoomMetadata(full);
  await world.rooms.createRoom({ name: room, metadata: encoded, emptyTimeout: 60, agents: [new RoomAgentDispatch({ agentName: world.agentName, metadata: encoded })] });
  return { callId: row!.id, room };
}

/** One practice call: greeting, then TURNS rep sentences, each waiting for the persona's reply. */
async function oneCall(world: World, index: number): Promise<CallResult> {
  const { callId, room } = await createCall(world);
  const result: CallResult = { callId, latenciesMs: [], dropped: false };
  const phone = await createSipPhone({ from: `+1555020${String(index).padStart(4, '0')}` });
  try {
    const call = await phone.dial(world.stack.sipUri(room), { auth: world.trunkAuth, answerTimeoutMs: 30_000 });
    const greeting = await waitForHeard(call, call.answeredAtMs, 15_000);
    if (greeting === undefined) return { ...result, failure: 'no greeting within 15 s' };
    result.greetingMs = greeting - call.answeredAtMs;
    await waitForQuiet(call, 800, 15_000);
    for (let t = 0; t < TURNS; t += 1) {
      if (!call.isActive()) return { ...result, dropped: true, failure: `far end hung up before turn ${t + 1}` };
      const sentence = REP_SENTENCES[(index + t) % REP_SENTENCES.length]!;
      const samples = world.speech.get(sentence)!;
      const label = `turn ${t + 1}`;
      await call.playPcm(samples, label);
      const sent = call.sent().filter((item) => item.label === label).at(-1)!;
      const phoneEndMs = sent.startMs + (lastVoiced(pcmTrack(samples, phoneSampleRate), 0, Infinity) ?? 0);
      const heardMs = await waitForHeard(call, phoneEndMs + 20, 15_000);
      if (heardMs === undefined) return { ...result, failure: `no reply to turn ${t + 1} within 15 s` };
      result.latenciesMs.push(heardMs - phoneEndMs);
      await waitForQuiet(call, 800, 15_000);
    }
    if (!call.isActive()) return { ...result, dropped: true, failure: 'far end hung up during the last reply' };
    await call.hangup();
    return result;
  } catch (error) {
    return { ...result, failure: (error as Error).message.split('\n')[0] ?? 'error' };
  } finally {
    await phone.close().catch(() => undefined);
  }
}

async function dbConnections(db: DatabaseHandle): Promise<number> {
  const result = await db.pool.query<{ n: string }>(`select count(*) as n from pg_stat_activity where datname = current_database()`);
  // Not our own: the bench's pool holds some of them.
  return Math.max(0, Number(result.rows[0]!.n) - db.pool.totalCount);
}

async function runStep(world: World, components: readonly ComponentSpec[], n: number): Promise<StepResult> {
  const sampling = startSampling(components);
  let peakDbConnections = 0;
  const dbPoll = setInterval(() => {
    void dbConnections(world.db).then((c) => (peakDbConnections = Math.max(peakDbConnections, c)), () => undefined);
  }, 1000);
  const running: Promise<CallResult>[] = [];
  for (let i = 0; i < n; i += 1) {
    running.push(oneCall(world, i));
    await sleep(STAGGER_MS);
  }
  const results = await Promise.all(running);
  clearInterval(dbPoll);
  const usage = sampling.stop();
  await sleep(3000); // the agents finish writing and leave; the next step starts from quiet
  const ids = results.map((r) => r.callId);
  const [stored] = await world.db.db.select({ n: sql<number>`count(*)::int` }).from(turns).where(inArray(turns.callId, ids));
  // A greeting, then a rep turn and a persona reply per exchange the phone heard.
  const turnsExpected = results.reduce((sum, r) => sum + (r.greetingMs === undefined ? 0 : 1 + 2 * r.latenciesMs.length), 0);
  return { calls: n, results, usage, turnsStored: stored?.n ?? 0, turnsExpected, peakDbConnections };
}

const fmt = (value: number) => (Number.isFinite(value) ? String(Math.round(value)) : '-');
const latencies = (step: StepResult) => step.results.flatMap((r) => r.latenciesMs);
const failures = (step: StepResult) => step.results.filter((r) => r.failure !== undefined);
const ours = (usage: UsageWindow) => usage.components.filter((c) => !c.harness);
const sumCpu = (components: readonly ComponentUsage[]) => components.reduce((sum, c) => sum + c.cpuPercent, 0);

function printStep(step: StepResult): void {
  const values = latencies(step);
  const greetings = step.results.flatMap((r) => (r.greetingMs === undefined ? [] : [r.greetingMs]));
  const failed = failures(step);
  console.log(
    `\n${step.calls} call(s): turn p50/p95 ${fmt(percentile(values, 50))} / ${fmt(percentile(values, 95))} ms (n${values.length}), greeting p50 ${fmt(percentile(greetings, 50))} ms, ` +
      `failed ${failed.length - failed.filter((r) => r.dropped).length}, dropped ${failed.filter((r) => r.dropped).length}, turns stored ${step.turnsStored}/${step.turnsExpected}, ` +
      `Postgres connections peak ${step.peakDbConnections}, machine CPU ${fmt(step.usage.machineCpuPercent)}% of ${cpus().length} cores over ${fmt(step.usage.seconds)} s`,
  );
  for (const r of failed) console.log(`    call ${r.callId}: ${r.failure}`);
  console.log(`    ${'component'.padEnd(26)}${'CPU % core'.padStart(11)}${'peak RSS MB'.padStart(13)}${'procs'.padStart(7)}`);
  for (const c of step.usage.components) {
    console.log(`    ${`${c.name}${c.harness ? ' (harness)' : ''}`.padEnd(26)}${c.cpuPercent.toFixed(1).padStart(11)}${fmt(c.peakRssMb).padStart(13)}${String(c.peakProcesses).padStart(7)}`);
  }
  console.log(`    ${'ours, total'.padEnd(26)}${sumCpu(ours(step.usage)).toFixed(1).padStart(11)}${fmt(ours(step.usage).reduce((s, c) => s + c.peakRssMb, 0)).padStart(13)}`);
}

function printSummary(steps: readonly StepResult[], idle: UsageWindow, stopReason: string | undefined): void {
  const base = percentile(latencies(steps[0]!), 95);
  const passing = steps.filter((s) => failures(s).length === 0 && percentile(latencies(s), 95) <= P95_LIMIT * base);
  const capacity = passing.at(-1)?.calls ?? 0;
  const last = steps.at(-1)!;
  const limiting = [...ours(last.usage)].sort((a, b) => b.cpuPercent - a.cpuPercent)[0]!;
  const cores = cpus().length;
  // Per-call cost: CPU above the idle worker's, divided by the calls, at the largest step measured.
  const idleOurs = sumCpu(ours(idle));
  const perCallOurs = (sumCpu(ours(last.usage)) - idleOurs) / last.calls;
  const perCallHarness = (sumCpu(last.usage.components.filter((c) => c.harness)) - sumCpu(idle.components.filter((c) => c.harness))) / last.calls;
  const jobs = last.usage.components.find((c) => c.name === 'agent job processes');
  const budgetFor10 = (cores * SATURATED_PERCENT - idleOurs - 10 * perCallHarness) / 10;
  console.log(`\n=== capacity ===`);
  console.log(`single-call p95 ${fmt(base)} ms; limit ${fmt(P95_LIMIT * base)} ms (${P95_LIMIT}x) and no failed call`);
  console.log(stopReason ? `stopped at ${last.calls} calls: ${stopReason}` : `never stopped: every step up to ${last.calls} calls passed (raise --steps)`);
  console.log(`CAPACITY: ${capacity} concurrent call(s) on this machine (${cores} cores)`);
  console.log(
    `limiting component: ${limiting.name} (${limiting.cpuPercent.toFixed(0)}% of a core at ${last.calls} calls); machine CPU ${fmt(last.usage.machineCpuPercent)}%` +
      (last.usage.machineCpuPercent >= SATURATED_PERCENT ? ' — the machine is CPU-saturated' : ''),
  );
  console.log(`per call: ${perCallOurs.toFixed(1)}% of a core ours (agent, LiveKit, Postgres) + ${perCallHarness.toFixed(1)}% harness (emulators, phones); job RSS ${jobs && jobs.peakProcesses > 0 ? fmt(jobs.peakRssMb / jobs.peakProcesses) : '-'} MB per job process`);
  console.log(`for 10 calls here our per-call CPU would have to be <= ${budgetFor10.toFixed(1)}% of a core (${SATURATED_PERCENT}% of ${cores} cores, less idle and harness)`);
}

function componentSpecs(stack: Stack, worker: RunningProcess, emulators: RunningProcess, postgresPid: number): ComponentSpec[] {
  const stackPid = (name: 'livekit' | 'sip' | 'redis') => stack.processes.find((p) => p.name === name)!.pid;
  return [
    { name: 'agent worker', pid: worker.child.pid!, self: true, tree: false },
    // The job processes (one per call, plus idle ones) and the ones it reaped; the shared inference
    // process (the framework's end-of-turn model runner, one per worker) apart.
    { name: 'agent job processes', pid: worker.child.pid!, self: false, tree: true, commandIncludes: 'job_proc' },
    { name: 'agent inference process', pid: worker.child.pid!, self: false, tree: true, commandIncludes: 'inference_proc', noReaped: true },
    { name: 'livekit-server', pid: stackPid('livekit'), self: true, tree: true },
    { name: 'livekit-sip', pid: stackPid('sip'), self: true, tree: true },
    { name: 'redis', pid: stackPid('redis'), self: true, tree: true },
    { name: 'postgres', pid: postgresPid, self: true, tree: true },
    { name: 'emulators', pid: emulators.child.pid!, self: true, tree: true, harness: true },
    { name: 'phones (bench)', pid: process.pid, self: true, tree: false, harness: true },
  ];
}

async function startEmulators(dir: string): Promise<{ process: RunningProcess; env: Record<string, string> }> {
  const utterancesFile = join(dir, 'utterances.txt');
  await writeFile(utterancesFile, REP_SENTENCES.join('\n'));
  const emulators = startEntry('test/emulators/main.ts', {
    EMULATOR_PRESET: 'published',
    GROQ_EMULATOR_PORT: '0',
    ELEVENLABS_EMULATOR_PORT: '0',
    EMULATOR_UTTERANCES_FILE: utterancesFile,
    EMULATOR_REPLY: PERSONA_REPLY,
  });
  await emulators.waitForOutput(/emulators running/, 90_000);
  const env = Object.fromEntries(emulators.stdout().split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
  return { process: emulators, env };
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-capacity-'));
  const cleanups: (() => Promise<unknown>)[] = [() => rm(dir, { recursive: true, force: true })];
  try {
    const { pg, pgDir, stop: stopPostgres } = await startBenchPostgres('capacity');
    cleanups.push(stopPostgres);
    await pg.createDatabase('bench');
    const db = createDatabase(pg.url('bench'), { max: 2 });
    cleanups.push(() => db.close());
    await applyMigrations(db.pool);
    await installPostCallQueue(db.pool);
    const postgresPid = Number((await readFile(join(pgDir, 'postmaster.pid'), 'utf8')).split('\n')[0]);

    console.error('bench:capacity: starting emulators, stack and agent worker …');
    const emulators = await startEmulators(dir);
    cleanups.push(async () => {
      emulators.process.child.kill('SIGTERM');
      await emulators.process.exited;
    });
    const stack = await startStack();
    cleanups.push(() => stack.stop());
    const agentName = `capacity-${randomBytes(3).toString('hex')}`;
    const trunkAuth = { username: 'twilio-bench', password: randomBytes(9).toString('hex') };
    await ensureSip(new SipClient(stack.httpUrl, stack.apiKey, stack.apiSecret), buildPracticeLinePlan({ agentName, twilio: { authUsername: trunkAuth.username, authPassword: trunkAuth.password } }));
    const worker = await startAgentWorker({
      livekit: { url: stack.livekitUrl, apiKey: stack.apiKey, apiSecret: stack.apiSecret },
      agentName,
      groq: { apiKey: emulators.env.GROQ_API_KEY!, url: emulators.env.GROQ_BASE_URL! },
      elevenlabs: { apiKey: emulators.env.ELEVENLABS_API_KEY!, url: emulators.env.ELEVENLABS_BASE_URL! },
      databaseUrl: pg.url('bench'),
      // The bench measures where the box gives out, so the worker must never refuse a call.
      env: { LOG_LEVEL: 'info', AGENT_LOAD_THRESHOLD: '1', AGENT_MAX_CALLS: '0', ...WORKER_ENV },
    });
    cleanups.push(() => worker.stop());
    const speech = new Map<string, Int16Array>();
    for (const sentence of REP_SENTENCES) speech.set(sentence, (await renderSpeechAt(sentence, phoneSampleRate)).samples);
    const world: World = { stack, db, rooms: new RoomServiceClient(stack.httpUrl, stack.apiKey, stack.apiSecret), agentName, trunkAuth, speech };
    const components = componentSpecs(stack, worker, emulators.process, postgresPid);

    await sleep(5000); // the idle job processes finish loading
    const idleSampling = startSampling(components);
    await sleep(5000);
    const idle = idleSampling.stop();
    const published = PRESETS.published;
    console.log(`bench:capacity  ${TURNS} turns per call, calls started ${STAGGER_MS} ms apart; emulator preset "published" (STT ${published.transcription?.firstByteMs} ms, LLM TTFT ${published.chat?.firstByteMs} ms, TTS TTFB ${published.tts?.firstByteMs} ms)`);
    console.log(`host: ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), ${fmt(totalmem() / 2 ** 30)} GB, load ${loadavg().map((l) => l.toFixed(1)).join(' ')} at start, node ${process.version}; worker env ${JSON.stringify(WORKER_ENV)}`);
    console.log(`idle (worker registered, no call): ours ${sumCpu(ours(idle)).toFixed(1)}% of a core, ${fmt(ours(idle).reduce((s, c) => s + c.peakRssMb, 0))} MB; agent job processes ${idle.components.find((c) => c.name === 'agent job processes')?.peakProcesses ?? 0}`);

    const steps: StepResult[] = [];
    let stopReason: string | undefined;
    for (const n of STEPS) {
      console.error(`bench:capacity: ${n} concurrent call(s) …`);
      const step = await runStep(world, components, n);
      steps.push(step);
      printStep(step);
      const base = percentile(latencies(steps[0]!), 95);
      const p95 = percentile(latencies(step), 95);
      if (failures(step).length > 0) stopReason = `${failures(step).length} call(s) failed`;
      else if (!(p95 <= P95_LIMIT * base)) stopReason = `p95 ${fmt(p95)} ms > ${P95_LIMIT}x the single-call p95 (${fmt(base)} ms)`;
      if (stopReason) break;
    }
    printSummary(steps, idle, stopReason);
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  }
}

runBench(main);
