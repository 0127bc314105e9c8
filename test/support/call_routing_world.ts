// The world the call-routing suites share: a migrated database, the real telephony stack
// (livekit-server posting its webhooks to the app), the app listening on 127.0.0.1:0 behind a
// pretend public URL (so anything that trusted the Host header would fail signatures), and a few
// rows to call with. Each suite builds its own; nothing is shared between files.
import { randomBytes } from 'node:crypto';
import { AccessToken, AgentDispatchClient, RoomServiceClient } from 'livekit-server-sdk';
import { createCallRoutingStore } from '../../src/adapters/db/call_routing_store.js';
import { loadConfig } from '../../src/config.js';
import { createDatabase, type Database, type DatabaseHandle } from '../../src/adapters/db/client.js';
import { pino } from 'pino';
import { assignments, personas, scenarios, users } from '../../src/adapters/db/schema.js';
import { createAgentAvailability } from '../../src/adapters/agent_availability.js';
import { createLivekitRoomService } from '../../src/adapters/livekit/room_service.js';
import { createLivekitTokenVerifier, createLivekitWebhookVerifier } from '../../src/adapters/livekit/webhooks.js';
import { createTwilioSignatureVerifier } from '../../src/adapters/twilio/signature.js';
import type { CallEndTrigger, RoomService } from '../../src/app/ports.js';
import type { CallRoutingDeps } from '../../src/app/resolve_call.js';
import { lockoutRuleFromMinutes } from '../../src/domain/lockout.js';
import { hashPin } from '../../src/domain/pin.js';
import { createHttpApp } from '../../src/http/app.js';
import type { TwilioSipTarget } from '../../src/http/twilio_router.js';
import { listen, type RunningServer } from '../../src/http/server.js';
import { startStack, type Stack } from '../../sip/stack/stack.js';
import { createTestDatabase, type TestDatabase } from './db.js';
import { createTwilioEmulator } from './twilio_caller.js';

export const PUBLIC_BASE_URL = 'https://practice.example.test';
export const AGENT_NAME = 'practice-line-persona-test';
export const SIP_HOST = 'sip.practice.example.test';

export interface CallRoutingWorld {
  database: TestDatabase;
  stack: Stack | null;
  server: RunningServer;
  appUrl: string;
  pinSecret: string;
  authToken: string;
  sharedSecret: string;
  apiKey: string;
  apiSecret: string;
  routing: CallRoutingDeps;
  twilio: ReturnType<typeof createTwilioEmulator>;
  rooms: RoomServiceClient | null;
  dispatches: AgentDispatchClient | null;
  /** Every onCallEnded the app made, in order. */
  ended: { callId: string; trigger: CallEndTrigger }[];
  /** Where the TwiML dials (the stack's livekit-sip) and the digest credentials it presents. */
  sipTarget: TwilioSipTarget;
  /** Every log line the app wrote (pino JSON, level debug and up). */
  logs: string[];
  /** Advances the clock the use cases read (lock-outs, due dates). */
  clock: { now: Date };
  /**
   * Another dispatch service instance on the same database (its own pool, logger and in-memory
   * state), as a replica behind a load balancer would be; livekit-server's webhooks go to the first.
   */
  startInstance(): Promise<{ appUrl: string; twilio: ReturnType<typeof createTwilioEmulator>; logs: string[] }>;
  close(): Promise<void>;
}

export interface WorldOptions {
  /** Start livekit-server (and the rest of the stack); without it the app runs unconfigured for LiveKit. */
  livekit: boolean;
  lockout?: { maxFailures: number; windowMinutes: number; lockoutMinutes: number };
  /** Per-line and global limits; the product defaults (src/domain/lockout.ts) when left out. */
  limits?: CallRoutingDeps['limits'];
  callerIdTrust?: CallRoutingDeps['callerIdTrust'];
  /** Route calls even without the stack (room creation then fails): for refusals and lock-outs only. */
  routeWithoutLivekit?: boolean;
  /** The agent workers' health URLs the Twilio path asks before taking a PIN (AGENT_HEALTH_URL, comma-separated); unset: not asked. */
  agentHealthUrl?: string;
  /** AGENT_MAX_CALLS as the dispatch service reads it: a worker holding this many calls is full. */
  agentMaxCalls?: number;
  /** LINE_LANGUAGES as config parses it: called number (E.164) -> language tag. */
  lineLanguages?: ReadonlyMap<string, string>;
}

