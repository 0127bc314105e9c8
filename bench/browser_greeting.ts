// Greeting latency in the browser: from the practice page having joined the room (room.connect
// resolved) to the first persona audio the page hears (remote track level), over N calls on the
// real stack: Debian chromium with a fake microphone, livekit-server over loopback WebRTC, the agent
// worker process, provider emulators with Groq's/ElevenLabs' published latencies. Prints figures;
// asserts nothing (docs/architecture.md, "Layers and house style").
//
//   npm run bench:browser-greeting -- [--calls 7] [--preset published|none]
import { cpus } from 'node:os';
import { eq } from 'drizzle-orm';
import { createDatabase } from '../src/adapters/db/client.js';
import { applyMigrations } from '../src/adapters/db/migrate.js';
import { calls } from '../src/adapters/db/schema.js';
import { sleep, waitFor } from '../test/support/wait.js';
import { renderMicrophoneWav, startPracticeWorld } from '../test/web/practice_world.js';
import { runBench, startBenchPostgres } from './bench_postgres.js';

interface Figures {
  joinedAt: number | null;
  agentJoinedAt: number | null;
  firstAudioAt: number | null;
}

const arg = (name: string, fallback: string): string => {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? (process.argv[index + 1] ?? fallback) : fallback;
};

function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

const line = (label: string, values: readonly number[]) =>
  console.log(`${label.padEnd(44)} p50 ${quantile(values, 0.5).toFixed(0).padStart(5)} ms   p95 ${quantile(values, 0.95).toFixed(0).padStart(5)} ms   min ${Math.min(...values).toFixed(0).padStart(5)}   max ${Math.max(...values).toFixed(0).padStart(5)}   n=${values.length}`);

async function main(): Promise<void> {
  const count = Number(arg('calls', '7'));
  const preset = arg('preset', 'published');
  const bench = await startBenchPostgres('browser');
  const { pg } = bench;
  try {
    await pg.createDatabase('bench');
    const handle = createDatabase(pg.url('bench'));
    await applyMigrations(handle.pool);
    const database = { ...handle, url: pg.url('bench') };
    // A silent microphone: the greeting is all this measures.
    const microphoneWav = await renderMicrophoneWav([], { leadInMs: 1000, gapMs: 0, tailMs: 120_000 });
    const world = await startPracticeWorld({ database, utterances: [], script: [], microphoneWav });
    try {
      if (preset === 'published') {
        world.agents.groq.knobs.preset('published');
        world.agents.elevenlabs.knobs.preset('published');
      }
      const seeded = await world.seed({ maxAttempts: null });
      const context = await world.browser.newContext();
      context.setDefaultTimeout(60_000);
      const page = await context.newPage();
      // Sign in as the rep with an emailed link, as a rep would.
      await page.goto(`${world.base}/login`);
      await page.locator('#f-link-email').fill(seeded.rep.email);
      await page.getByRole('button', { name: 'Email me a sign-in link' }).click();
      const mail = await waitFor('sign-in email', async () => world.smtp.messages.find((m) => m.envelopeTo.includes(seeded.rep.email)));
      const path = /http:\/\/127\.0\.0\.1(\/login\/link\/[A-Za-z0-9_-]+)/.exec(mail.parsed.text ?? '')![1]!;
      await page.goto(`${world.base}${path}`);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.waitForURL(`${world.base}/me`);

      const joinToAudio: number[] = [];
      const joinToAgent: number[] = [];
      const agentToAudio: number[] = [];
      for (let i = 0; i < count; i += 1) {
        await page.goto(`${world.base}/me`);
        await page.getByRole('button', { name: 'Practise now' }).click();
        await page.waitForURL(/\/practice\/calls\//);
        const callId = /\/practice\/calls\/([0-9a-f-]{36})$/.exec(page.url())![1]!;
        await page.waitForFunction(() => (globalThis as unknown as { practice: Figures }).practice.firstAudioAt !== null, undefined, { timeout: 60_000 });
        const figures = await page.evaluate(() => (globalThis as unknown as { practice: Figures }).practice);
        joinToAudio.push(figures.firstAudioAt! - figures.joinedAt!);
        joinToAgent.push(Math.max(0, figures.agentJoinedAt! - figures.joinedAt!));
        agentToAudio.push(figures.firstAudioAt! - Math.max(figures.joinedAt!, figures.agentJoinedAt!));
        console.log(`call ${i + 1}: page join -> first persona audio ${(figures.firstAudioAt! - figures.joinedAt!).toFixed(0)} ms`);
        await sleep(2500);
        await page.getByRole('button', { name: 'Hang up' }).click();
        await page.waitForURL(`${world.base}/calls/${callId}`);
        await waitFor('call closed', async () => {
          const [row] = await world.database.db.select().from(calls).where(eq(calls.id, callId));
          return row && row.status !== 'dispatching' && row.status !== 'in_progress' ? true : undefined;
        }, 60_000);
      }
      console.log(`\nbrowser greeting latency (${count} calls, provider preset ${preset}, ${cpus().length} CPUs, chromium headless, loopback WebRTC)`);
      line('page join -> first persona audio', joinToAudio);
      line('  page join -> agent seen in the room', joinToAgent);
      line('  agent seen (or join) -> first persona audio', agentToAudio);
      await context.close();
    } finally {
      await world.stop();
    }
  } finally {
    await bench.stop();
  }
}

runBench(main);
