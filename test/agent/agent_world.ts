// Everything a persona-agent call needs, for real: livekit-server + livekit-sip (helper stack), the
// Groq and ElevenLabs emulators, the agent worker as a child process (`agent/main.ts start`), and
// a database. Shared by the end-to-end suite and bench/turn.ts. Takes explicit options; reads no env.
import { RoomAgentDispatch, RoomServiceClient, SipClient } from 'livekit-server-sdk';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildPracticeLinePlan, ensureSip } from '../../sip/ensure.js';
import { startStack, type Stack } from '../../sip/stack/stack.js';
import type { Database } from '../../src/adapters/db/client.js';
import { asc, eq } from 'drizzle-orm';
import { calls, turns } from '../../src/adapters/db/schema.js';
import { createPostCallQueue } from '../../src/adapters/queue/post_call_queue.js';
import { pino } from 'pino';
import type pg from 'pg';
import { encodeRoomMetadata, type ReadyRoomMetadata } from '../../src/domain/room_metadata.js';
import { startElevenLabsEmulator, type ElevenLabsEmulator } from '../emulators/elevenlabs_emulator.js';
import { startGroqEmulator, type GroqEmulator } from '../emulators/groq_emulator.js';
import type { PresetName } from '../emulators/knobs.js';
import type { ReplyRule } from '../emulators/persona_script.js';
import { freePort } from '../support/ports.js';
import { waitFor } from '../support/wait.js';
import { type RunningProcess, startEntry } from '../support/process.js';
import { createSipPhone, type PhoneCall, type SipPhone } from '../../sip/phone/phone.js';

/** What the dispatch service does at start-up: install the post-call queue the agent's finalisation enqueues into. */
export async function installPostCallQueue(pool: pg.Pool): Promise<void> {
  const queue = createPostCallQueue({ pool, logger: pino({ level: 'silent' }) });
  await queue.start();
  await queue.stop();
}

/** A call's stored turns, in order. */
export const storedTurns = (db: Database, callId: string) => db.select().from(turns).where(eq(turns.callId, callId)).orderBy(asc(turns.seq));

/** Waits until the call has a stored turn by `speaker` whose text matches. */
export const waitForStoredTurn = (db: Database, callId: string, speaker: 'rep' | 'persona', text: RegExp, timeoutMs = 30_000) =>
  waitFor(`${speaker} turn ${text}`, async () => (await storedTurns(db, callId)).find((turn) => turn.speaker === speaker && text.test(turn.text)), timeoutMs);

/** An e2e file's afterEach: hang up what is still ringing or talking, and keep the worker log if the test failed. */
export async function endOfTest(world: AgentWorld | undefined, context: { task: { result?: { state?: string } } }): Promise<void> {
  await world?.hangUpAll();
  if (context.task.result?.state === 'fail' && world) keepWorkerLog(world);
}

/** After a failed test: the agent worker's log goes beside the stack's own logs, its path to stderr. */
export function keepWorkerLog(world: { stack: Stack; workerLog(): string }, details = ''): void {
  const file = join(world.stack.runDir, 'agent-worker.log');
  writeFileSync(file, world.workerLog());
  console.error(`agent worker log: ${file}${details}`);
}

/** The voice every test persona speaks with (an ElevenLabs stock voice the emulator knows). */
export const DIANE_VOICE_ID = 'EXAVITQu4vr4xnYQH9Pm';

/** Ready room metadata for a call with Diane Carter, CFO; a case overrides what matters to it. */
export function dianeCarterCall(
  overrides: { persona?: Partial<ReadyRoomMetadata['persona']>; scenario?: Partial<ReadyRoomMetadata['scenario']> } = {},
): Omit<ReadyRoomMetadata, 'callId'> {
  return {
    v: 1,
    stage: 'ready',
    persona: {
      name: 'Diane Carter', role: 'Chief Financial Officer', company: 'Northwind Logistics', personality: 'Busy.', objections: [],
      openingLine: 'Diane Carter speaking.', voiceId: DIANE_VOICE_ID, language: 'en', llmModel: 'llama-3.3-70b-versatile', temperature: 0.7,
      ...overrides.persona,
    },
    scenario: { title: 'Cold call', objective: 'Book a discovery meeting.', context: '', difficulty: 'easy', rubric: [], timeLimitSeconds: 300, ...overrides.scenario },
    rep: { id: '0d6f3a52-8a4e-4f8a-a0f5-0f6c1b7d9e21', firstName: 'Riley' },
  };
}