export async function createCallRoutingWorld(options: WorldOptions): Promise<CallRoutingWorld> {
  const database = await createTestDatabase();
  const pinSecret = randomBytes(32).toString('hex');
  const authToken = randomBytes(16).toString('hex');
  const sharedSecret = randomBytes(24).toString('hex');
  const apiKey = `APIpl${randomBytes(6).toString('hex')}`;
  const apiSecret = randomBytes(24).toString('base64url');
  // Every log line is kept, so suites can prove secrets and PINs never reach the logs.
  const logs: string[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void logs.push(line) });
  const ended: CallRoutingWorld['ended'] = [];
  const clock = { now: new Date() };
  const lockout = options.lockout ?? { maxFailures: 5, windowMinutes: 15, lockoutMinutes: 15 };
  const agentAvailability = options.agentHealthUrl ? createAgentAvailability(options.agentHealthUrl, { maxCalls: options.agentMaxCalls ?? 0 }) : null;

  // The stack needs the app's webhook URL and the app needs the stack's address: bind the app first
  // and let its room service reach the stack once it runs.
  let roomService: RoomService | null = null;
  const rooms: RoomService = {
    createRoom: (input) => (roomService ? roomService.createRoom(input) : Promise.reject(new Error('no stack'))),
    updateRoomMetadata: (name, metadata) => (roomService ? roomService.updateRoomMetadata(name, metadata) : Promise.reject(new Error('no stack'))),
    deleteRoom: (name) => (roomService ? roomService.deleteRoom(name) : Promise.reject(new Error('no stack'))),
    hasAgent: (name) => (roomService ? roomService.hasAgent(name) : Promise.reject(new Error('no stack'))),
  };
  const routing: CallRoutingDeps = {
    db: database.db,
    store: createCallRoutingStore(database.db),
    pinSecret,
    lockout: lockoutRuleFromMinutes(lockout.maxFailures, lockout.windowMinutes, lockout.lockoutMinutes),
    ...(options.limits ? { limits: options.limits } : {}),
    ...(options.callerIdTrust ? { callerIdTrust: options.callerIdTrust } : {}),
    rooms,
    agentName: AGENT_NAME,
    onCallEnded: async (callId, trigger) => {
      ended.push({ callId, trigger });
    },
    logger,
    now: () => clock.now,
  };
  const livekitKeys = options.livekit ? { apiKey, apiSecret } : null;
  const routed = options.livekit || (options.routeWithoutLivekit ?? false);
  // Points at the stack's livekit-sip once it runs, so the dialled URI in the TwiML really connects.
  const sipTarget: TwilioSipTarget = { host: SIP_HOST, username: 'twilio-trunk', password: randomBytes(9).toString('hex') };
  const lines = options.lineLanguages ? { lineLanguages: options.lineLanguages } : {};
  /** One dispatch service instance: its own logger and routing deps over the given database handle. */
  const buildApp = (instanceRouting: CallRoutingDeps, instanceLogger: typeof logger) =>
    createHttpApp({
      logger: instanceLogger,
      health: { pingDatabase: database.ping, integrations: loadConfig({}).integrations },
      twilio: { publicBaseUrl: PUBLIC_BASE_URL, verifySignature: createTwilioSignatureVerifier(authToken), routing: routed ? instanceRouting : null, sip: routed ? sipTarget : null, agentAvailability, ...lines, logger: instanceLogger },
      dispatch: { sharedSecret, verifyLivekitToken: livekitKeys ? createLivekitTokenVerifier(livekitKeys) : null, routing: routed ? instanceRouting : null, ...lines, logger: instanceLogger },
      livekitWebhook: { verifyWebhook: livekitKeys ? createLivekitWebhookVerifier(livekitKeys) : null, calls: instanceRouting, rooms: options.livekit ? rooms : null, agentAvailability, logger: instanceLogger },
    });
  const app = buildApp(routing, logger);
  const instances: { server: RunningServer; database: DatabaseHandle }[] = [];
  const server = await listen(app, 0, '127.0.0.1');
  const appUrl = `http://127.0.0.1:${server.port}`;

  let stack: Stack | null = null;
  try {
    if (options.livekit) {
      stack = await startStack({ apiKey, apiSecret, webhookUrls: [`${appUrl}/livekit/webhook`], logLevel: 'warn' });
      roomService = createLivekitRoomService({ url: stack.livekitUrl, apiKey, apiSecret });
      sipTarget.host = `${stack.sipHost}:${stack.sipPort}`;
    }
  } catch (error) {
    await server.close();
    await database.close();
    throw error;
  }

  return {
    database,
    stack,
    server,
    appUrl,
    pinSecret,
    authToken,
    sharedSecret,
    apiKey,
    apiSecret,
    routing,
    twilio: createTwilioEmulator({ appUrl, publicBaseUrl: PUBLIC_BASE_URL, authToken }),
    rooms: stack ? new RoomServiceClient(stack.httpUrl, apiKey, apiSecret) : null,
    dispatches: stack ? new AgentDispatchClient(stack.httpUrl, apiKey, apiSecret) : null,
    ended,
    clock,
    logs,
    sipTarget,
    async startInstance() {
      const instanceLogs: string[] = [];
      const instanceLogger = pino({ level: 'debug' }, { write: (line: string) => void instanceLogs.push(line) });
      const instanceDb = createDatabase(database.url, { max: 4 });
      const instanceServer = await listen(buildApp({ ...routing, db: instanceDb.db, logger: instanceLogger }, instanceLogger), 0, '127.0.0.1');
      instances.push({ server: instanceServer, database: instanceDb });
      const instanceUrl = `http://127.0.0.1:${instanceServer.port}`;
      return { appUrl: instanceUrl, twilio: createTwilioEmulator({ appUrl: instanceUrl, publicBaseUrl: PUBLIC_BASE_URL, authToken }), logs: instanceLogs };
    },
    async close() {
      for (const instance of instances) {
        await instance.server.close();
        await instance.database.close();
      }
      await server.close();
      await stack?.stop();
      await database.close();
    },
  };
}

