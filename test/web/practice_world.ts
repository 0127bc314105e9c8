// Everything a browser practice call needs, for real: the agent world (livekit-server, the provider
// emulators, the agent worker process), a database, a loopback SMTP server, the post-call worker as
// the dispatch service runs it, the web view with browser practice wired to the stack, and Debian's
// chromium with a fake microphone that plays a WAV file. Shared by test/web/browser_practice.test.ts
// and bench/browser_greeting.ts.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { chromium, type Browser } from 'playwright-core';
import { pino } from 'pino';
import { createCallRoutingStore } from '../../src/adapters/db/call_routing_store.js';
import { loadConfig } from '../../src/config.js';
import { users, personas } from '../../src/adapters/db/schema.js';
import { createGroqScorecardModel } from '../../src/adapters/groq/scorecard_model.js';
import { createLivekitCallerTokens } from '../../src/adapters/livekit/caller_token.js';
import { createLivekitRoomService } from '../../src/adapters/livekit/room_service.js';
import { createSmtpMailer } from '../../src/adapters/mail/mailer.js';
import { hashPassword, verifyPassword } from '../../src/adapters/password.js';
import { createDiskStorage } from '../../src/adapters/storage/disk_storage.js';
import { createPostCallQueue, type PostCallQueue } from '../../src/adapters/queue/post_call_queue.js';
import { runPostCall } from '../../src/app/post_call.js';
import { createHttpApp } from '../../src/http/app.js';
import { listen, type RunningServer } from '../../src/http/server.js';
import { makeWebRouter } from '../../src/http/web/web_router.js';
import { startAgentWorld, type AgentWorld } from '../agent/agent_world.js';
import type { ReplyRule } from '../emulators/persona_script.js';
import { renderSpeechAt } from '../emulators/audio.js';
import { encodeWav } from '../../sip/phone/audio.js';
import { seedPracticeCall } from '../support/call_routing_world.js';
import type { TestDatabase } from '../support/db.js';
import { startSmtpSink, type SmtpSink } from '../support/smtp_sink.js';

export const PERSONA_MODEL = 'llama-3.3-70b-versatile';
export const MANAGER_PASSWORD = 'manager-password-for-tests';
const PIN_SECRET = 'practice-world-pin-secret-0123456789abcdef';
/** WEB_AGENT_JOIN_TIMEOUT_SECONDS of the web view whose agent never comes. */
export const NO_AGENT_JOIN_TIMEOUT_SECONDS = 3;

export interface PracticeWorld {
  database: Pick<TestDatabase, 'db' | 'pool' | 'url' | 'ping' | 'close'>;
  agents: AgentWorld;
  smtp: SmtpSink;
  queue: PostCallQueue;
  base: string;
  /** The browser's way to livekit-server's signalling port: take it down (drops and refuses connections) and up again. */
  signalling: { down(): void; up(): void };
  /** The web view whose browser calls dispatch to an agent that never comes (its page waits NO_AGENT_JOIN_TIMEOUT_SECONDS). */
  baseWithoutAgent: string;
  browser: Browser;
  /** A manager (with a password), their rep, a persona whose model the Groq emulator serves, a scenario and an assignment. */
  seed(options?: { maxAttempts?: number | null; timeLimitSeconds?: number }): Promise<Awaited<ReturnType<typeof seedPracticeCall>>>;
  stop(): Promise<void>;
}

/**
 * The WAV the fake microphone plays once (`%noloop`), then silence: `leadInMs` of quiet (the
 * greeting plays meanwhile), then each sentence with `gapMs` between them, then `tailMs` of quiet.
 */
export async function renderMicrophoneWav(sentences: readonly string[], options: { leadInMs: number; gapMs: number; tailMs: number }): Promise<string> {
  const rate = 48_000;
  const parts: Int16Array[] = [new Int16Array((rate * options.leadInMs) / 1000)];
  for (const sentence of sentences) {
    parts.push((await renderSpeechAt(sentence, rate)).samples, new Int16Array((rate * options.gapMs) / 1000));
  }
  parts.push(new Int16Array((rate * options.tailMs) / 1000));
  const samples = new Int16Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    samples.set(part, offset);
    offset += part.length;
  }
  const dir = await mkdtemp(join(tmpdir(), 'practice-mic-'));
  const path = join(dir, 'mic.wav');
  await writeFile(path, encodeWav(samples, rate));
  return path;
}

export function launchChromiumWithMicrophone(wavPath: string): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    timeout: 60_000,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--use-fake-ui-for-media-stream',
      '--use-fake-device-for-media-stream',
      `--use-file-for-fake-audio-capture=${wavPath}%noloop`,
      '--autoplay-policy=no-user-gesture-required',
    ],
  });
}

/**
 * A TCP relay in front of livekit-server's HTTP/WebSocket port, so a test can cut the browser's
 * signalling connection the way a network drop does (WebRTC media keeps its own UDP path).
 */
