// Turn latency through the real stack (npm run bench:turn): test phone -> livekit-sip ->
// livekit-server -> agent worker -> Groq/ElevenLabs emulators at their published latencies.
// Runs each turn-handling configuration in the same run, one after another, and prints them side
// by side (this machine is noisy: only ratios from one run mean much). Figures only; nothing is
// asserted.
//
//   npm run bench:turn -- [--configs serial:500,overlapped:500] [--turns 22] [--calls 2] [--cutins 10]
//
// A configuration is `<pipeline>:<endpointing ms>` or `<pipeline>:model:<min ms>` (the local
// end-of-turn model with dynamic endpointing), optionally with `:seg<ms>`, the STT segment silence, and
// `:early<ms>`, the silence after which a segment is already sent to Whisper (AGENT_STT_EARLY_REQUEST_MS),
// e.g. `--configs overlapped:700:early0,overlapped:700:early120` (before and after the early request). The default compares the first wave's pipeline with
// today's defaults. Per configuration it prints:
//  - turn latency: last voiced sample the phone sends -> first voiced sample it hears back;
//  - the breakdown the agent stored per turn (turn_metrics), and the speculation hit rate
//    (speculative replies used / started, from the worker's log);
//  - transport hop by hop, with a probe participant in the room that hears both the caller's and the
//    persona's tracks: phone -> room, room -> agent VAD end (incl. Silero's lag), agent first frame
//    -> room, room -> phone;
//  - false cut-ins: the phone says "I was thinking ... maybe next quarter would work better for us"
//    with a 400-600 ms pause; a cut-in is a rep turn committed on the first half alone.
import { eq } from 'drizzle-orm';
import { ParticipantKind } from '@livekit/rtc-node';
import { cpus, loadavg } from 'node:os';
import { createDatabase, type Database } from '../src/adapters/db/client.js';
import { applyMigrations } from '../src/adapters/db/migrate.js';
import { turnMetrics, turns } from '../src/adapters/db/schema.js';
import { loadConfig } from '../src/config.js';
import { renderSpeechAt } from '../test/emulators/audio.js';
import { espeakVoiceFor } from '../test/emulators/elevenlabs_emulator.js';
import { PRESETS } from '../test/emulators/knobs.js';
import { type AgentWorld, dianeCarterCall, DIANE_VOICE_ID, startAgentWorld, installPostCallQueue } from '../test/agent/agent_world.js';
import { createProbe, type Probe } from '../test/support/probe.js';
import { phoneSampleRate } from '../sip/phone/phone.js';
import { firstVoiced, lastVoiced, pcmTrack, percentile, sleep, type Track, waitForHeard, waitForQuiet } from './voice_timing.js';
import { runBench, startBenchPostgres } from './bench_postgres.js';
import { PERSONA_REPLY, REP_SENTENCES } from './rep_lines.js';

const args = process.argv.slice(2);
const argValue = (name: string) => {
  const index = args.indexOf(`--${name}`);
  return index >= 0 ? args[index + 1] : undefined;
};
const TURNS = Number(argValue('turns') ?? 22);
const CALLS = Number(argValue('calls') ?? 2);
const CUTIN_TRIALS = Number(argValue('cutins') ?? 10);

const CUTIN_FIRST = 'I was thinking';
const CUTIN_REST = 'maybe next quarter would work better for us.';
const VOICE_ID = DIANE_VOICE_ID;

interface BenchConfig {
  label: string;
  endpointingMs: number;
  env: Record<string, string>;
}

