/*
 * Dispatch figures (docs/architecture.md, "Figures we track"): `/twilio/pin` to TwiML, including the real room
 * creation with agent dispatch on livekit-server, at a fixed arrival rate (open loop: latency is
 * measured from each request's scheduled time, so a stall is not hidden by sending less); then
 * `/twilio/voice` throughput with a fixed number of callers in flight. Twilio is emulated by signing
 * requests with twilio's own helper; Postgres is embedded; everything is on loopback.
 * Run: npm run bench:dispatch -- [rate=50] [seconds=20] [voiceSeconds=10] [voiceConcurrency=16]
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { createDatabase } from '../src/adapters/db/client.js';
import { createCallRoutingStore } from '../src/adapters/db/call_routing_store.js';
import { applyMigrations } from '../src/adapters/db/migrate.js';
import { createLivekitRoomService } from '../src/adapters/livekit/room_service.js';
import { createLogger } from '../src/adapters/logger.js';
import { createTwilioSignatureVerifier } from '../src/adapters/twilio/signature.js';
import type { CallRoutingDeps } from '../src/app/resolve_call.js';
import { loadConfig } from '../src/config.js';
import { lockoutRuleFromMinutes } from '../src/domain/lockout.js';
import { createHttpApp } from '../src/http/app.js';
import { listen } from '../src/http/server.js';
import { startStack } from '../sip/stack/stack.js';
import { seedPracticeCall } from '../test/support/call_routing_world.js';
import { createTwilioEmulator, findVerb } from '../test/support/twilio_caller.js';
import { startBenchPostgres } from './bench_postgres.js';

const rate = Number(process.argv[2] ?? 50);
const seconds = Number(process.argv[3] ?? 20);
const voiceSeconds = Number(process.argv[4] ?? 10);
const voiceConcurrency = Number(process.argv[5] ?? 16);
const PUBLIC_BASE_URL = 'https://practice.example.test';
const REPS = 200;

function quantiles(values: number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
  return { n: sorted.length, p50: at(0.5), p95: at(0.95), p99: at(0.99), max: sorted.at(-1) ?? NaN };
}
const ms = (value: number) => `${value.toFixed(1).padStart(7)} ms`;

const cpus = os.cpus();
console.log('dispatch bench');
console.log(`  machine: ${cpus.length} cpus (${cpus[0]?.model.trim() ?? 'unknown'}), ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, load ${os.loadavg().map((load) => load.toFixed(2)).join(' ')}`);
console.log(`  node ${process.version}, ${os.platform()} ${os.release()}`);

const bench = await startBenchPostgres('dispatch');
const { pg } = bench;
const database = createDatabase(pg.url(), { max: 10 });
const apiKey = `APIpl${randomBytes(6).toString('hex')}`;
const apiSecret = randomBytes(24).toString('base64url');
const stack = await startStack({ apiKey, apiSecret, logLevel: 'warn' });
const logger = createLogger({ level: 'silent', redactPii: false });

try {
  await applyMigrations(database.pool);
  const pinSecret = randomBytes(32).toString('hex');
  const authToken = randomBytes(16).toString('hex');
  // Timed separately, so the figures split into LiveKit's share and ours (Postgres + HTTP + TwiML).
  const livekitRooms = createLivekitRoomService({ url: stack.livekitUrl, apiKey, apiSecret });
  const createRoomMs: number[] = [];
  const rooms: CallRoutingDeps['rooms'] = {
    ...livekitRooms,
    async createRoom(input) {
      const begun = performance.now();
      try {
        await livekitRooms.createRoom(input);
      } finally {
        createRoomMs.push(performance.now() - begun);
      }
    },
  };
  const routing: CallRoutingDeps = {
    db: database.db,
    store: createCallRoutingStore(database.db),
    pinSecret,
    lockout: lockoutRuleFromMinutes(5, 15, 15),
    rooms,
    agentName: 'practice-line-persona-bench',
    onCallEnded: async () => undefined,
    logger,
  };
  const app = createHttpApp({
    logger,
    health: { pingDatabase: database.ping, integrations: loadConfig({}).integrations },
    twilio: { publicBaseUrl: PUBLIC_BASE_URL, verifySignature: createTwilioSignatureVerifier(authToken), routing, sip: { host: '127.0.0.1:5060' }, logger },
  });
  const server = await listen(app, 0, '127.0.0.1');
  const twilio = createTwilioEmulator({ appUrl: `http://127.0.0.1:${server.port}`, publicBaseUrl: PUBLIC_BASE_URL, authToken });

  const people: Awaited<ReturnType<typeof seedPracticeCall>>[] = [];
  for (let i = 0; i < REPS; i += 1) people.push(await seedPracticeCall({ database, pinSecret }, { maxAttempts: null }));
  console.log(`  seeded ${REPS} reps with assignments; livekit-server ${stack.versions.livekitServer}`);

  const gather = { status: 200, body: '', verbs: [{ verb: 'Gather', attributes: { action: `${PUBLIC_BASE_URL}/twilio/pin?try=1` }, text: '', children: [] }] };
  let sent = 0;
  async function pinCall(): Promise<boolean> {
    const person = people[sent++ % people.length]!;
    const reply = await twilio.call({ from: person.repPhone, to: '+15550009999' }).keyDigits(gather, person.pin);
    return reply.status === 200 && findVerb(reply.verbs, 'Sip') !== undefined;
  }

  // Warm-up: connections, JIT, prepared plans.
  for (let i = 0; i < 20; i += 1) await pinCall();
  createRoomMs.length = 0;

  const total = Math.round(rate * seconds);
  const fromSchedule: number[] = [];
  const service: number[] = [];
  let failures = 0;
  const start = performance.now();
  const inflight: Promise<void>[] = [];
  for (let i = 0; i < total; i += 1) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    const sentAt = performance.now();
    inflight.push(
      pinCall()
        .then((ok) => {
          if (!ok) failures += 1;
        })
        .catch(() => {
          failures += 1;
        })
        .finally(() => {
          const end = performance.now();
          fromSchedule.push(end - due);
          service.push(end - sentAt);
        }),
    );
  }
  await Promise.all(inflight);
  const elapsed = (performance.now() - start) / 1000;
  const pin = quantiles(fromSchedule);
  const pinService = quantiles(service);
  console.log(`\n/twilio/pin -> <Dial><Sip> with room + agent dispatch created on livekit-server`);
  console.log(`  offered ${rate}/s for ${seconds} s: ${total} calls in ${elapsed.toFixed(1)} s (${(total / elapsed).toFixed(1)}/s), ${failures} failed`);
  console.log(`  latency from scheduled send: p50 ${ms(pin.p50)}  p95 ${ms(pin.p95)}  p99 ${ms(pin.p99)}  max ${ms(pin.max)}`);
  console.log(`  latency from actual send:    p50 ${ms(pinService.p50)}  p95 ${ms(pinService.p95)}  p99 ${ms(pinService.p99)}  max ${ms(pinService.max)}`);
  const room = quantiles(createRoomMs);
  console.log(`  of which createRoom (LiveKit): p50 ${ms(room.p50)}  p95 ${ms(room.p95)}  p99 ${ms(room.p99)}`);

  // /twilio/voice: greeting + <Gather> (lock-out check, direct-line lookup), closed loop.
  const voiceLatencies: number[] = [];
  let voiceFailures = 0;
  const voiceEnd = performance.now() + voiceSeconds * 1000;
  const voiceStart = performance.now();
  await Promise.all(
    Array.from({ length: voiceConcurrency }, async (_, worker) => {
      while (performance.now() < voiceEnd) {
        const begun = performance.now();
        const reply = await twilio.call({ from: `+1555${String(worker).padStart(7, '0')}`, to: '+15550009999' }).start();
        if (reply.status !== 200 || !findVerb(reply.verbs, 'Gather')) voiceFailures += 1;
        voiceLatencies.push(performance.now() - begun);
      }
    }),
  );
  const voiceElapsed = (performance.now() - voiceStart) / 1000;
  const voice = quantiles(voiceLatencies);
  console.log(`\n/twilio/voice -> greeting + <Gather>, ${voiceConcurrency} in flight for ${voiceSeconds} s`);
  console.log(`  ${(voice.n / voiceElapsed).toFixed(0)} requests/s, ${voiceFailures} failed; p50 ${ms(voice.p50)}  p99 ${ms(voice.p99)}`);
  console.log(`\n  load after: ${os.loadavg().map((load) => load.toFixed(2)).join(' ')}`);
  await server.close();
} finally {
  await stack.stop();
  await database.close();
  await bench.stop();
}