async function startRelay(target: URL): Promise<{ url: string; down(): void; up(): void; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  let isDown = false;
  const server: Server = createServer((client) => {
    if (isDown) return void client.destroy();
    const upstream = createConnection({ host: target.hostname, port: Number(target.port) });
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => undefined);
    }
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `${target.protocol}//127.0.0.1:${port}`,
    down() {
      isDown = true;
      for (const socket of sockets) socket.destroy();
    },
    up() {
      isDown = false;
    },
    close: () => new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    }),
  };
}

/** `database`: a migrated database the world takes over (and closes on stop). */
export async function startPracticeWorld(options: {
  database: Pick<TestDatabase, 'db' | 'pool' | 'url' | 'ping' | 'close'>;
  utterances: readonly string[];
  script: readonly ReplyRule[];
  microphoneWav: string;
  /** Record calls (and store them under this DATA_DIR, shared by the agent worker and the web view). */
  recordingDataDir?: string;
}): Promise<PracticeWorld> {
  const logger = pino({ level: 'silent' });
  const database = options.database;
  const cleanups: (() => Promise<unknown>)[] = [() => database.close()];
  try {
    const smtp = await startSmtpSink();
    cleanups.push(() => smtp.stop());
    const queue = createPostCallQueue({ pool: database.pool, logger, retryDelaySeconds: 1, pollingIntervalSeconds: 0.5 });
    await queue.start();
    cleanups.push(() => queue.stop(5_000));
    const recording = options.recordingDataDir;
    const agents = await startAgentWorld({
      databaseUrl: database.url,
      db: database.db,
      utterances: options.utterances,
      script: options.script,
      ...(recording ? { workerEnv: { RECORDING_ENABLED: 'true', DATA_DIR: recording } } : {}),
    });
    cleanups.push(() => agents.stop());
    const mailer = createSmtpMailer({ host: smtp.host, port: smtp.port, secure: false, from: 'Practice Line <coach@practice.test>' });
    const base = { url: '' };
    const scorecardModel = createGroqScorecardModel({ apiKey: agents.groq.apiKey, baseUrl: agents.groq.url, model: 'openai/gpt-oss-120b' });
    await queue.work(async (job) => {
      await runPostCall({ db: database.db, mailer, scorecardModel, publicBaseUrl: base.url, logger }, job);
    });

    const keys = { url: agents.stack.livekitUrl, apiKey: agents.stack.apiKey, apiSecret: agents.stack.apiSecret };
    const relay = await startRelay(new URL(agents.stack.livekitUrl));
    cleanups.push(() => relay.close());
    const serve = async (agentName: string, agentJoinTimeoutSeconds = 10) => {
      const web = makeWebRouter({
        app: { db: database.db, pinSecret: PIN_SECRET, hashPassword, ...(recording ? { storage: createDiskStorage(join(recording, 'storage')) } : {}) },
        pool: database.pool,
        sessionSecret: 'practice-world-session-secret-0123456789abcdef',
        publicBaseUrl: 'http://127.0.0.1',
        verifyPassword,
        logger,
        defaultVoiceId: 'voice-default',
        defaultLlmModel: PERSONA_MODEL,
        pruneExpiredSessions: false,
        livePollMs: 300,
        mailer,
        practice: {
          db: database.db,
          store: createCallRoutingStore(database.db),
          rooms: createLivekitRoomService(keys),
          agentName,
          onCallEnded: async () => undefined,
          logger,
          tokens: createLivekitCallerTokens(keys),
          livekitUrl: relay.url,
          agentJoinTimeoutSeconds,
        },
        practiceNumber: '+15550009999',
      });
      cleanups.push(() => web.close());
      const app = createHttpApp({ logger, health: { pingDatabase: database.ping, integrations: loadConfig({}).integrations }, web: web.router });
      const server: RunningServer = await listen(app, 0, '127.0.0.1');
      cleanups.push(() => server.close());
      return `http://127.0.0.1:${server.port}`;
    };
    base.url = await serve(agents.agentName);
    // The same web view dispatching to an agent name no worker serves (cookies ignore the port, so one sign-in serves both).
    // Nobody will join, so its page need not wait the production 10 s to say so.
    const baseWithoutAgent = await serve('practice-line-nobody-serves-this', NO_AGENT_JOIN_TIMEOUT_SECONDS);
    const browser = await launchChromiumWithMicrophone(options.microphoneWav);
    cleanups.push(() => browser.close());

    return {
      database,
      agents,
      smtp,
      queue,
      base: base.url,
      baseWithoutAgent,
      signalling: { down: () => relay.down(), up: () => relay.up() },
      browser,
      async seed(seedOptions = {}) {
        const seeded = await seedPracticeCall({ database, pinSecret: PIN_SECRET }, { maxAttempts: seedOptions.maxAttempts === undefined ? 3 : seedOptions.maxAttempts, ...(seedOptions.timeLimitSeconds ? { timeLimitSeconds: seedOptions.timeLimitSeconds } : {}) });
        await database.db.update(personas).set({ llmModel: PERSONA_MODEL }).where(eq(personas.id, seeded.persona.id));
        await database.db.update(users).set({ passwordHash: await hashPassword(MANAGER_PASSWORD) }).where(eq(users.id, seeded.manager.id));
        return seeded;
      },
      async stop() {
        for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
      },
    };
  } catch (error) {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    throw error;
  }
}