function parseConfig(spec: string): BenchConfig {
  const parts = spec.split(':');
  const segment = parts.find((part) => part.startsWith('seg'));
  const early = parts.find((part) => part.startsWith('early'));
  const [pipeline, second, third] = parts.filter((part) => part !== segment && part !== early);
  if (pipeline !== 'serial' && pipeline !== 'overlapped') throw new Error(`unknown pipeline in ${spec}: serial or overlapped`);
  const model = second === 'model';
  const endpointingMs = Number(model ? third : second);
  if (!Number.isInteger(endpointingMs) || endpointingMs <= 0) throw new Error(`bad endpointing in ${spec}`);
  const segmentMs = segment === undefined ? undefined : Number(segment.slice(3));
  if (segmentMs !== undefined && (!Number.isInteger(segmentMs) || segmentMs <= 0)) throw new Error(`bad segment silence in ${spec}`);
  const earlyMs = early === undefined ? undefined : Number(early.slice(5));
  if (earlyMs !== undefined && (!Number.isInteger(earlyMs) || earlyMs < 0)) throw new Error(`bad early request silence in ${spec}`);
  return {
    label: spec,
    endpointingMs,
    env: {
      AGENT_TURN_PIPELINE: pipeline,
      AGENT_TURN_DETECTOR: model ? 'model' : 'vad',
      AGENT_ENDPOINTING_MIN_DELAY_MS: String(endpointingMs),
      ...(segmentMs === undefined ? {} : { AGENT_STT_SEGMENT_SILENCE_MS: String(segmentMs) }),
      ...(earlyMs === undefined ? {} : { AGENT_STT_EARLY_REQUEST_MS: String(earlyMs) }),
    },
  };
}

const metadata = dianeCarterCall({ scenario: { title: 'Bench', objective: 'Measure.', timeLimitSeconds: 900 } });

interface TurnSample {
  callId: string;
  /** The persona turn answering this rep turn. */
  seq: number;
  totalMs: number;
  phoneEndMs: number;
  heardMs: number;
  roomEndMs: number | undefined;
  roomOnsetMs: number | undefined;
  toPhoneClock: (epochMs: number) => number;
}

interface Results {
  figures: Record<string, number[]>;
  speculation: { started: number; used: number };
  cutIns: { trials: number; cutIns: number; pausesMs: number[] };
}

/** A call with a probe in its room: the probe hears the caller's and the persona's tracks. */
async function dialWithProbe(world: AgentWorld, room: string) {
  const { call } = await world.dialRoom(room);
  const probe = await createProbe({ url: world.stack.livekitUrl, apiKey: world.stack.apiKey, apiSecret: world.stack.apiSecret, room, identity: 'bench-probe', queueMs: 50 });
  // The probe's clock on the phone's: both are performance.now() based.
  const probeToPhone = performance.now() - probe.now() - call.t0;
  const sip = await probe.waitForParticipant((p) => p.info.kind === ParticipantKind.SIP, 30_000);
  const agent = await probe.waitForParticipant((p) => p.info.kind === ParticipantKind.AGENT, 30_000);
  const track = (identity: string): Track | undefined => {
    const started = probe.heardStartedAtMs(identity);
    return started === undefined ? undefined : { samples: probe.heard(identity), rate: probe.sampleRate, originMs: started + probeToPhone };
  };
  return { call, probe, callerTrack: () => track(sip.identity), personaTrack: () => track(agent.identity) };
}

