// Turn latency through the real stack (npm run bench:turn): test phone -> livekit-sip ->
// livekit-server -> agent worker -> Groq/ElevenLabs emulators at their published latencies.
// Prints p50/p95 of turn latency (last voiced sample the phone sends -> first voiced sample it
// hears back), the breakdown the agent stored per turn, the overhead (total minus emulated
// provider time minus configured endpointing silence) and greeting latency (SIP answer -> first
// voiced sample). Figures only; nothing is asserted.
//   npm run bench:turn -- [--turns 22] [--calls 2]
import { eq } from 'drizzle-orm';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { createDatabase } from '../src/adapters/db/client.js';
import { startEmbeddedPostgres } from '../src/adapters/db/embedded.js';
import { applyMigrations } from '../src/adapters/db/migrate.js';
import { turnMetrics, turns } from '../src/adapters/db/schema.js';
import { createPostCallQueue } from '../src/adapters/queue/post_call_queue.js';
import { loadConfig } from '../src/config.js';
import { renderSpeechAt } from '../test/emulators/audio.js';
import { PRESETS } from '../test/emulators/knobs.js';
import { startAgentWorld } from '../test/agent/agent_world.js';
import { rmsDbfs } from '../sip/phone/audio.js';
import { freePort } from '../test/support/ports.js';
import { phoneSampleRate, type PhoneCall } from '../sip/phone/phone.js';

const args = process.argv.slice(2);
const argNumber = (name: string, fallback: number) => {
  const index = args.indexOf(`--${name}`);
  return index >= 0 ? Number(args[index + 1]) : fallback;
};
const TURNS = argNumber('turns', 22);
const CALLS = argNumber('calls', 2);

const SENTENCES = [
  'Hi Diane, this is Riley from Parcel Point.',
  'Do you have two minutes to talk about shipping?',
  'How many parcels do you send each day?',
  'Which carriers do you use at the moment?',
  'What does a late delivery cost you?',
  'We cut parcel costs by twelve percent for firms like yours.',
  'Would a short pilot on one route be useful?',
  'Who else would need to be part of that decision?',
  'Could we look at last month of invoices together?',
  'How does Thursday morning sound for a call?',
  'I will send a short summary by email today.',
];
const REPLY = 'Okay, tell me more.';
const VOICED_DBFS = -40;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
};
const fmt = (value: number) => (Number.isFinite(value) ? `${Math.round(value)}`.padStart(6) : '     -');

/** Last voiced sample in the PCM, in ms from its start. */
function lastVoicedMs(samples: Int16Array): number {
  const window = phoneSampleRate / 100;
  for (let end = samples.length; end - window >= 0; end -= window) {
    if (rmsDbfs(samples, end - window, end) > VOICED_DBFS) return (end / phoneSampleRate) * 1000;
  }
  return 0;
}

/** First 10 ms window at or after `fromMs` where the phone heard voice; undefined if none yet. */
function firstVoicedAfter(call: PhoneCall, fromMs: number): number | undefined {
  const recording = call.recording();
  const window = phoneSampleRate / 100;
  for (let start = Math.floor((fromMs / 1000) * phoneSampleRate); start + window <= recording.length; start += window) {
    if (rmsDbfs(recording, start, start + window) > VOICED_DBFS) return (start / phoneSampleRate) * 1000;
  }
  return undefined;
}

/** Waits until the phone has heard `quietMs` of silence after `fromMs`. */
async function waitForQuiet(call: PhoneCall, fromMs: number, quietMs: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const recording = call.recording();
    const now = (recording.length / phoneSampleRate) * 1000;
    if (now - fromMs > quietMs) {
      const from = Math.floor(((now - quietMs) / 1000) * phoneSampleRate);
      if (rmsDbfs(recording, from, recording.length) < VOICED_DBFS - 5) return;
    }
    await sleep(100);
  }
}

