/*
 * Fault run (issue 15): the real PostgreSQL is stopped for OUTAGE seconds in the middle of request
 * load and started again; nothing is restarted on our side. Prints, per phase, how requests ended
 * and how long the slowest took (every wait must stay under the pool's timeouts: no hang), how long
 * after the restart the service answered normally again, and whether the turns an agent-style
 * turn writer recorded during the outage all reached the database.
 * Load: closed loop, CONCURRENCY workers cycling GET /healthz, GET /api/personas, POST /api/personas
 * (a transaction) and a signed Twilio POST /twilio/voice (the call path's first database read).
 * Timeouts are the production defaults from src/config.ts.
 * Run: npx tsx bench/db_outage.ts [outageSeconds=20] [concurrency=6]
 */
import { randomBytes } from 'node:crypto';
import os, { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { eq } from 'drizzle-orm';
import { createCallRoutingStore } from '../src/adapters/db/call_routing_store.js';
import { createDatabase } from '../src/adapters/db/client.js';
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from '../src/adapters/db/embedded.js';
import { applyMigrations } from '../src/adapters/db/migrate.js';
import { calls, turns } from '../src/adapters/db/schema.js';
import { createLogger } from '../src/adapters/logger.js';
import { hashPassword } from '../src/adapters/password.js';
import { createTwilioSignatureVerifier } from '../src/adapters/twilio/signature.js';
import { createApiToken } from '../src/app/api_tokens.js';
import { createUser } from '../src/app/users.js';
import { databaseTimeouts, loadConfig } from '../src/config.js';
import { systemActor } from '../src/domain/access.js';
import { lockoutRuleFromMinutes } from '../src/domain/lockout.js';
import { createHttpApp } from '../src/http/app.js';
import { listen } from '../src/http/server.js';
import { createTurnWriter } from '../agent/turn_writer.js';
import { freePort } from '../test/support/ports.js';
import { createTwilioEmulator } from '../test/support/twilio_caller.js';

const OUTAGE_S = Number(process.argv[2] ?? 20);
const CONCURRENCY = Number(process.argv[3] ?? 6);
const WARM_S = 5;
const AFTER_S = 15;
const PUBLIC_BASE_URL = 'https://practice.example.test';
const PIN_SECRET = randomBytes(32).toString('hex');
const AUTH_TOKEN = randomBytes(16).toString('hex');

const config = loadConfig({});
const timeouts = databaseTimeouts(config);
const logger = createLogger({ level: 'silent', redactPii: false });

console.log('database outage fault run');
console.log(`  machine: ${os.cpus().length} cpus, load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}; node ${process.version}`);
console.log(`  timeouts: connection ${timeouts.connectionTimeoutMs} ms, statement ${timeouts.statementTimeoutMs} ms, idle in transaction ${timeouts.idleInTransactionTimeoutMs} ms`);

const dataDir = join(tmpdir(), `practice-line-fault-${process.pid}`);
const port = await freePort();
const password = randomBytes(12).toString('hex');
const start = () => startEmbeddedPostgres({ dataDir, port, password, persistent: true });
let pg: EmbeddedPostgresHandle = await start();
await pg.createDatabase('fault');
const database = createDatabase(pg.url('fault'), { max: 10, ...timeouts });
await applyMigrations(database.pool);

const deps = { db: database.db, pinSecret: PIN_SECRET, hashPassword };
const admin = await createUser(deps, systemActor, { role: 'admin', name: 'Fault Admin', email: 'fault@example.test' });
const token = (await createApiToken(deps, systemActor, { name: 'fault', userId: admin.id })).token;
const [call] = await database.db.insert(calls).values({ path: 'twilio', roomName: `fault-${randomBytes(4).toString('hex')}`, status: 'in_progress', answeredAt: new Date() }).returning();

const never = () => Promise.reject(new Error('no LiveKit in this run'));
const app = createHttpApp({
  logger,
  health: { pingDatabase: database.ping, integrations: config.integrations },
  managementApi: { ...deps, personaDefaults: { llmModel: 'llama', voiceId: 'voice' } },
  twilio: {
    publicBaseUrl: PUBLIC_BASE_URL,
    verifySignature: createTwilioSignatureVerifier(AUTH_TOKEN),
    routing: { db: database.db, store: createCallRoutingStore(database.db), pinSecret: PIN_SECRET, lockout: lockoutRuleFromMinutes(5, 15, 15), rooms: { createRoom: never, updateRoomMetadata: never, deleteRoom: never, hasAgent: never }, agentName: 'persona', onCallEnded: async () => undefined, logger },
    sip: { host: 'sip.example.test' },
    logger,
  },
});
const http = await listen(app, 0, '127.0.0.1');
const base = `http://127.0.0.1:${http.port}`;
const twilio = createTwilioEmulator({ appUrl: base, publicBaseUrl: PUBLIC_BASE_URL, authToken: AUTH_TOKEN });

type Phase = 'before' | 'outage' | 'after';
interface Sample { kind: string; phase: Phase; at: number; ms: number; status: number; ok: boolean }
const samples: Sample[] = [];
let phase: Phase = 'before';
let running = true;
const t0 = performance.now();

const requests: [string, () => Promise<{ status: number; ok: boolean }>][] = [
  ['GET /healthz', async () => { const r = await fetch(`${base}/healthz`); await r.arrayBuffer(); return { status: r.status, ok: r.status === 200 }; }],
  ['GET /api/personas', async () => { const r = await fetch(`${base}/api/personas`, { headers: { authorization: `Bearer ${token}` } }); await r.arrayBuffer(); return { status: r.status, ok: r.status === 200 }; }],
  ['POST /api/personas', async () => {
    const body = JSON.stringify({ name: `P ${randomBytes(3).toString('hex')}`, role: 'CFO', company: 'Co', personality: 'Terse.', objections: ['No.'], openingLine: 'Yes?' });
    const r = await fetch(`${base}/api/personas`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body });
    await r.arrayBuffer();
    return { status: r.status, ok: r.status === 201 };
  }],
  ['POST /twilio/voice', async () => {
    const r = await twilio.call({ from: '+15550001111', to: '+15550002222' }).start();
    // Normal: the PIN prompt (<Gather>); the database down: a spoken "try again later" and hang-up.
    return { status: r.status, ok: r.status === 200 && r.body.includes('<Gather') };
  }],
];