async function latencyCalls(world: AgentWorld, samples: TurnSample[], greetings: number[]): Promise<void> {
  const perCall = Math.ceil(TURNS / CALLS);
  for (let c = 0; c < CALLS; c += 1) {
    const { callId, room } = await world.createCall(metadata);
    const { call, probe, callerTrack, personaTrack } = await dialWithProbe(world, room);
    const greetingAt = await waitForHeard(call, call.answeredAtMs, 10_000);
    if (greetingAt !== undefined) greetings.push(greetingAt - call.answeredAtMs);
    await waitForQuiet(call, 800, 15_000);
    const toPhoneClock = (epochMs: number) => epochMs - performance.timeOrigin - call.t0;

    let seq = 1; // the greeting
    for (let t = 0; t < perCall; t += 1) {
      const sentence = REP_SENTENCES[(c * perCall + t) % REP_SENTENCES.length]!;
      const pcm = await renderSpeechAt(sentence, phoneSampleRate);
      await call.playPcm(pcm.samples, sentence);
      const sent = call.sent().filter((item) => item.label === sentence).at(-1)!;
      const phoneEndMs = sent.startMs + (lastVoiced(pcmTrack(pcm.samples, phoneSampleRate), 0, Infinity) ?? 0);
      const heardMs = await waitForHeard(call, phoneEndMs + 20, 15_000);
      seq += 2;
      await waitForQuiet(call, 800, 15_000);
      if (heardMs === undefined) continue;
      const caller = callerTrack();
      const persona = personaTrack();
      samples.push({
        callId, seq, totalMs: heardMs - phoneEndMs, phoneEndMs, heardMs, toPhoneClock,
        roomEndMs: caller ? lastVoiced(caller, sent.startMs, phoneEndMs + 1500) : undefined,
        // The persona's voice in the room just before the phone heard it.
        roomOnsetMs: persona ? firstVoiced(persona, phoneEndMs) : undefined,
      });
    }
    await call.hangup();
    await probe.close();
    await sleep(1000);
  }
}

/** The hesitation sentence, CUTIN_TRIALS times in one call; returns the pauses used. */
async function cutInCall(world: AgentWorld): Promise<{ callId: string; pausesMs: number[] }> {
  const { callId, room } = await world.createCall(metadata);
  const { call } = await world.dialRoom(room);
  await waitForHeard(call, call.answeredAtMs, 10_000);
  await waitForQuiet(call, 800, 15_000);
  const first = await renderSpeechAt(CUTIN_FIRST, phoneSampleRate);
  const rest = await renderSpeechAt(CUTIN_REST, phoneSampleRate);
  const pausesMs: number[] = [];
  for (let trial = 0; trial < CUTIN_TRIALS; trial += 1) {
    // Spread over 400-600 ms (the pause is measured from the end of "thinking" to the next word).
    const pauseMs = 400 + Math.round((200 * trial) / Math.max(1, CUTIN_TRIALS - 1));
    pausesMs.push(pauseMs);
    const trailing = first.samples.length - Math.round(((lastVoiced(pcmTrack(first.samples, phoneSampleRate), 0, Infinity) ?? 0) / 1000) * phoneSampleRate);
    const leading = Math.round(((firstVoiced(pcmTrack(rest.samples, phoneSampleRate), 0) ?? 0) / 1000) * phoneSampleRate);
    const gap = Math.max(0, Math.round((pauseMs / 1000) * phoneSampleRate) - trailing - leading);
    const utterance = new Int16Array(first.samples.length + gap + rest.samples.length);
    utterance.set(first.samples, 0);
    utterance.set(rest.samples, first.samples.length + gap);
    await call.playPcm(utterance, `hesitation ${trial}`);
    await waitForHeard(call, call.now(), 6000);
    await waitForQuiet(call, 1000, 15_000);
  }
  await call.hangup();
  await sleep(1000);
  return { callId, pausesMs };
}

const normalise = (text: string) => text.toLowerCase().replace(/[^a-z ]/g, '').trim();

async function countCutIns(db: Database, callId: string): Promise<number> {
  const stored = await db.select().from(turns).where(eq(turns.callId, callId));
  return stored.filter((turn) => turn.speaker === 'rep' && normalise(turn.text) === normalise(CUTIN_FIRST)).length;
}

function speculationFromLog(log: string): { started: number; used: number } {
  const count = (message: string) => log.split('\n').filter((line) => line.includes(`"msg":"${message}"`)).length;
  return { started: count('starting preemptive generation'), used: count('using preemptive generation') };
}