export interface AgentWorldOptions {
  databaseUrl: string;
  db: Database;
  /** Sentences the phone will speak, so the STT emulator can recognise them. */
  utterances: readonly string[];
  script?: readonly ReplyRule[];
  preset?: PresetName;
  /** Extra env for the worker (e.g. AGENT_WRAP_UP_WARNING_SECONDS). */
  workerEnv?: Record<string, string>;
  /** Base URL of a running dispatch service (direct-trunk path). */
  dispatchUrl?: string;
  dispatchSecret?: string;
}

export interface AgentWorld {
  stack: Stack;
  groq: GroqEmulator;
  elevenlabs: ElevenLabsEmulator;
  worker: RunningProcess;
  agentName: string;
  trunkAuth: { username: string; password: string };
  directNumber: string;
  rooms: RoomServiceClient;
  /** Inserts a call row and creates its room with the metadata and agent dispatch, as the dispatch service does. */
  createCall(metadata: Omit<ReadyRoomMetadata, 'callId'>): Promise<{ callId: string; room: string; metadata: ReadyRoomMetadata }>;
  /** A fresh test phone dialling the room on the Twilio trunk (digest auth, callee rule). */
  dialRoom(room: string, from?: string): Promise<{ phone: SipPhone; call: PhoneCall }>;
  workerLog(): string;
  /** Hangs up every call still up (between tests). */
  hangUpAll(): Promise<void>;
  stop(): Promise<void>;
}

export interface AgentWorkerOptions {
  livekit: { url: string; apiKey: string; apiSecret: string };
  agentName: string;
  /** An emulator in this process, or one running elsewhere (bench:capacity runs them in their own process). */
  groq: Pick<GroqEmulator, 'apiKey' | 'url'>;
  elevenlabs: Pick<ElevenLabsEmulator, 'apiKey' | 'url'>;
  databaseUrl: string;
  dispatchUrl?: string;
  dispatchSecret?: string;
  env?: Record<string, string>;
}

/** `agent/main.ts start` as a child process, registered with the server before this resolves. */
export async function startAgentWorker(options: AgentWorkerOptions): Promise<RunningProcess & { stop(): Promise<void> }> {
  const worker = startEntry(
    'agent/main.ts',
    {
      NODE_ENV: 'test',
      LOG_LEVEL: 'debug',
      LIVEKIT_URL: options.livekit.url,
      LIVEKIT_API_KEY: options.livekit.apiKey,
      LIVEKIT_API_SECRET: options.livekit.apiSecret,
      LIVEKIT_AGENT_NAME: options.agentName,
      GROQ_API_KEY: options.groq.apiKey,
      GROQ_BASE_URL: options.groq.url,
      ELEVENLABS_API_KEY: options.elevenlabs.apiKey,
      ELEVENLABS_BASE_URL: options.elevenlabs.url,
      DATABASE_URL: options.databaseUrl,
      AGENT_HTTP_PORT: String(await freePort()),
      // Everything (stack, emulators, tests) shares 2 cores here; never refuse a call for load.
      AGENT_LOAD_THRESHOLD: '1',
      // Recording (and its spoken disclosure) is on by default in production; the suites that are
      // about recording switch it on (test/agent/call_recording.test.ts), so the others keep timing
      // their greetings as before. Storage and spool go to a folder of this worker's own.
      RECORDING_ENABLED: 'false',
      DATA_DIR: mkdtempSync(join(tmpdir(), 'practice-line-agent-')),
      ...(options.dispatchUrl ? { DISPATCH_INTERNAL_URL: options.dispatchUrl } : {}),
      ...(options.dispatchSecret ? { DISPATCH_SHARED_SECRET: options.dispatchSecret } : {}),
      ...options.env,
    },
    ['start'],
  );
  const stop = async () => {
    if (worker.child.exitCode === null) {
      worker.child.kill('SIGTERM');
      const exited = await Promise.race([worker.exited, new Promise((resolve) => setTimeout(() => resolve('timeout'), 15_000))]);
      if (exited === 'timeout') worker.child.kill('SIGKILL');
    }
  };
  try {
    await worker.waitForOutput(/registered worker/, 90_000);
  } catch (error) {
    await stop();
    throw error;
  }
  return Object.assign(worker, { stop });
}