async function worker(index: number): Promise<void> {
  for (let i = index; running; i += 1) {
    const [kind, send] = requests[i % requests.length]!;
    const started = performance.now();
    const at = started - t0;
    const sampledPhase = phase;
    try {
      const { status, ok } = await send();
      samples.push({ kind, phase: sampledPhase, at, ms: performance.now() - started, status, ok });
    } catch {
      samples.push({ kind, phase: sampledPhase, at, ms: performance.now() - started, status: 0, ok: false });
    }
  }
}

// An agent-style writer records one turn every 500 ms for the whole run, outage included.
const writer = createTurnWriter({ db: database.db, logger, callId: call!.id, attemptTimeoutMs: timeouts.statementTimeoutMs });
let recorded = 0;
const turnTimer = setInterval(() => {
  const at = new Date();
  writer.record({ speaker: recorded % 2 ? 'rep' : 'persona', text: `turn ${recorded}`, startedAt: at, endedAt: at, interrupted: false });
  recorded += 1;
}, 500);

const workers = Array.from({ length: CONCURRENCY }, (_, i) => worker(i));
await sleep(WARM_S * 1000);
phase = 'outage';
const stopAt = performance.now() - t0;
await pg.stop();
console.log(`  postgres stopped at ${(stopAt / 1000).toFixed(1)} s`);
await sleep(OUTAGE_S * 1000);
pg = await start();
const restartAt = performance.now() - t0;
phase = 'after';
console.log(`  postgres running again at ${(restartAt / 1000).toFixed(1)} s (down ${((restartAt - stopAt) / 1000).toFixed(1)} s)`);
await sleep(AFTER_S * 1000);
running = false;
clearInterval(turnTimer);
await Promise.all(workers);
const unwritten = await writer.drain(30_000);

const q = (values: number[], p: number) => { const s = [...values].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? NaN; };
for (const p of ['before', 'outage', 'after'] as const) {
  console.log(`  ${p}:`);
  for (const [kind] of requests) {
    const rows = samples.filter((s) => s.phase === p && s.kind === kind);
    const statuses = Object.entries(rows.reduce<Record<string, number>>((acc, s) => ({ ...acc, [`${s.status}${s.ok ? '' : '!'}`]: (acc[`${s.status}${s.ok ? '' : '!'}`] ?? 0) + 1 }), {})).map(([k, v]) => `${k}×${v}`).join(' ');
    const ms = rows.map((s) => s.ms);
    console.log(`    ${kind.padEnd(20)} n=${String(rows.length).padStart(5)}  p50 ${q(ms, 0.5).toFixed(0).padStart(5)} ms  p95 ${q(ms, 0.95).toFixed(0).padStart(5)} ms  max ${Math.max(...ms).toFixed(0).padStart(5)} ms  [${statuses}]  (! = not a normal answer)`);
  }
}
const firstNormal = samples.filter((s) => s.at >= restartAt && s.ok).sort((a, b) => a.at - b.at)[0];
const allNormalFrom = samples.filter((s) => s.at >= restartAt && !s.ok).reduce((latest, s) => Math.max(latest, s.at + s.ms), restartAt);
console.log(`  recovery: first normal answer ${firstNormal ? ((firstNormal.at + firstNormal.ms - restartAt) / 1000).toFixed(2) : 'never'} s after the restart; every answer normal from ${((allNormalFrom - restartAt) / 1000).toFixed(2)} s after it`);
console.log(`  slowest request of the run: ${Math.max(...samples.map((s) => s.ms)).toFixed(0)} ms`);
const stored = await database.db.select({ seq: turns.seq }).from(turns).where(eq(turns.callId, call!.id));
console.log(`  turns: ${recorded} recorded, ${stored.length} stored, ${unwritten} unwritten after the drain; seq 1..${stored.length} ${stored.every((t, i, all) => all.some((x) => x.seq === i + 1)) ? 'without gaps' : 'WITH GAPS'}`);
console.log(`  pool after the run: total ${database.pool.totalCount}, idle ${database.pool.idleCount}, waiting ${database.pool.waitingCount}`);

await http.close();
await database.close();
await pg.stop();
const { rm } = await import('node:fs/promises');
await rm(dataDir, { recursive: true, force: true });
process.exit(0);
