// POST /api/dispatch/resolve, the direct-trunk path: the agent posts the caller's digits for a room
// an individual dispatch rule created; the real livekit-server's room metadata is updated.
import { eq } from 'drizzle-orm';
import { AccessToken } from 'livekit-server-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assignments, calls } from '../../src/adapters/db/schema.js';
import { dispatchResolveResponseSchema } from '../../src/domain/dispatch_resolve.js';
import { AWAITING_PIN_METADATA, parseRoomMetadata } from '../../src/domain/room_metadata.js';
import { AGENT_NAME, createCallRoutingWorld, phoneNumber, seedPracticeCall, type CallRoutingWorld } from '../support/call_routing_world.js';

let world: CallRoutingWorld;
beforeAll(async () => {
  world = await createCallRoutingWorld({ livekit: true });
});
afterAll(async () => {
  await world?.close();
});

let roomCounter = 0;
/** A room as the individual dispatch rule would make it: awaiting the PIN, agent dispatched. */
async function directTrunkRoom(): Promise<string> {
  const name = `practice-direct-test-${Date.now()}-${(roomCounter += 1)}`;
  await world.rooms!.createRoom({ name, emptyTimeout: 120, metadata: JSON.stringify(AWAITING_PIN_METADATA) });
  return name;
}

async function resolve(body: unknown, auth: string | null = `Bearer ${world.sharedSecret}`, raw?: string) {
  const response = await fetch(`${world.appUrl}/api/dispatch/resolve`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(auth ? { authorization: auth } : {}) },
    body: raw ?? JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

async function agentToken(room: string, roomAdmin = true): Promise<string> {
  const token = new AccessToken(world.apiKey, world.apiSecret, { identity: AGENT_NAME, ttl: '1m' });
  token.addGrant({ room, roomAdmin, roomJoin: true });
  return `Bearer ${await token.toJwt()}`;
}

describe('POST /api/dispatch/resolve', () => {
  it('is never open: no token, a wrong secret, or a token for another room are refused', async () => {
    const room = await directTrunkRoom();
    const body = { roomName: room, digits: '123456', callerNumber: phoneNumber(), calledNumber: phoneNumber() };
    expect((await resolve(body, null)).status).toBe(401);
    expect((await resolve(body, 'Bearer wrong-secret-wrong-secret')).status).toBe(401);
    expect((await resolve(body, `Basic ${Buffer.from(`x:${world.sharedSecret}`).toString('base64')}`)).status).toBe(401);
    const forged = new AccessToken(world.apiKey, 'another-secret-another-secret-xx', { identity: 'x', ttl: '1m' });
    forged.addGrant({ room, roomAdmin: true });
    expect((await resolve(body, `Bearer ${await forged.toJwt()}`)).status).toBe(401);
    expect((await resolve(body, await agentToken('another-room'))).status).toBe(403);
    expect((await resolve(body, await agentToken(room, false))).status).toBe(403);
  });

  it('keeps the shared secret and tokens out of the request logs', async () => {
    await resolve({ roomName: 'r', digits: '1' });
    expect(world.logs.length).toBeGreaterThan(0);
    expect(world.logs.join('\n')).not.toContain(world.sharedSecret);
  });

  it('names the bad field of a malformed body', async () => {
    const missing = await resolve({ digits: '123' });
    expect(missing.status).toBe(400);
    expect(missing.body).toMatchObject({ error: { code: 'invalid_input', fields: { roomName: expect.any(String) } } });
    const letters = await resolve({ roomName: 'r', digits: '12ab' });
    expect(letters.status).toBe(400);
    expect(Object.keys(letters.body.error.fields)).toEqual(['digits']);
    const notJson = await resolve(undefined, `Bearer ${world.sharedSecret}`, '{"roomName": ');
    expect(notJson.status).toBe(400);
    expect(notJson.body.error).toMatchObject({ code: 'invalid_json', fields: { '(body)': expect.any(String) } });
  });

  it('resolves a PIN, writes the metadata to the room, and answers the same on a repeat', async () => {
    const seeded = await seedPracticeCall(world);
    const room = await directTrunkRoom();
    const request = { roomName: room, digits: seeded.pin, callerNumber: seeded.repPhone, calledNumber: '+15550001000', sipCallId: 'SCL_direct1' };
    const first = await resolve(request, await agentToken(room));
    expect(first.status).toBe(200);
    const parsed = dispatchResolveResponseSchema.parse(first.body);
    expect(parsed.outcome).toBe('ok');
    if (parsed.outcome !== 'ok') return;
    expect(parsed.metadata).toMatchObject({ stage: 'ready', callId: parsed.callId, rep: { id: seeded.rep.id }, persona: { name: 'Diane Carter' } });

    // livekit-server applies a metadata update through the room's node asynchronously: read until it shows.
    let onServer: unknown;
    for (const deadline = Date.now() + 15_000; Date.now() < deadline; await new Promise((resolve) => setTimeout(resolve, 100))) {
      const [listed] = await world.rooms!.listRooms([room]);
      onServer = parseRoomMetadata(listed!.metadata);
      if ((onServer as { ok: boolean; metadata?: { stage?: string } }).metadata?.stage === 'ready') break;
    }
    expect(onServer).toEqual({ ok: true, metadata: parsed.metadata });
    const [row] = await world.database.db.select().from(calls).where(eq(calls.id, parsed.callId));
    expect(row).toMatchObject({ path: 'sip', status: 'in_progress', roomName: room, sipCallId: 'SCL_direct1', assignmentId: seeded.assignment.id });
    expect(row!.answeredAt).toBeInstanceOf(Date);

    const again = await resolve(request);
    expect(again.body).toEqual(first.body);
    expect((await world.database.db.select().from(assignments).where(eq(assignments.id, seeded.assignment.id)))[0]!.attemptsUsed).toBe(1);
  });

  it('asks for the PIN on a direct line unless the trunk is restricted to the carrier, then resolves by the called number alone', async () => {
    const line = phoneNumber();
    const seeded = await seedPracticeCall(world, { directLineNumber: line });
    // Default trust: the direct trunk's From is whatever the SIP client sent, so caller ID alone names nobody.
    const open = await resolve({ roomName: await directTrunkRoom(), digits: '', callerNumber: seeded.repPhone, calledNumber: line });
    expect(open.body).toMatchObject({ outcome: 'refused', reason: 'caller_unverified', retry: true, say: expect.stringMatching(/enter your personal practice PIN/) });

    world.routing.callerIdTrust = { twilio: 'attested', sip: 'carrier' };
    try {
      // Some SIP providers drop the '+'.
      const result = await resolve({ roomName: await directTrunkRoom(), digits: '', callerNumber: seeded.repPhone.slice(1), calledNumber: line.slice(1) });
      expect(result.body).toMatchObject({ outcome: 'ok', metadata: { rep: { id: seeded.rep.id }, scenario: { title: seeded.scenario.title } } });
    } finally {
      delete world.routing.callerIdTrust;
    }
  });

  it('refuses wrong PINs with a line to say, then locks the number out with retry false', async () => {
    const caller = phoneNumber();
    const room = await directTrunkRoom();
    const wrong = { roomName: room, digits: '99999999', callerNumber: caller, calledNumber: null };
    const first = await resolve(wrong);
    expect(first.body).toMatchObject({ outcome: 'refused', reason: 'wrong_pin', retry: true, say: expect.stringMatching(/not recognised/) });
    expect((await resolve({ ...wrong, digits: '' })).body).toMatchObject({ reason: 'no_digits', retry: true });
    for (let i = 0; i < 3; i += 1) await resolve(wrong);
    const locked = await resolve(wrong);
    expect(locked.body).toMatchObject({ outcome: 'refused', reason: 'locked_out', retry: false, say: expect.stringMatching(/paused/) });
  });

  it('gives the attempt back and says the line is unavailable when the room is gone', async () => {
    const seeded = await seedPracticeCall(world);
    const result = await resolve({ roomName: 'no-such-room-anywhere', digits: seeded.pin, callerNumber: seeded.repPhone, calledNumber: null });
    expect(result.body).toMatchObject({ outcome: 'refused', reason: 'unavailable', retry: false });
    expect((await world.database.db.select().from(assignments).where(eq(assignments.id, seeded.assignment.id)))[0]!.attemptsUsed).toBe(0);
    const [row] = await world.database.db.select().from(calls).where(eq(calls.roomName, 'no-such-room-anywhere'));
    expect(row).toMatchObject({ status: 'failed', endReason: 'room_unavailable' });
    expect(world.ended).toContainEqual({ callId: row!.id, trigger: 'dispatch_failed' });
  });
});

async function jobEnded(body: unknown, auth: string | null = `Bearer ${world.sharedSecret}`) {
  const response = await fetch(`${world.appUrl}/api/dispatch/job-ended`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(auth ? { authorization: auth } : {}) },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

/** A direct-trunk call resolved into a real room: live, with its persona's job about to end. */
async function liveDirectCall(): Promise<{ room: string; callId: string }> {
  const seeded = await seedPracticeCall(world);
  const room = await directTrunkRoom();
  const resolved = await resolve({ roomName: room, digits: seeded.pin, callerNumber: seeded.repPhone, calledNumber: null });
  expect(resolved.body).toMatchObject({ outcome: 'ok' });
  return { room, callId: resolved.body.callId as string };
}

const roomExists = async (room: string) => (await world.rooms!.listRooms([room])).length === 1;

describe('POST /api/dispatch/job-ended (the worker saw a job process exit)', () => {
  it('is never open, and names the bad field of a malformed body', async () => {
    const { room, callId } = await liveDirectCall();
    expect((await jobEnded({ roomName: room }, null)).status).toBe(401);
    expect((await jobEnded({ roomName: room }, 'Bearer wrong-secret-wrong-secret')).status).toBe(401);
    expect((await jobEnded({ roomName: room }, await agentToken('another-room'))).status).toBe(403);
    const missing = await jobEnded({});
    expect(missing.status).toBe(400);
    expect(missing.body).toMatchObject({ error: { code: 'invalid_input', fields: { roomName: expect.any(String) } } });
    expect((await world.database.db.select().from(calls).where(eq(calls.id, callId)))[0]!.endedAt).toBeNull();
    expect(await roomExists(room)).toBe(true);
  });

  it('fails a call still live as agent_lost and deletes its room (the caller hears BYE); a repeat changes nothing', async () => {
    const { room, callId } = await liveDirectCall();
    const first = await jobEnded({ roomName: room }, await agentToken(room));
    expect(first).toEqual({ status: 200, body: { found: true, callId, status: 'failed', changed: true } });
    const [row] = await world.database.db.select().from(calls).where(eq(calls.id, callId));
    expect(row).toMatchObject({ status: 'failed', endReason: 'agent_lost' });
    expect(world.ended).toContainEqual({ callId, trigger: 'agent_worker' });
    expect(await roomExists(room)).toBe(false);
    expect(world.logs.some((line) => line.includes('persona agent lost mid-call') && line.includes(callId))).toBe(true);
    expect(await jobEnded({ roomName: room })).toEqual({ status: 200, body: { found: true, callId, status: 'failed', changed: false } });
  });

  it('keeps the end of a call that ended well, and its room, and knows no call in a room without one', async () => {
    const { room, callId } = await liveDirectCall();
    const endedAt = new Date();
    await world.database.db.update(calls).set({ status: 'completed', endReason: 'agent_ended', answeredAt: new Date(endedAt.getTime() - 60_000), endedAt }).where(eq(calls.id, callId));
    expect(await jobEnded({ roomName: room })).toEqual({ status: 200, body: { found: true, callId, status: 'completed', changed: false } });
    expect((await world.database.db.select().from(calls).where(eq(calls.id, callId)))[0]).toMatchObject({ status: 'completed', endReason: 'agent_ended' });
    expect(await roomExists(room)).toBe(true);
    expect(await jobEnded({ roomName: await directTrunkRoom() })).toEqual({ status: 200, body: { found: false } });
  });
});