async function breakdown(db: Database, samples: readonly TurnSample[], config: BenchConfig, providerMs: number): Promise<Record<string, number[]>> {
  const f: Record<string, number[]> = {};
  const add = (key: string, value: number | null | undefined) => {
    if (value === null || value === undefined || !Number.isFinite(value)) return;
    (f[key] ??= []).push(value);
  };
  for (const s of samples) {
    const callTurns = await db.select().from(turns).where(eq(turns.callId, s.callId));
    const persona = callTurns.find((t) => t.seq === s.seq && t.speaker === 'persona');
    const rep = callTurns.find((t) => t.seq === s.seq - 1 && t.speaker === 'rep');
    const [m] = persona ? await db.select().from(turnMetrics).where(eq(turnMetrics.turnId, persona.id)) : [];
    add('total', s.totalMs);
    add('overhead', s.totalMs - providerMs - config.endpointingMs);
    add('eou', m?.endOfUtteranceDelayMs);
    add('stt', m?.sttMs);
    add('ttft', m?.llmTtftMs);
    add('ttfb', m?.ttsTtfbMs);
    add('e2e', m?.endToEndMs);
    add('lead', m?.speculativeLeadMs);
    if (m?.endToEndMs !== null && m?.endToEndMs !== undefined && m.endOfUtteranceDelayMs !== null) add('afterCommit', m.endToEndMs - m.endOfUtteranceDelayMs);
    if (m?.endToEndMs !== null && m?.endToEndMs !== undefined) add('transport', s.totalMs - m.endToEndMs);
    const agentVadEnd = rep ? s.toPhoneClock(rep.endedAt.getTime()) : undefined;
    const agentFirstFrame = persona ? s.toPhoneClock(persona.startedAt.getTime()) : undefined;
    if (s.roomEndMs !== undefined) add('phoneToRoom', s.roomEndMs - s.phoneEndMs);
    if (s.roomEndMs !== undefined && agentVadEnd !== undefined) add('roomToAgent', agentVadEnd - s.roomEndMs);
    if (agentVadEnd !== undefined) add('inbound', agentVadEnd - s.phoneEndMs);
    if (agentFirstFrame !== undefined && s.roomOnsetMs !== undefined) add('agentToRoom', s.roomOnsetMs - agentFirstFrame);
    if (s.roomOnsetMs !== undefined) add('roomToPhone', s.heardMs - s.roomOnsetMs);
    if (agentFirstFrame !== undefined) add('outbound', s.heardMs - agentFirstFrame);
  }
  return f;
}

async function runConfig(config: BenchConfig, databaseUrl: string, db: Database, providerMs: number): Promise<Results> {
  const world = await startAgentWorld({
    databaseUrl,
    db,
    utterances: [...REP_SENTENCES, CUTIN_FIRST, CUTIN_REST],
    script: [{ reply: PERSONA_REPLY }],
    preset: 'published',
    workerEnv: { ...config.env, LOG_LEVEL: 'debug' },
  });
  try {
    const samples: TurnSample[] = [];
    const greetings: number[] = [];
    await latencyCalls(world, samples, greetings);
    const cutIns = CUTIN_TRIALS > 0 ? await cutInCall(world) : undefined;
    await sleep(3000);
    const figures = await breakdown(db, samples, config, providerMs);
    figures.greeting = greetings;
    return {
      figures,
      speculation: speculationFromLog(world.workerLog()),
      cutIns: cutIns ? { trials: CUTIN_TRIALS, cutIns: await countCutIns(db, cutIns.callId), pausesMs: cutIns.pausesMs } : { trials: 0, cutIns: 0, pausesMs: [] },
    };
  } finally {
    await world.stop();
  }
}

const ROWS: [string, string][] = [
  ['total', 'turn latency (phone -> phone)'],
  ['eou', '  endpointing: end of speech -> commit'],
  ['stt', '  STT request (last segment)'],
  ['ttft', '  LLM TTFT'],
  ['ttfb', '  TTS TTFB'],
  ['lead', '  speculative lead (before commit)'],
  ['afterCommit', '  commit -> first frame (e2e - eou)'],
  ['e2e', '  agent end-to-end (agent clock)'],
  ['transport', '  transport + VAD lag (total - e2e)'],
  ['inbound', '    inbound: phone -> agent VAD end'],
  ['phoneToRoom', '      phone -> room (probe)'],
  ['roomToAgent', '      room -> agent VAD end'],
  ['outbound', '    outbound: agent frame -> phone'],
  ['agentToRoom', '      agent first frame -> room'],
  ['roomToPhone', '      room -> phone'],
  ['overhead', 'overhead (total - providers - endp.)'],
  ['greeting', 'greeting (SIP answer -> voice)'],
];