async function main(): Promise<void> {
  const config = loadConfig({});
  const dataDir = await mkdtemp(join(tmpdir(), 'bench-turn-'));
  const pg = await startEmbeddedPostgres({ dataDir: join(dataDir, 'pg'), port: await freePort(), password: 'bench' });
  const logger = pino({ level: 'silent' });
  try {
    await pg.createDatabase('bench');
    const database = createDatabase(pg.url('bench'));
    await applyMigrations(database.pool);
    const queue = createPostCallQueue({ pool: database.pool, logger });
    await queue.start();
    await queue.stop();

    const world = await startAgentWorld({
      databaseUrl: pg.url('bench'),
      db: database.db,
      utterances: SENTENCES,
      script: [{ reply: REPLY }],
      preset: 'published',
      workerEnv: { LOG_LEVEL: 'info' },
    });
    const rows: { totalMs: number; callId: string; seq: number; lastVoicedEpochMs: number; heardEpochMs: number }[] = [];
    const greetings: number[] = [];
    try {
      const perCall = Math.ceil(TURNS / CALLS);
      for (let c = 0; c < CALLS; c += 1) {
        const { callId, room } = await world.createCall({
          v: 1,
          stage: 'ready',
          persona: {
            name: 'Diane Carter', role: 'Chief Financial Officer', company: 'Northwind Logistics', personality: 'Busy.', objections: [],
            openingLine: 'Diane Carter speaking.', voiceId: 'EXAVITQu4vr4xnYQH9Pm', language: 'en', llmModel: 'llama-3.3-70b-versatile', temperature: 0.7,
          },
          scenario: { title: 'Bench', objective: 'Measure.', context: '', difficulty: 'easy', rubric: [], timeLimitSeconds: 900 },
          rep: { id: '0d6f3a52-8a4e-4f8a-a0f5-0f6c1b7d9e21', firstName: 'Riley' },
        });
        const { call } = await world.dialRoom(room);
        const greetingAt = await (async () => {
          for (let i = 0; i < 200; i += 1) {
            const heard = firstVoicedAfter(call, call.answeredAtMs);
            if (heard !== undefined) return heard;
            await sleep(50);
          }
          return undefined;
        })();
        if (greetingAt !== undefined) greetings.push(greetingAt - call.answeredAtMs);
        await waitForQuiet(call, call.now(), 800, 15_000);

        let seq = 1; // the greeting
        for (let t = 0; t < perCall; t += 1) {
          const sentence = SENTENCES[(c * perCall + t) % SENTENCES.length]!;
          const pcm = await renderSpeechAt(sentence, phoneSampleRate);
          await call.playPcm(pcm.samples, sentence);
          const sent = call.sent().filter((item) => item.label === sentence).at(-1)!;
          const lastVoiced = sent.startMs + lastVoicedMs(pcm.samples);
          let heard: number | undefined;
          const deadline = Date.now() + 15_000;
          while (heard === undefined && Date.now() < deadline) {
            heard = firstVoicedAfter(call, lastVoiced + 20);
            if (heard === undefined) await sleep(20);
          }
          seq += 2;
          // The phone's clock is performance.now() since call.t0; the agent stores epoch times.
          const epoch = (ms: number) => performance.timeOrigin + call.t0 + ms;
          if (heard !== undefined) rows.push({ totalMs: heard - lastVoiced, callId, seq, lastVoicedEpochMs: epoch(lastVoiced), heardEpochMs: epoch(heard) });
          await waitForQuiet(call, call.now(), 800, 15_000);
        }
        await call.hangup();
        await sleep(1000);
      }
      await sleep(3000);

      const breakdown = { eou: [] as number[], stt: [] as number[], ttft: [] as number[], ttfb: [] as number[], e2e: [] as number[], transport: [] as number[], overhead: [] as number[], total: [] as number[], inbound: [] as number[], outbound: [] as number[], agentWork: [] as number[] };
      const published = PRESETS.published;
      const emulatedProviderMs = (published.transcription?.firstByteMs ?? 0) + (published.chat?.firstByteMs ?? 0) + (published.tts?.firstByteMs ?? 0);
      const endpointingMs = config.AGENT_ENDPOINTING_MIN_DELAY_MS;
      for (const row of rows) {
        const callTurns = await database.db.select().from(turns).where(eq(turns.callId, row.callId));
        const turn = callTurns.find((t) => t.seq === row.seq && t.speaker === 'persona');
        const repTurn = callTurns.find((t) => t.seq === row.seq - 1 && t.speaker === 'rep');
        if (turn) breakdown.outbound.push(row.heardEpochMs - turn.startedAt.getTime());
        if (repTurn) breakdown.inbound.push(repTurn.endedAt.getTime() - row.lastVoicedEpochMs);
        const [m] = turn ? await database.db.select().from(turnMetrics).where(eq(turnMetrics.turnId, turn.id)) : [];
        breakdown.total.push(row.totalMs);
        breakdown.overhead.push(row.totalMs - emulatedProviderMs - endpointingMs);
        if (m) {
          if (m.endOfUtteranceDelayMs !== null) breakdown.eou.push(m.endOfUtteranceDelayMs);
          if (m.sttMs !== null) breakdown.stt.push(m.sttMs);
          if (m.llmTtftMs !== null) breakdown.ttft.push(m.llmTtftMs);
          if (m.ttsTtfbMs !== null) breakdown.ttfb.push(m.ttsTtfbMs);
          if (m.endToEndMs !== null && m.endOfUtteranceDelayMs !== null && m.llmTtftMs !== null && m.ttsTtfbMs !== null) {
            breakdown.agentWork.push(m.endToEndMs - m.endOfUtteranceDelayMs - m.llmTtftMs - m.ttsTtfbMs);
          }
          if (m.endToEndMs !== null) {
            breakdown.e2e.push(m.endToEndMs);
            breakdown.transport.push(row.totalMs - m.endToEndMs);
          }
        }
      }
      console.log(`\nbench:turn  ${rows.length} turns over ${CALLS} call(s), emulator preset "published" (STT ${published.transcription?.firstByteMs} ms, LLM TTFT ${published.chat?.firstByteMs} ms, TTS TTFB ${published.tts?.firstByteMs} ms)`);
      console.log(`host: ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), node ${process.version}; endpointing silence ${endpointingMs} ms, barge-in ${config.AGENT_INTERRUPTION_MIN_DURATION_MS} ms voiced\n`);
      console.log('                                     p50    p95');
      const line = (label: string, values: number[]) => console.log(`${label.padEnd(34)}${fmt(percentile(values, 50))} ${fmt(percentile(values, 95))}   (n=${values.length})`);
      line('turn latency (phone -> phone)', breakdown.total);
      line('  endpointing (EOU delay, incl. STT)', breakdown.eou);
      line('  STT request (Whisper)', breakdown.stt);
      line('  LLM TTFT', breakdown.ttft);
      line('  TTS TTFB', breakdown.ttfb);
      line('  agent end-to-end (agent clock)', breakdown.e2e);
      line('  agent glue (e2e - eou - ttft - ttfb)', breakdown.agentWork);
      line('  transport + VAD lag (total - e2e)', breakdown.transport);
      line('    inbound (phone -> agent VAD end)', breakdown.inbound);
      line('    outbound (agent first frame -> phone)', breakdown.outbound);
      line(`overhead (total - ${emulatedProviderMs} - ${endpointingMs})`, breakdown.overhead);
      line('greeting (SIP answer -> voice)', greetings);
    } finally {
      await world.stop();
      await database.close();
    }
  } finally {
    await pg.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
