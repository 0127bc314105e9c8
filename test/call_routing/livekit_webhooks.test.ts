// LiveKit webhooks into the call state machine: signed exactly as livekit-server signs them (and,
// for room_finished, posted by the real server), duplicated, reordered and forged.
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { calls } from '../../src/adapters/db/schema.js';
import { createCallRoutingWorld, phoneNumber, seedPracticeCall, signLivekitWebhook, type CallRoutingWorld } from '../support/call_routing_world.js';
import { findVerb } from '../support/twilio_caller.js';

let world: CallRoutingWorld;
beforeAll(async () => {
  world = await createCallRoutingWorld({ livekit: true });
});
afterAll(async () => {
  await world?.close();
});

const callRow = async (callId: string) => (await world.database.db.select().from(calls).where(eq(calls.id, callId)))[0]!;
let eventCounter = 0;

/** A webhook body as livekit-server serialises it (protobuf JSON: int64 as a string, enums by name). */
function webhookBody(
  event: string,
  roomName: string,
  participant?: { identity: string; kind: 'SIP' | 'AGENT'; attributes?: Record<string, string>; disconnectReason?: string },
  createdAt?: Date,
): string {
  return JSON.stringify({
    event,
    id: `EV_${(eventCounter += 1)}`,
    createdAt: String(Math.floor((createdAt ?? new Date()).getTime() / 1000)),
    room: { name: roomName, sid: 'RM_test' },
    ...(participant
      ? {
          participant: {
            sid: 'PA_test',
            identity: participant.identity,
            kind: participant.kind,
            attributes: participant.attributes ?? {},
            ...(participant.disconnectReason ? { disconnectReason: participant.disconnectReason } : {}),
          },
        }
      : {}),
  });
}

async function postWebhook(body: string, headers?: Record<string, string>) {
  const response = await fetch(`${world.appUrl}/livekit/webhook`, {
    method: 'POST',
    headers: headers ?? (await signLivekitWebhook(world.apiKey, world.apiSecret, body)),
    body,
  });
  return response.status;
}

const SIP = 'SIP' as const;
const AGENT = 'AGENT' as const;

async function dispatchedCall() {
  const seeded = await seedPracticeCall(world);
  const phone = world.twilio.call({ from: seeded.repPhone, to: phoneNumber() });
  const reply = await phone.keyDigits(await phone.start(), seeded.pin);
  const uri = findVerb(reply.verbs, 'Sip')!.text;
  const [, roomName, callId] = /^sip:([^@]+)@.*X-Practice-Call=(.+)$/.exec(uri)!;
  return { roomName: roomName!, callId: callId! };
}