function printTable(configs: readonly BenchConfig[], results: readonly Results[]): void {
  const cell = (values: number[] | undefined) => {
    if (!values || values.length === 0) return '-'.padStart(15);
    return `${Math.round(percentile(values, 50))} / ${Math.round(percentile(values, 95))}`.padStart(11) + ` n${values.length}`.padEnd(4);
  };
  console.log(`${'p50 / p95 ms'.padEnd(40)}${configs.map((c) => c.label.padStart(15)).join('  ')}`);
  for (const [key, label] of ROWS) console.log(`${label.padEnd(40)}${results.map((r) => cell(r.figures[key])).join('  ')}`);
  const spec = (r: Results) => `${r.speculation.used}/${r.speculation.started}${r.speculation.started > 0 ? ` (${Math.round((100 * r.speculation.used) / r.speculation.started)}%)` : ''}`;
  console.log(`${'speculation used / started'.padEnd(40)}${results.map((r) => spec(r).padStart(15)).join('  ')}`);
  console.log(`${'false cut-ins (400-600 ms pause)'.padEnd(40)}${results.map((r) => `${r.cutIns.cutIns}/${r.cutIns.trials}`.padStart(15)).join('  ')}`);
}

async function main(): Promise<void> {
  const defaults = loadConfig({});
  const chosen = `${defaults.AGENT_TURN_PIPELINE}:${defaults.AGENT_TURN_DETECTOR === 'model' ? 'model:' : ''}${defaults.AGENT_ENDPOINTING_MIN_DELAY_MS}:early${defaults.AGENT_STT_EARLY_REQUEST_MS}`;
  const configs = (argValue('configs') ?? `serial:500,${chosen}`).split(',').map(parseConfig);
  const published = PRESETS.published;
  const providerMs = (published.transcription?.firstByteMs ?? 0) + (published.chat?.firstByteMs ?? 0) + (published.tts?.firstByteMs ?? 0);
  const replyPcm = await renderSpeechAt(PERSONA_REPLY, 16000, { voice: espeakVoiceFor(VOICE_ID) });

  const bench = await startBenchPostgres('turn');
  const { pg } = bench;
  try {
    await pg.createDatabase('bench');
    const database = createDatabase(pg.url('bench'));
    try {
      await applyMigrations(database.pool);
      await installPostCallQueue(database.pool);
      const results: Results[] = [];
      for (const config of configs) {
        console.error(`bench:turn: running ${config.label} …`);
        results.push(await runConfig(config, pg.url('bench'), database.db, providerMs));
      }
      console.log(`\nbench:turn  ${TURNS} turns over ${CALLS} call(s) and ${CUTIN_TRIALS} hesitation trials per configuration; emulator preset "published" (STT ${published.transcription?.firstByteMs} ms, LLM TTFT ${published.chat?.firstByteMs} ms, TTS TTFB ${published.tts?.firstByteMs} ms)`);
      console.log(`host: ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), load ${loadavg().map((l) => l.toFixed(1)).join(' ')}, node ${process.version}; barge-in ${defaults.AGENT_INTERRUPTION_MIN_DURATION_MS} ms voiced`);
      console.log(`the emulated reply "${PERSONA_REPLY}" starts with ${Math.round(firstVoiced(pcmTrack(replyPcm.samples, 16000), 0) ?? 0)} ms of silence before its first voiced window (inside "agent first frame -> room")\n`);
      printTable(configs, results);
    } finally {
      await database.close();
    }
  } finally {
    await bench.stop();
  }
}

runBench(main);
