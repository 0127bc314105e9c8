// Errors reach the logs through one serializer that drops query parameters: with the database
// unreachable, a caller's keyed digits, their number and the PIN's hash never appear in a log line.
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCallRoutingStore } from '../../src/adapters/db/call_routing_store.js';
import { createDatabase, type DatabaseHandle } from '../../src/adapters/db/client.js';
import { users } from '../../src/adapters/db/schema.js';
import { createLogger } from '../../src/adapters/logger.js';
import { hashPassword } from '../../src/adapters/password.js';
import { hashApiToken } from '../../src/app/api_tokens.js';
import { createTwilioSignatureVerifier } from '../../src/adapters/twilio/signature.js';
import { lockoutRuleFromMinutes } from '../../src/domain/lockout.js';
import { hashPin } from '../../src/domain/pin.js';
import { createHttpApp } from '../../src/http/app.js';
import { listen, type RunningServer } from '../../src/http/server.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { freePort } from '../support/ports.js';
import { createTwilioEmulator } from '../support/twilio_caller.js';

const PUBLIC_BASE_URL = 'https://practice.example.test';
const pinSecret = randomBytes(32).toString('hex');
const authToken = randomBytes(16).toString('hex');

function capturingLogger() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { lines, logger: createLogger({ level: 'debug', redactPii: false, destination }) };
}

describe('error logs with the database unreachable', () => {
  let closed: DatabaseHandle;
  let server: RunningServer;
  let appUrl: string;
  const { lines, logger } = capturingLogger();

  beforeAll(async () => {
    closed = createDatabase(`postgresql://postgres:secret@127.0.0.1:${await freePort()}/practice_line`, { connectionTimeoutMs: 1_000 });
    const routing = {
      db: closed.db,
      store: createCallRoutingStore(closed.db),
      pinSecret,
      lockout: lockoutRuleFromMinutes(5, 15, 15),
      // The database fails first; a room is never asked for.
      rooms: {
        createRoom: () => Promise.reject(new Error('unreachable in this test')),
        updateRoomMetadata: () => Promise.reject(new Error('unreachable in this test')),
        deleteRoom: () => Promise.reject(new Error('unreachable in this test')),
        hasAgent: () => Promise.reject(new Error('unreachable in this test')),
      },
      agentName: 'practice-line-persona-test',
      onCallEnded: async () => undefined,
      logger,
    };
    const app = createHttpApp({
      logger,
      health: { pingDatabase: closed.ping, integrations: {} as never },
      twilio: { publicBaseUrl: PUBLIC_BASE_URL, verifySignature: createTwilioSignatureVerifier(authToken), routing, sip: { host: 'sip.example.test' }, logger },
      managementApi: { db: closed.db, pinSecret, hashPassword, personaDefaults: { llmModel: 'llama-test', voiceId: 'voice-test' } },
    });
    server = await listen(app, 0, '127.0.0.1');
    appUrl = `http://127.0.0.1:${server.port}`;
  });

  afterAll(async () => {
    await server?.close();
    await closed?.close();
  });

  it('routes keyed digits to the "try again" answer and logs the failure without the digits, the caller number or the PIN hash', async () => {
    const digits = '90817263';
    const from = '+15557340921';
    const twilio = createTwilioEmulator({ appUrl, publicBaseUrl: PUBLIC_BASE_URL, authToken });
    const call = twilio.call({ from, to: '+15550009999' });
    const reply = await call.post('/twilio/pin', { CallStatus: 'in-progress', Digits: digits, FinishedOnKey: '#' });
    expect(reply.status).toBe(200);

    const log = lines.join('');
    expect(log).toContain('routing a twilio call failed');
    expect(log).toContain('ECONNREFUSED');
    for (const secret of [digits, from, from.slice(1), hashPin(pinSecret, digits)]) expect(log).not.toContain(secret);
  });

  it('logs a failed API request without the bearer token or its hash', async () => {
    const token = `pl_${randomBytes(32).toString('base64url')}`;
    const res = await fetch(`${appUrl}/api/personas`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBeGreaterThanOrEqual(500);
    const log = lines.join('');
    expect(log).not.toContain(token);
    expect(log).not.toContain(hashApiToken(token));
  });
});

describe('error logs of a rejected write', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await database?.close();
  });

  it('keep the constraint name but not the values (drizzle params, pg detail)', async () => {
    const { lines, logger } = capturingLogger();
    const email = `duplicate-${randomBytes(4).toString('hex')}@example.test`;
    const passwordHash = `$argon2id$v=19$m=19456,t=2,p=1$${randomBytes(12).toString('base64')}`;
    await database.db.insert(users).values({ role: 'manager', name: 'First', email, passwordHash });
    const failure = await database.db
      .insert(users)
      .values({ role: 'manager', name: 'Second', email, passwordHash })
      .then(() => null, (error: unknown) => error);
    expect(failure).toBeInstanceOf(Error);
    logger.error({ err: failure }, 'insert failed');

    const log = lines.join('');
    expect(log).toContain('23505');
    expect(log).toMatch(/users_email/);
    expect(log).not.toContain(email);
    expect(log).not.toContain(passwordHash);
  });
});
