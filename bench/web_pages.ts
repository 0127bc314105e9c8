/*
 * Web view response times on a realistic amount of data: N calls (20 turns each, metrics on persona
 * turns, scorecards) across two teams, in an embedded PostgreSQL. Measures, over HTTP on loopback
 * with a logged-in admin and manager session: the calls list, a transcript search, a call page.
 * Run: npx tsx bench/web_pages.ts [calls=2000] [requests=100]
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { eq } from 'drizzle-orm';
import { pino } from 'pino';
import { createDatabase } from '../src/adapters/db/client.js';
import { applyMigrations } from '../src/adapters/db/migrate.js';
import { calls, scenarios, scorecards, turnMetrics, turns, users } from '../src/adapters/db/schema.js';
import { seedDemoData } from '../src/adapters/db/seed.js';
import { hashPassword, verifyPassword } from '../src/adapters/password.js';
import { loadConfig } from '../src/config.js';
import { createHttpApp } from '../src/http/app.js';
import { listen } from '../src/http/server.js';
import { makeWebRouter } from '../src/http/web/web_router.js';
import { startBenchPostgres } from './bench_postgres.js';

const callCount = Number(process.argv[2] ?? 2000);
const requests = Number(process.argv[3] ?? 100);
const PIN_SECRET = randomBytes(32).toString('hex');

function summary(name: string, values: number[]): string {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
  return `${name.padEnd(34)} n=${String(values.length).padStart(4)}  median ${at(0.5).toFixed(1).padStart(6)} ms  p95 ${at(0.95).toFixed(1).padStart(6)} ms`;
}

const bench = await startBenchPostgres('web');
const { pg } = bench;
const database = createDatabase(pg.url(), { max: 10 });
try {
  await applyMigrations(database.pool);
  const credentials = (await seedDemoData({ db: database.db, pinSecret: PIN_SECRET, hashPassword, llmModel: 'bench' }))!;
  const reps = await database.db.select().from(users).where(eq(users.role, 'rep'));
  const [scenario] = await database.db.select().from(scenarios).limit(1);

  const started = performance.now();
  const lines = ['Could we talk about your freight spend this quarter?', 'We already have a tool for that.', 'What does it cost you in time each month?'];
  for (let batch = 0; batch < callCount; batch += 200) {
    const size = Math.min(200, callCount - batch);
    const rows = await database.db
      .insert(calls)
      .values(
        Array.from({ length: size }, (_, i) => ({
          path: 'twilio' as const,
          status: 'completed' as const,
          roomName: `bench-${batch + i}`,
          repId: reps[(batch + i) % reps.length]!.id,
          scenarioId: scenario!.id,
          personaId: scenario!.personaId,
          durationSeconds: 120 + ((batch + i) % 200),
          createdAt: new Date(Date.now() - (batch + i) * 60_000),
        })),
      )
      .returning({ id: calls.id, createdAt: calls.createdAt });
    const turnRows = await database.db
      .insert(turns)
      .values(
        rows.flatMap((call) =>
          Array.from({ length: 20 }, (_, seq) => ({
            callId: call.id,
            seq,
            speaker: seq % 2 === 0 ? ('persona' as const) : ('rep' as const),
            text: `${lines[seq % lines.length]} (${seq})`,
            startedAt: new Date(call.createdAt.getTime() + seq * 5000),
            endedAt: new Date(call.createdAt.getTime() + seq * 5000 + 4000),
          })),
        ),
      )
      .returning({ id: turns.id, seq: turns.seq });
    await database.db
      .insert(turnMetrics)
      .values(turnRows.filter((t) => t.seq % 2 === 0).map((t) => ({ turnId: t.id, endOfUtteranceDelayMs: 500, sttMs: 180, llmTtftMs: 320, ttsTtfbMs: 210, endToEndMs: 1300 })));
    await database.db.insert(scorecards).values(rows.map((call, i) => ({ callId: call.id, status: 'scored' as const, overallScore: 50 + (i % 50), passed: i % 3 !== 0, model: 'bench', promptVersion: 'v1' })));
  }
  const seededMs = performance.now() - started;

  const web = makeWebRouter({
    app: { db: database.db, pinSecret: PIN_SECRET, hashPassword },
    pool: database.pool,
    sessionSecret: randomBytes(32).toString('hex'),
    publicBaseUrl: 'http://127.0.0.1',
    verifyPassword,
    logger: pino({ level: 'silent' }),
    defaultVoiceId: 'v',
    defaultLlmModel: 'm',
    pruneExpiredSessions: false,
  });
  const server = await listen(createHttpApp({ logger: pino({ level: 'silent' }), health: { pingDatabase: database.ping, integrations: loadConfig({}).integrations }, web: web.router }), 0, '127.0.0.1');
  const base = `http://127.0.0.1:${server.port}`;

  async function loginAs(email: string, password: string): Promise<string> {
    const form = await fetch(`${base}/login`);
    const cookie = (form.headers.get('set-cookie') ?? '').split(';')[0]!;
    const token = /name="_csrf" value="([^"]+)"/.exec(await form.text())?.[1] ?? '';
    const response = await fetch(`${base}/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: token, email, password }).toString(),
    });
    return (response.headers.get('set-cookie') ?? '').split(';')[0]!;
  }

  async function measure(name: string, cookie: string, path: string): Promise<void> {
    const times: number[] = [];
    let bytes = 0;
    for (let i = 0; i < requests; i += 1) {
      const t0 = performance.now();
      const response = await fetch(`${base}${path}`, { headers: { cookie } });
      const body = await response.text();
      times.push(performance.now() - t0);
      if (response.status !== 200) throw new Error(`${path} answered ${response.status}`);
      bytes = body.length;
    }
    console.log(`${summary(name, times)}  ${(bytes / 1024).toFixed(1)} KiB`);
  }

  const admin = await loginAs(credentials.admin.email, credentials.admin.password);
  const manager = await loginAs(credentials.manager.email, credentials.manager.password);
  const [oneCall] = await database.db.select({ id: calls.id }).from(calls).limit(1);

  console.log(`web view bench: ${callCount} calls x 20 turns (seeded in ${(seededMs / 1000).toFixed(1)} s); ${requests} sequential requests each`);
  console.log(`node ${process.version}, ${os.cpus().length} cpus (${os.cpus()[0]?.model ?? 'unknown'}), load ${os.loadavg()[0]?.toFixed(2)}`);
  await measure('calls list, page 1 (admin)', admin, '/calls');
  await measure('calls list, page 40 (admin)', admin, '/calls?page=40');
  await measure('calls list (manager scope)', manager, '/calls');
  await measure('transcript search "cost you"', admin, `/calls?q=${encodeURIComponent('cost you in time')}`);
  await measure('call page (20 turns, chart)', admin, `/calls/${oneCall!.id}`);
  await web.close();
  await server.close();
} finally {
  await database.close();
  await bench.stop();
}
