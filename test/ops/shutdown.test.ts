// Shutdown: new calls are turned away first, every step runs even when one fails, and a step that
// hangs cannot hold the process past the deadline.
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCallRoutingStore } from '../../src/adapters/db/call_routing_store.js';
import { calls } from '../../src/adapters/db/schema.js';
import { createLogger } from '../../src/adapters/logger.js';
import { runShutdown } from '../../src/adapters/shutdown.js';
import { createTwilioSignatureVerifier } from '../../src/adapters/twilio/signature.js';
import { prompts } from '../../src/domain/call_prompts.js';
import { lockoutRuleFromMinutes } from '../../src/domain/lockout.js';
import { createHttpApp } from '../../src/http/app.js';
import { listen, type RunningServer } from '../../src/http/server.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { createTwilioEmulator, spokenLines } from '../support/twilio_caller.js';

const lines: string[] = [];
const logger = createLogger({ level: 'debug', redactPii: false, destination: new Writable({ write: (chunk, _e, done) => (lines.push(String(chunk)), done()) }) });

describe('runShutdown', () => {
  it('runs every step in order, logging and skipping past a failing one', async () => {
    const ran: string[] = [];
    const report = await runShutdown(
      [
        { name: 'first', run: async () => void ran.push('first') },
        { name: 'broken', run: async () => Promise.reject(new Error('pool already closed')) },
        { name: 'last', run: async () => void ran.push('last') },
      ],
      5_000,
      logger,
    );
    expect(report).toEqual({ completed: true, failed: ['broken'] });
    expect(ran).toEqual(['first', 'last']);
    expect(lines.join('')).toContain('shutdown step failed; continuing');
  });

  it('gives up at the deadline on a step that hangs, naming it', async () => {
    const started = performance.now();
    const ran: string[] = [];
    const report = await runShutdown(
      [
        { name: 'http server', run: () => new Promise(() => undefined) },
        { name: 'database', run: async () => void ran.push('database') },
      ],
      300,
      logger,
    );
    expect(report).toEqual({ completed: false, failed: [], hung: 'http server' });
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(ran).toEqual([]);
  });
});

describe('the Twilio path while shutting down', () => {
  let database: TestDatabase;
  let server: RunningServer;
  let accepting = true;
  const authToken = randomBytes(16).toString('hex');
  const PUBLIC_BASE_URL = 'https://practice.example.test';

  beforeAll(async () => {
    database = await createTestDatabase();
    const never = () => Promise.reject(new Error('no room should be created'));
    const app = createHttpApp({
      logger,
      health: { pingDatabase: database.ping, integrations: {} as never },
      twilio: {
        publicBaseUrl: PUBLIC_BASE_URL,
        verifySignature: createTwilioSignatureVerifier(authToken),
        routing: { db: database.db, store: createCallRoutingStore(database.db), pinSecret: randomBytes(32).toString('hex'), lockout: lockoutRuleFromMinutes(5, 15, 15), rooms: { createRoom: never, updateRoomMetadata: never, deleteRoom: never, hasAgent: never }, agentName: 'persona', onCallEnded: async () => undefined, logger },
        sip: { host: 'sip.example.test' },
        logger,
        acceptingCalls: () => accepting,
      },
    });
    server = await listen(app, 0, '127.0.0.1');
  });

  afterAll(async () => {
    await server?.close();
    await database?.close();
  });

  it('turns new calls away with "call again in a minute" and records nothing', async () => {
    const twilio = createTwilioEmulator({ appUrl: `http://127.0.0.1:${server.port}`, publicBaseUrl: PUBLIC_BASE_URL, authToken });
    const open = await twilio.call({ from: '+15550001111', to: '+15550002222' }).start();
    expect(spokenLines(open.verbs)[0]).toMatch(/^Welcome to Practice Line/);

    accepting = false;
    const call = twilio.call({ from: '+15550001111', to: '+15550002222' });
    const reply = await call.start();
    expect(spokenLines(reply.verbs)).toEqual([prompts.restarting]);
    expect(reply.verbs.map((verb) => verb.verb)).toEqual(['Say', 'Hangup']);
    const pin = await call.post('/twilio/pin', { CallStatus: 'in-progress', Digits: '123456' });
    expect(spokenLines(pin.verbs)).toEqual([prompts.restarting]);
    expect(await database.db.select().from(calls)).toEqual([]);
  });
});
