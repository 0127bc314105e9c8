// Before a caller keys a PIN, the dispatch service asks the real agent worker's health endpoint
// (agents-js, AGENT_HTTP_PORT) whether a persona can take the call. With no worker registered
// the caller hears "no practice partner is free" and no attempt, PIN check or call row is spent;
// /readyz says the same. On the direct trunk, where nobody asks first, the call is refused (486)
// as soon as the caller's leg joins, unless that room's own agent is joining, and never a call the
// Twilio path already admitted. Real livekit-server, real agent worker process, real Postgres.
import { eq } from 'drizzle-orm';
import { RoomAgentDispatch, RoomServiceClient, SipClient } from 'livekit-server-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPracticeLinePlan, ensureSip } from '../../sip/ensure.js';
import { createSipPhone } from '../../sip/phone/phone.js';
import { createAgentAvailability } from '../../src/adapters/agent_availability.js';
import { assignments, calls, pinAttempts } from '../../src/adapters/db/schema.js';
import { createLogger } from '../../src/adapters/logger.js';
import { agentReadiness } from '../../src/adapters/readiness.js';
import { prompts } from '../../src/domain/call_prompts.js';
import { createHttpApp } from '../../src/http/app.js';
import { listen, type RunningServer } from '../../src/http/server.js';
import { startAgentWorker } from '../agent/agent_world.js';
import { startElevenLabsEmulator, type ElevenLabsEmulator } from '../emulators/elevenlabs_emulator.js';
import { startGroqEmulator, type GroqEmulator } from '../emulators/groq_emulator.js';
import { AGENT_NAME, createCallRoutingWorld, seedPracticeCall, signLivekitWebhook, type CallRoutingWorld } from '../support/call_routing_world.js';
import { freePort } from '../support/ports.js';
import { waitFor } from '../support/wait.js';
import { findVerb, spokenLines, type TwilioReply } from '../support/twilio_caller.js';

const LINE = '+15550009999';
let world: CallRoutingWorld;
let groq: GroqEmulator;
let elevenlabs: ElevenLabsEmulator;
let agentPort: number;
let readyz: RunningServer;

beforeAll(async () => {
  agentPort = await freePort();
  const healthUrl = `http://127.0.0.1:${agentPort}`;
  // The dispatch service knows AGENT_MAX_CALLS=1: a worker holding one call is full.
  world = await createCallRoutingWorld({ livekit: true, agentHealthUrl: healthUrl, agentMaxCalls: 1 });
  groq = await startGroqEmulator();
  elevenlabs = await startElevenLabsEmulator();
  // /readyz as src/main.ts wires it, with the same availability source.
  const app = createHttpApp({
    logger: createLogger({ level: 'silent', redactPii: false }),
    health: { pingDatabase: world.database.ping, integrations: {} as never },
    ops: { checks: { agent: agentReadiness(createAgentAvailability(healthUrl)) } },
  });
  readyz = await listen(app, 0, '127.0.0.1');
}, 180_000);

afterAll(async () => {
  await readyz?.close();
  await groq?.stop();
  await elevenlabs?.stop();
  await world?.close();
});

const spoken = (reply: TwilioReply) => spokenLines(reply.verbs).join(' ');
const readiness = async () => {
  const response = await fetch(`http://127.0.0.1:${readyz.port}/readyz`);
  return { status: response.status, body: (await response.json()) as { checks: { agent: { state: string; detail?: string } } } };
};

/** This file's agent worker, registered under the line's agent name, its health on agentPort. */
function startWorker(env: Record<string, string> = {}) {
  return startAgentWorker({
    livekit: { url: world.stack!.livekitUrl, apiKey: world.apiKey, apiSecret: world.apiSecret },
    agentName: AGENT_NAME,
    groq,
    elevenlabs,
    databaseUrl: world.database.url,
    env: { AGENT_HTTP_PORT: String(agentPort), ...env },
  });
}