describe('LiveKit webhooks', () => {
  it('rejects unsigned, forged and tampered webhooks with 401', async () => {
    const { roomName, callId } = await dispatchedCall();
    const body = webhookBody('participant_joined', roomName, { identity: 'sip_caller', kind: SIP });
    expect(await postWebhook(body, { 'content-type': 'application/webhook+json' })).toBe(401);
    expect(await postWebhook(body, await signLivekitWebhook(world.apiKey, 'not-the-secret-not-the-secret', body))).toBe(401);
    const signedForOther = await signLivekitWebhook(world.apiKey, world.apiSecret, webhookBody('room_started', roomName));
    expect(await postWebhook(body, signedForOther)).toBe(401);
    expect((await callRow(callId)).status).toBe('dispatching');
  });

  it('moves the call on SIP join and leave, ignores the agent and duplicates, and finalises', async () => {
    const { roomName, callId } = await dispatchedCall();
    const joinedAt = new Date(Math.floor(Date.now() / 1000) * 1000);
    expect(await postWebhook(webhookBody('participant_joined', roomName, { identity: 'agent-1', kind: AGENT }))).toBe(200);
    expect((await callRow(callId)).status).toBe('dispatching');

    const joined = webhookBody('participant_joined', roomName, { identity: 'sip_caller', kind: SIP, attributes: { 'sip.callID': 'SCL_abc123' } }, joinedAt);
    expect(await postWebhook(joined)).toBe(200);
    expect(await callRow(callId)).toMatchObject({ status: 'in_progress', answeredAt: joinedAt, sipCallId: 'SCL_abc123' });
    expect(await postWebhook(joined)).toBe(200);
    expect(await callRow(callId)).toMatchObject({ status: 'in_progress', answeredAt: joinedAt });

    const left = webhookBody('participant_left', roomName, { identity: 'sip_caller', kind: SIP }, new Date(joinedAt.getTime() + 90_000));
    expect(await postWebhook(left)).toBe(200);
    expect(await callRow(callId)).toMatchObject({ status: 'completed', endReason: 'caller_left', durationSeconds: 90 });
    expect(await postWebhook(left)).toBe(200);
    expect(await postWebhook(joined)).toBe(200);
    expect((await callRow(callId)).status).toBe('completed');
    expect(world.ended.filter((entry) => entry.callId === callId).map((entry) => entry.trigger)).toEqual(['livekit_webhook', 'livekit_webhook']);
  });

  it('keeps the first end when webhooks arrive out of order', async () => {
    const { roomName, callId } = await dispatchedCall();
    expect(await postWebhook(webhookBody('room_finished', roomName))).toBe(200);
    expect(await callRow(callId)).toMatchObject({ status: 'abandoned', endReason: 'room_finished' });
    expect(await postWebhook(webhookBody('participant_joined', roomName, { identity: 'sip_caller', kind: SIP }))).toBe(200);
    expect(await callRow(callId)).toMatchObject({ status: 'abandoned', answeredAt: null });
  });

  it('fails the call as agent_lost and deletes the real room when the agent connection drops mid-call', async () => {
    const { roomName, callId } = await dispatchedCall();
    expect(await postWebhook(webhookBody('participant_joined', roomName, { identity: 'sip_caller', kind: SIP }))).toBe(200);
    expect((await world.rooms!.listRooms([roomName])).map((room) => room.name)).toEqual([roomName]);

    const lost = webhookBody('participant_left', roomName, { identity: 'agent-1', kind: AGENT, disconnectReason: 'CONNECTION_TIMEOUT' });
    expect(await postWebhook(lost)).toBe(200);
    expect(await callRow(callId)).toMatchObject({ status: 'failed', endReason: 'agent_lost' });
    expect(world.ended).toContainEqual({ callId, trigger: 'livekit_webhook' });
    expect(await world.rooms!.listRooms([roomName])).toEqual([]);
    // A retried delivery finds the room gone, which is what it wanted.
    expect(await postWebhook(lost)).toBe(200);
    expect(await callRow(callId)).toMatchObject({ status: 'failed', endReason: 'agent_lost' });
  });

  it('never reads the agent hanging up or shutting down as lost, nor flips a call it already ended', async () => {
    const { roomName, callId } = await dispatchedCall();
    expect(await postWebhook(webhookBody('participant_joined', roomName, { identity: 'sip_caller', kind: SIP }))).toBe(200);
    for (const disconnectReason of ['ROOM_DELETED', 'CLIENT_INITIATED', 'UNKNOWN_REASON']) {
      expect(await postWebhook(webhookBody('participant_left', roomName, { identity: 'agent-1', kind: AGENT, disconnectReason }))).toBe(200);
    }
    expect(await postWebhook(webhookBody('participant_left', roomName, { identity: 'agent-1', kind: AGENT }))).toBe(200);
    expect((await callRow(callId)).status).toBe('in_progress');
    expect((await world.rooms!.listRooms([roomName])).map((room) => room.name)).toEqual([roomName]);

    expect(await postWebhook(webhookBody('participant_left', roomName, { identity: 'sip_caller', kind: SIP, disconnectReason: 'CLIENT_INITIATED' }))).toBe(200);
    expect(await postWebhook(webhookBody('participant_connection_aborted', roomName, { identity: 'agent-1', kind: AGENT, disconnectReason: 'SIGNAL_CLOSE' }))).toBe(200);
    expect(await callRow(callId)).toMatchObject({ status: 'completed', endReason: 'caller_left' });
  });

  it('answers 200 to events about rooms that are not calls', async () => {
    expect(await postWebhook(webhookBody('room_finished', 'someone-elses-room'))).toBe(200);
  });

  it('hears room_finished from the real livekit-server when the room is deleted', async () => {
    const { roomName, callId } = await dispatchedCall();
    await world.rooms!.deleteRoom(roomName);
    const deadline = Date.now() + 30_000;
    while ((await callRow(callId)).status === 'dispatching' && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await callRow(callId)).toMatchObject({ status: 'abandoned', endReason: 'room_finished' });
    expect(world.ended).toContainEqual({ callId, trigger: 'livekit_webhook' });
  });
});
