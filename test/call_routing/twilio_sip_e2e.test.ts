// The Twilio path all the way into the room: follow the TwiML from /twilio/voice to <Dial><Sip>,
// dial that exact URI (with its X-Practice-Call header and digest credentials) from the SIP test
// phone into the real livekit-sip, provisioned by sip/ensure.ts; the real livekit-server's webhooks
// then move the call row to in_progress and, on hang-up, to completed.
import { randomBytes } from 'node:crypto';
import { ParticipantKind } from '@livekit/rtc-node';
import { eq } from 'drizzle-orm';
import { SipClient } from 'livekit-server-sdk';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildPracticeLinePlan, ensureSip, practiceCallAttribute } from '../../sip/ensure.js';
import { calls } from '../../src/adapters/db/schema.js';
import { AGENT_NAME, createCallRoutingWorld, phoneNumber, seedPracticeCall, type CallRoutingWorld } from '../support/call_routing_world.js';
import { createProbe, type Probe } from '../support/probe.js';
import { createSipPhone, type SipPhone } from '../../sip/phone/phone.js';
import { findVerb } from '../support/twilio_caller.js';

let world: CallRoutingWorld;
let phone: SipPhone | undefined;
let probe: Probe | undefined;

beforeAll(async () => {
  world = await createCallRoutingWorld({ livekit: true });
  const stack = world.stack!;
  await ensureSip(
    new SipClient(stack.httpUrl, stack.apiKey, stack.apiSecret),
    buildPracticeLinePlan({ agentName: AGENT_NAME, twilio: { authUsername: world.sipTarget.username!, authPassword: world.sipTarget.password! } }),
  );
}, 180_000);

afterEach(async (context) => {
  if (context.task.result?.state === 'fail') console.error(`stack at failure:\n${world.stack?.describe()}\n--- phone SIP trace\n${phone?.trace() ?? '(none)'}`);
  await probe?.close();
  await phone?.close();
  probe = undefined;
  phone = undefined;
});

afterAll(async () => {
  await world?.close();
});

const callRow = async (callId: string) => (await world.database.db.select().from(calls).where(eq(calls.id, callId)))[0]!;

async function until<T>(what: string, read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('Twilio path into a real room', () => {
  it('dials the TwiML SIP URI into the call’s room and tracks the call to its end through LiveKit webhooks', async () => {
    const seeded = await seedPracticeCall(world);
    const twilioCall = world.twilio.call({ from: seeded.repPhone, to: phoneNumber() });
    const dialled = await twilioCall.keyDigits(await twilioCall.start(), seeded.pin);
    const sip = findVerb(dialled.verbs, 'Sip')!;
    const callId = /X-Practice-Call=([0-9a-f-]+)/.exec(sip.text)![1]!;
    const roomName = /^sip:([^@]+)@/.exec(sip.text)![1]!;

    // Stands in for the persona agent: livekit-sip answers only once someone publishes audio.
    probe = await createProbe({ url: world.stack!.livekitUrl, apiKey: world.apiKey, apiSecret: world.apiSecret, room: roomName, identity: `${AGENT_NAME}-probe` });
    probe.startTone(600);

    phone = await createSipPhone({ from: seeded.repPhone });
    const call = await phone.dial(sip.text, { auth: { username: sip.attributes.username!, password: sip.attributes.password! } });
    expect(call.statuses.at(-1)).toBe(200);

    const participant = await probe.waitForParticipant((p) => p.kind === ParticipantKind.SIP);
    expect(participant.attributes[practiceCallAttribute]).toBe(callId);

    const answered = await until('in_progress', () => callRow(callId), (row) => row.status === 'in_progress');
    expect(answered.answeredAt).toBeInstanceOf(Date);
    expect(answered.sipCallId).toBe(participant.attributes['sip.callID']);

    await call.hangup();
    const ended = await until('completed', () => callRow(callId), (row) => row.status === 'completed');
    expect(ended.endReason).toMatch(/caller_left|room_finished/);
    expect(ended.durationSeconds).toBeGreaterThanOrEqual(0);
    expect(world.ended).toContainEqual({ callId, trigger: 'livekit_webhook' });
  });

  it('refuses a dial into the room without the trunk’s credentials', async () => {
    const seeded = await seedPracticeCall(world);
    const twilioCall = world.twilio.call({ from: seeded.repPhone, to: phoneNumber() });
    const sip = findVerb((await twilioCall.keyDigits(await twilioCall.start(), seeded.pin)).verbs, 'Sip')!;
    phone = await createSipPhone({ from: seeded.repPhone });
    await expect(phone.dial(sip.text, { auth: { username: sip.attributes.username!, password: randomBytes(6).toString('hex') } })).rejects.toThrow(/40[137]/);
  });
});