describe('agent availability before the PIN', () => {
  it('refuses without using an attempt while no worker is registered, routes once one is, and refuses again after it stops', async () => {
    const seeded = await seedPracticeCall(world);
    const attemptsUsed = async () => (await world.database.db.select().from(assignments).where(eq(assignments.id, seeded.assignment.id)))[0]!.attemptsUsed;
    const attemptsLogged = async () => (await world.database.db.select().from(pinAttempts).where(eq(pinAttempts.callerNumber, seeded.repPhone))).length;

    // No worker: greeted with the apology instead of a PIN prompt; a PIN keyed anyway is not even checked.
    const early = world.twilio.call({ from: seeded.repPhone, to: LINE });
    const refused = await early.start();
    expect(refused.status).toBe(200);
    expect(spoken(refused)).toBe(prompts.noPartnerFree);
    expect(findVerb(refused.verbs, 'Gather')).toBeUndefined();
    expect(findVerb(refused.verbs, 'Hangup')).toBeDefined();
    const keyedAnyway = await early.post('/twilio/pin?try=1', { CallStatus: 'in-progress', Digits: seeded.pin });
    expect(spoken(keyedAnyway)).toBe(prompts.noPartnerFree);
    expect(await attemptsUsed()).toBe(0);
    expect(await attemptsLogged()).toBe(0);
    expect(await world.database.db.select().from(calls).where(eq(calls.twilioCallSid, early.callSid))).toEqual([]);
    const down = await readiness();
    expect(down.status).toBe(503);
    expect(down.body.checks.agent.state).toBe('failing');
    expect(down.body.checks.agent.detail).toMatch(/unreachable/);

    const worker = await startWorker();
    try {
      expect((await readiness()).body.checks.agent.state).toBe('ok');
      const call = world.twilio.call({ from: seeded.repPhone, to: LINE });
      const greeting = await call.start();
      expect(spoken(greeting)).toMatch(/enter your practice PIN/);
      const dialled = await call.keyDigits(greeting, seeded.pin);
      expect(findVerb(dialled.verbs, 'Sip'), dialled.body).toBeDefined();
      expect(await attemptsUsed()).toBe(1);
    } finally {
      await worker.stop();
    }

    const late = await world.twilio.call({ from: seeded.repPhone, to: LINE }).start();
    expect(spoken(late)).toBe(prompts.noPartnerFree);
    expect(await attemptsUsed()).toBe(1);
  });

  it('does not refuse at join a call the Twilio path already admitted, even when no worker is free by then', async () => {
    const seeded = await seedPracticeCall(world);
    const worker = await startWorker();
    let sip: string;
    try {
      const call = world.twilio.call({ from: seeded.repPhone, to: LINE });
      sip = findVerb((await call.keyDigits(await call.start(), seeded.pin)).verbs, 'Sip')!.text;
    } finally {
      await worker.stop();
    }
    // The PIN was taken and the attempt used while a worker was free; the caller's leg reaches the
    // room only after it has gone (as when every worker is momentarily busy). Refusing now would drop
    // a call the rep has paid an attempt for, so the room stays and the phone rings instead.
    const trunkAuth = { username: 'twilio-test', password: 'twilio-test-password-1234' };
    await ensureSip(
      new SipClient(world.stack!.httpUrl, world.apiKey, world.apiSecret),
      buildPracticeLinePlan({ agentName: AGENT_NAME, twilio: { authUsername: trunkAuth.username, authPassword: trunkAuth.password } }),
    );
    const [, room, callId] = /^sip:([^@]+)@[^?]+\?X-Practice-Call=(.+)$/.exec(sip)!;
    const phone = await createSipPhone({ from: seeded.repPhone });
    try {
      const dialled = phone.dial(`${world.stack!.sipUri(room!)}?X-Practice-Call=${callId}`, { auth: trunkAuth, answerTimeoutMs: 8_000 });
      await expect(dialled).rejects.toThrow(/no answer .* within 8000 ms/);
      expect(world.logs.join('\n')).not.toMatch(new RegExp(`"roomName":"${room}".*refusing the call`));
    } finally {
      await phone.close();
    }
  });

  it("does not refuse a direct-trunk room whose own agent job took the last free slot before the caller's leg joined", async () => {
    const stack = world.stack!;
    // One call per worker: the moment it takes this room's job, it reports itself full.
    const worker = await startWorker({ AGENT_MAX_CALLS: '1' });
    try {
      // What the direct trunk's dispatch rule makes: a room with the agent dispatched, no call row yet.
      const room = `practice-direct-race-${Date.now()}`;
      const rooms = new RoomServiceClient(stack.livekitUrl, world.apiKey, world.apiSecret);
      await rooms.createRoom({ name: room, emptyTimeout: 30, agents: [new RoomAgentDispatch({ agentName: AGENT_NAME })] });
      const availability = createAgentAvailability(`http://127.0.0.1:${agentPort}`, { maxCalls: 1 });
      await waitFor('the worker holds the room\'s job', async () => (!(await availability()).available ? true : undefined), 20_000);

      // The caller's leg joins only now (webhooks can arrive in either order).
      const body = JSON.stringify({
        event: 'participant_joined',
        id: `EV_race_${Date.now()}`,
        createdAt: String(Math.floor(Date.now() / 1000)),
        room: { name: room, sid: 'RM_race' },
        participant: { sid: 'PA_race', identity: 'sip_caller', kind: 'SIP', attributes: {} },
      });
      const response = await fetch(`${world.appUrl}/livekit/webhook`, { method: 'POST', headers: await signLivekitWebhook(world.apiKey, world.apiSecret, body), body });
      expect(response.status).toBe(200);
      expect((await rooms.listRooms([room])).map((listed) => listed.name), 'the room was not deleted').toEqual([room]);
      expect(world.logs.join('\n')).not.toMatch(new RegExp(`"roomName":"${room}".*refusing the call`));
      await rooms.deleteRoom(room);
    } finally {
      await worker.stop();
    }
  });

  it('refuses a direct-trunk call at once when no agent worker is registered, instead of letting it ring', async () => {
    const number = '+15550008888';
    const stack = world.stack!;
    await ensureSip(
      new SipClient(stack.httpUrl, world.apiKey, world.apiSecret),
      buildPracticeLinePlan({ agentName: AGENT_NAME, twilio: false, direct: { numbers: [number], allowOpen: true } }),
    );
    const phone = await createSipPhone({ from: '+15550100001' });
    try {
      const started = performance.now();
      const dialled = phone.dial(`sip:${number}@${stack.sipAddress}`, { answerTimeoutMs: 25_000 });
      await expect(dialled).rejects.toThrow(/INVITE .* failed: [4-6]\d\d /);
      // Without the check nobody would speak, so livekit-sip would ring until the 25 s timeout.
      expect(performance.now() - started).toBeLessThan(15_000);
      expect(world.logs.join('\n')).toMatch(/caller joined but no agent worker is available; refusing the call/);
    } finally {
      await phone.close();
    }
  });
});