let counter = 0;
const unique = () => `${Date.now().toString(36)}${(counter += 1)}${randomBytes(2).toString('hex')}`;

/** A random E.164 number in the fictional 555-01xx range, unique enough per suite. */
export const phoneNumber = () => `+1555${String(Math.floor(Math.random() * 1e7)).padStart(7, '0')}`;

export interface SeedOptions {
  repPhone?: string;
  extension?: string;
  directLineNumber?: string;
  pin?: string;
  maxAttempts?: number | null;
  attemptsUsed?: number;
  dueAt?: Date | null;
  enforceDueDate?: boolean;
  timeLimitSeconds?: number;
  /** The persona's language (default English). */
  language?: string;
}

/** A manager, a rep, a persona, a scenario and (unless `pin` is null) an assignment with a known PIN. */
export async function seedPracticeCall(world: { database: { db: Database }; pinSecret: string }, options: SeedOptions = {}) {
  const db = world.database.db;
  const tag = unique();
  const [manager] = await db.insert(users).values({ role: 'manager', name: 'Morgan Manager', email: `manager-${tag}@test.local` }).returning();
  const [rep] = await db
    .insert(users)
    .values({ role: 'rep', name: 'Riley Rep', email: `rep-${tag}@test.local`, managerId: manager!.id, phoneNumbers: [options.repPhone ?? phoneNumber()] })
    .returning();
  const [persona] = await db
    .insert(personas)
    .values({
      name: 'Diane Carter',
      role: 'Chief Financial Officer',
      company: 'Northwind Logistics',
      personality: 'Sceptical and short on time.',
      objections: ['Not in this year’s budget.'],
      openingLine: 'Diane Carter speaking.',
      voiceId: 'voice-diane',
      language: options.language ?? 'en',
      llmModel: 'llama-test',
      temperature: 0.6,
      createdBy: manager!.id,
    })
    .returning();
  const [scenario] = await db
    .insert(scenarios)
    .values({
      title: `Cold call ${tag}`,
      objective: 'Earn a follow-up meeting.',
      context: 'Freight analytics.',
      difficulty: 'hard',
      personaId: persona!.id,
      rubric: [{ id: 'opening', name: 'Opening', description: 'Says why the call matters.', weight: 2 }],
      timeLimitSeconds: options.timeLimitSeconds ?? 420,
      extension: options.extension ?? null,
      directLineNumber: options.directLineNumber ?? null,
      createdBy: manager!.id,
    })
    .returning();
  const pin = options.pin ?? String(100000 + Math.floor(Math.random() * 900000));
  const [assignment] = await db
    .insert(assignments)
    .values({
      scenarioId: scenario!.id,
      repId: rep!.id,
      assignedBy: manager!.id,
      pinHash: hashPin(world.pinSecret, pin),
      maxAttempts: options.maxAttempts === undefined ? 5 : options.maxAttempts,
      attemptsUsed: options.attemptsUsed ?? 0,
      dueAt: options.dueAt ?? null,
      enforceDueDate: options.enforceDueDate ?? false,
    })
    .returning();
  return { manager: manager!, rep: rep!, persona: persona!, scenario: scenario!, assignment: assignment!, pin, repPhone: rep!.phoneNumbers[0]! };
}

/** A webhook exactly as livekit-server sends it: JSON body, a JWT with the body's sha256, no Bearer. */
export async function signLivekitWebhook(apiKey: string, apiSecret: string, body: string): Promise<Record<string, string>> {
  const token = new AccessToken(apiKey, apiSecret, { ttl: '5m' });
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(body));
  token.sha256 = Buffer.from(digest).toString('base64');
  return { 'content-type': 'application/webhook+json', authorization: await token.toJwt() };
}