export async function startAgentWorld(options: AgentWorldOptions): Promise<AgentWorld> {
  const agentName = `persona-test-${randomBytes(3).toString('hex')}`;
  const trunkAuth = { username: 'twilio-test', password: randomBytes(9).toString('hex') };
  const directNumber = `+1555${Math.floor(1_000_000 + Math.random() * 8_999_999)}`;
  const stack = await startStack();
  const cleanups: (() => Promise<unknown>)[] = [() => stack.stop()];
  try {
    await ensureSip(new SipClient(stack.httpUrl, stack.apiKey, stack.apiSecret), buildPracticeLinePlan({ agentName, twilio: { authUsername: trunkAuth.username, authPassword: trunkAuth.password }, direct: { numbers: [directNumber], allowOpen: true } }));
    const groq = await startGroqEmulator({ utterances: options.utterances, script: options.script ?? [] });
    cleanups.push(() => groq.stop());
    const elevenlabs = await startElevenLabsEmulator();
    cleanups.push(() => elevenlabs.stop());
    if (options.preset) {
      groq.knobs.preset(options.preset);
      elevenlabs.knobs.preset(options.preset);
    }
    const worker = await startAgentWorker({
      livekit: { url: stack.livekitUrl, apiKey: stack.apiKey, apiSecret: stack.apiSecret },
      agentName,
      groq,
      elevenlabs,
      databaseUrl: options.databaseUrl,
      ...(options.dispatchUrl ? { dispatchUrl: options.dispatchUrl } : {}),
      ...(options.dispatchSecret ? { dispatchSecret: options.dispatchSecret } : {}),
      ...(options.workerEnv ? { env: options.workerEnv } : {}),
    });
    cleanups.push(() => worker.stop());
    const rooms = new RoomServiceClient(stack.httpUrl, stack.apiKey, stack.apiSecret);
    const phones: SipPhone[] = [];
    const openCalls: PhoneCall[] = [];
    cleanups.push(async () => {
      for (const phone of phones) await phone.close().catch(() => undefined);
    });

    return {
      stack,
      groq,
      elevenlabs,
      worker,
      agentName,
      trunkAuth,
      directNumber,
      rooms,
      async createCall(partial) {
        const room = `call-${randomBytes(8).toString('hex')}`;
        const [row] = await options.db.insert(calls).values({ path: 'twilio', roomName: room, status: 'dispatching', repId: null }).returning({ id: calls.id });
        const metadata: ReadyRoomMetadata = { ...partial, callId: row!.id };
        const encoded = encodeRoomMetadata(metadata);
        await rooms.createRoom({ name: room, metadata: encoded, emptyTimeout: 60, agents: [new RoomAgentDispatch({ agentName, metadata: encoded })] });
        return { callId: row!.id, room, metadata };
      },
      async dialRoom(room, from = '+15550100001') {
        const phone = await createSipPhone({ from });
        phones.push(phone);
        const call = await phone.dial(stack.sipUri(room), { auth: trunkAuth, answerTimeoutMs: 60_000 });
        openCalls.push(call);
        return { phone, call };
      },
      workerLog: () => worker.stdout() + worker.stderr(),
      async hangUpAll() {
        for (const call of openCalls.splice(0)) if (call.isActive()) await call.hangup().catch(() => undefined);
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
