// The Twilio path end to end, below the audio: Twilio emulated by signing requests as Twilio does
// and following the TwiML; real Postgres; a real livekit-server holding the rooms and dispatches.
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assignments, calls, pinAttempts } from '../../src/adapters/db/schema.js';
import { parseRoomMetadata } from '../../src/domain/room_metadata.js';
import {
  AGENT_NAME,
  createCallRoutingWorld,
  phoneNumber,
  PUBLIC_BASE_URL,
  seedPracticeCall,
  type CallRoutingWorld,
} from '../support/call_routing_world.js';
import { findVerb, spokenLines, type TwimlVerb } from '../support/twilio_caller.js';
import { callPrompts } from '../../src/domain/call_prompts.js';

let world: CallRoutingWorld;
const LINE = '+15550009999';
/** A line LINE_LANGUAGES sets to Spanish (decision 017). */
const SPANISH_LINE = '+34911000999';

beforeAll(async () => {
  world = await createCallRoutingWorld({ livekit: true, lineLanguages: new Map([[SPANISH_LINE, 'es-ES']]) });
});
afterAll(async () => {
  await world?.close();
});

const callRow = async (callId: string) => (await world.database.db.select().from(calls).where(eq(calls.id, callId)))[0]!;

function dialTarget(reply: { verbs: Parameters<typeof findVerb>[0] }) {
  const sip = findVerb(reply.verbs, 'Sip');
  expect(sip, 'the TwiML dials SIP').toBeDefined();
  const match = /^sip:([^@]+)@([^;]+);transport=tcp\?X-Practice-Call=([0-9a-f-]{36})$/.exec(sip!.text);
  expect(match, sip!.text).not.toBeNull();
  return { roomName: match![1]!, host: match![2]!, callId: match![3]! };
}

describe('Twilio path', () => {
  it('greets, takes a PIN, creates the room with metadata and an agent dispatch, and dials it', async () => {
    const seeded = await seedPracticeCall(world, { timeLimitSeconds: 300 });
    const phone = world.twilio.call({ from: seeded.repPhone, to: LINE });

    const greeting = await phone.start();
    expect(greeting.status).toBe(200);
    const gather = findVerb(greeting.verbs, 'Gather')!;
    expect(gather.attributes).toMatchObject({ input: 'dtmf', finishOnKey: '#', action: `${PUBLIC_BASE_URL}/twilio/pin?try=1` });
    expect(spokenLines(greeting.verbs).join(' ')).toMatch(/enter your practice PIN/);

    const dialled = await phone.keyDigits(greeting, seeded.pin);
    expect(dialled.status).toBe(200);
    const { roomName, host, callId } = dialTarget(dialled);
    expect(host).toBe(world.sipTarget.host);
    expect(findVerb(dialled.verbs, 'Sip')!.attributes).toMatchObject({ username: world.sipTarget.username, password: world.sipTarget.password });
    expect(roomName).toMatch(/^pl-[0-9a-f]{32}$/);
    const dial = findVerb(dialled.verbs, 'Dial')!;
    expect(dial.attributes.action).toBe(`${PUBLIC_BASE_URL}/twilio/status?call=${callId}`);
    expect(Number(dial.attributes.timeLimit)).toBeGreaterThan(300);
    expect(findVerb(dialled.verbs, 'Sip')!.attributes).toMatchObject({
      statusCallback: `${PUBLIC_BASE_URL}/twilio/status?call=${callId}`,
      statusCallbackEvent: 'initiated ringing answered completed',
    });

    const [room] = await world.rooms!.listRooms([roomName]);
    expect(room, 'the room exists on livekit-server').toBeDefined();
    const metadata = parseRoomMetadata(room!.metadata);
    expect(metadata.ok).toBe(true);
    expect(metadata.ok && metadata.metadata).toMatchObject({
      v: 1,
      stage: 'ready',
      callId,
      persona: { name: 'Diane Carter', voiceId: 'voice-diane', llmModel: 'llama-test', temperature: 0.6, language: 'en' },
      scenario: { title: seeded.scenario.title, difficulty: 'hard', timeLimitSeconds: 300, rubric: [{ id: 'opening', weight: 2 }] },
      rep: { id: seeded.rep.id, firstName: 'Riley' },
    });
    const dispatches = await world.dispatches!.listDispatch(roomName);
    expect(dispatches.map((dispatch) => dispatch.agentName)).toEqual([AGENT_NAME]);
    expect(parseRoomMetadata(dispatches[0]!.metadata)).toEqual(metadata);

    const row = await callRow(callId);
    expect(row).toMatchObject({ path: 'twilio', status: 'dispatching', roomName, twilioCallSid: phone.callSid, assignmentId: seeded.assignment.id, fromNumber: seeded.repPhone, toNumber: LINE });
    const [assignment] = await world.database.db.select().from(assignments).where(eq(assignments.id, seeded.assignment.id));
    expect(assignment!.attemptsUsed).toBe(1);
    const attempts = await world.database.db.select().from(pinAttempts).where(eq(pinAttempts.callerNumber, seeded.repPhone));
    expect(attempts.map((attempt) => [attempt.success, attempt.reason])).toEqual([[true, 'pin']]);

    // Twilio retrying the same webhook gets the same room, not a second call.
    const replayed = await phone.keyDigits(greeting, seeded.pin);
    expect(dialTarget(replayed)).toEqual({ roomName, host, callId });
    expect((await world.database.db.select().from(assignments).where(eq(assignments.id, seeded.assignment.id)))[0]!.attemptsUsed).toBe(1);
  });

  it('answers duplicated concurrent PIN webhooks with one call, and races for a last attempt with one winner', async () => {
    const seeded = await seedPracticeCall(world, { maxAttempts: 1 });
    const phone = world.twilio.call({ from: seeded.repPhone, to: LINE });
    const greeting = await phone.start();
    const replies = await Promise.all([1, 2, 3].map(() => phone.keyDigits(greeting, seeded.pin)));
    const targets = replies.map((reply) => dialTarget(reply));
    expect(new Set(targets.map((target) => target.callId)).size).toBe(1);
    expect(await world.database.db.select().from(calls).where(eq(calls.twilioCallSid, phone.callSid))).toHaveLength(1);

    const shared = await seedPracticeCall(world, { maxAttempts: 1 });
    const phones = [1, 2, 3].map(() => world.twilio.call({ from: phoneNumber(), to: LINE }));
    const raced = await Promise.all(phones.map(async (racer) => racer.keyDigits(await racer.start(), shared.pin)));
    expect(raced.filter((reply) => findVerb(reply.verbs, 'Dial')).length).toBe(1);
    expect(raced.filter((reply) => /used all the attempts/.test(spokenLines(reply.verbs).join(' '))).length).toBe(2);
    expect((await world.database.db.select().from(assignments).where(eq(assignments.id, shared.assignment.id)))[0]!.attemptsUsed).toBe(1);
  });

  it('follows status callbacks through the call, ignoring replays and late events, and finalises on the end', async () => {
    const seeded = await seedPracticeCall(world);
    const phone = world.twilio.call({ from: seeded.repPhone, to: LINE });
    const dialled = await phone.keyDigits(await phone.start(), seeded.pin);
    const { callId } = dialTarget(dialled);

    expect((await phone.sipStatus(dialled, 'initiated')).status).toBe(200);
    expect((await callRow(callId)).status).toBe('dispatching');
    await phone.sipStatus(dialled, 'ringing');
    expect((await callRow(callId)).status).toBe('ringing');
    await phone.sipStatus(dialled, 'in-progress');
    const answered = await callRow(callId);
    expect(answered.status).toBe('in_progress');
    expect(answered.answeredAt).toBeInstanceOf(Date);
    await phone.sipStatus(dialled, 'in-progress');
    await phone.sipStatus(dialled, 'ringing');
    expect(await callRow(callId)).toMatchObject({ status: 'in_progress', answeredAt: answered.answeredAt });
    expect(world.ended.filter((entry) => entry.callId === callId)).toEqual([]);

    world.clock.now = new Date(answered.answeredAt!.getTime() + 65_000);
    await phone.sipStatus(dialled, 'completed');
    const done = await callRow(callId);
    expect(done).toMatchObject({ status: 'completed', endReason: 'twilio_completed', durationSeconds: 65 });

    // The Dial action and a replayed callback arrive after the end: nothing moves, the hook converges.
    const action = await phone.dialEnded(dialled, 'completed');
    expect(action.verbs.map((verb) => verb.verb)).toEqual(['Hangup']);
    await phone.sipStatus(dialled, 'completed');
    await phone.sipStatus(dialled, 'ringing');
    expect(await callRow(callId)).toMatchObject({ status: 'completed', endedAt: done.endedAt, endReason: 'twilio_completed' });
    expect(world.ended.filter((entry) => entry.callId === callId).map((entry) => entry.trigger)).toEqual(['twilio_status', 'twilio_status', 'twilio_status']);
    world.clock.now = new Date();
  });

  it('records a dial that never connects as failed', async () => {
    const seeded = await seedPracticeCall(world);
    const phone = world.twilio.call({ from: seeded.repPhone, to: LINE });
    const dialled = await phone.keyDigits(await phone.start(), seeded.pin);
    const { callId } = dialTarget(dialled);
    await phone.dialEnded(dialled, 'no-answer');
    expect(await callRow(callId)).toMatchObject({ status: 'failed', endReason: 'twilio_no_answer' });
  });

  it('re-prompts wrong PINs with a helpful line, then says goodbye and hangs up after three tries', async () => {
    const seeded = await seedPracticeCall(world);
    const caller = phoneNumber();
    const phone = world.twilio.call({ from: caller, to: LINE });
    const wrong = seeded.pin === '000000' ? '111111' : '000000';

    const first = await phone.keyDigits(await phone.start(), wrong);
    expect(spokenLines(first.verbs).join(' ')).toMatch(/not recognised.*enter your PIN/);
    expect(findVerb(first.verbs, 'Gather')!.attributes.action).toBe(`${PUBLIC_BASE_URL}/twilio/pin?try=2`);

    const second = await phone.keyDigits(first, '');
    expect(spokenLines(second.verbs).join(' ')).toMatch(/did not catch any digits/);
    expect(findVerb(second.verbs, 'Gather')!.attributes.action).toBe(`${PUBLIC_BASE_URL}/twilio/pin?try=3`);

    const third = await phone.keyDigits(second, wrong);
    expect(findVerb(third.verbs, 'Gather')).toBeUndefined();
    expect(spokenLines(third.verbs).join(' ')).toMatch(/not recognised.*Goodbye/);
    expect(third.verbs.at(-1)!.verb).toBe('Hangup');

    const rows = await world.database.db.select().from(calls).where(eq(calls.twilioCallSid, phone.callSid));
    expect(rows).toEqual([]);
    const attempts = await world.database.db.select().from(pinAttempts).where(eq(pinAttempts.callerNumber, caller));
    expect(attempts.map((attempt) => attempt.reason)).toEqual(['wrong_pin', 'wrong_pin']);
    expect(JSON.stringify(attempts)).not.toContain(wrong);
  });

  it('refuses an assignment past its enforced due date and one with no attempts left, saying why', async () => {
    const expired = await seedPracticeCall(world, { dueAt: new Date(Date.now() - 86_400_000), enforceDueDate: true });
    const phone = world.twilio.call({ from: expired.repPhone, to: LINE });
    const reply = await phone.keyDigits(await phone.start(), expired.pin);
    expect(spokenLines(reply.verbs).join(' ')).toMatch(/past its due date/);
    expect(findVerb(reply.verbs, 'Dial')).toBeUndefined();

    const late = await seedPracticeCall(world, { dueAt: new Date(Date.now() - 86_400_000), enforceDueDate: false });
    const latePhone = world.twilio.call({ from: late.repPhone, to: LINE });
    expect(findVerb((await latePhone.keyDigits(await latePhone.start(), late.pin)).verbs, 'Dial')).toBeDefined();

    const usedUp = await seedPracticeCall(world, { maxAttempts: 2, attemptsUsed: 2 });
    const usedPhone = world.twilio.call({ from: usedUp.repPhone, to: LINE });
    const refused = await usedPhone.keyDigits(await usedPhone.start(), usedUp.pin);
    expect(spokenLines(refused.verbs).join(' ')).toMatch(/used all the attempts/);
    expect(findVerb(refused.verbs, 'Dial')).toBeUndefined();
    expect((await world.database.db.select().from(assignments).where(eq(assignments.id, usedUp.assignment.id)))[0]!.attemptsUsed).toBe(2);
  });

  it('locks a number out after five wrong PINs in 15 minutes, across calls, for 15 minutes', async () => {
    const seeded = await seedPracticeCall(world);
    const caller = seeded.repPhone;
    const wrong = seeded.pin === '000000' ? '111111' : '000000';
    const start = new Date();
    world.clock.now = start;

    const first = world.twilio.call({ from: caller, to: LINE });
    let reply = await first.keyDigits(await first.start(), wrong);
    reply = await first.keyDigits(reply, wrong);
    reply = await first.keyDigits(reply, wrong);
    expect(reply.verbs.at(-1)!.verb).toBe('Hangup');

    const second = world.twilio.call({ from: caller, to: LINE });
    reply = await second.keyDigits(await second.start(), wrong);
    expect(findVerb(reply.verbs, 'Gather')).toBeDefined();
    reply = await second.keyDigits(reply, wrong);
    expect(spokenLines(reply.verbs).join(' ')).toMatch(/paused after too many wrong PINs.*15 minutes/);
    expect(reply.verbs.at(-1)!.verb).toBe('Hangup');

    // Locked: even the right PIN is not looked at, and a new call is told at once.
    const third = world.twilio.call({ from: caller, to: LINE });
    const greeting = await third.start();
    expect(spokenLines(greeting.verbs).join(' ')).toMatch(/paused/);
    expect(findVerb(greeting.verbs, 'Gather')).toBeUndefined();
    expect(spokenLines((await third.keyDigits({ ...greeting, verbs: [{ verb: 'Gather', attributes: { action: `${PUBLIC_BASE_URL}/twilio/pin?try=1` }, text: '', children: [] }] }, seeded.pin)).verbs).join(' ')).toMatch(
      /paused/,
    );

    // Someone else's number is not affected.
    const other = await seedPracticeCall(world);
    const otherPhone = world.twilio.call({ from: other.repPhone, to: LINE });
    expect(findVerb((await otherPhone.keyDigits(await otherPhone.start(), other.pin)).verbs, 'Dial')).toBeDefined();

    world.clock.now = new Date(start.getTime() + 16 * 60_000);
    const later = world.twilio.call({ from: caller, to: LINE });
    expect(findVerb((await later.keyDigits(await later.start(), seeded.pin)).verbs, 'Dial')).toBeDefined();
    const reasons = (await world.database.db.select().from(pinAttempts).where(and(eq(pinAttempts.callerNumber, caller), eq(pinAttempts.success, false)))).map((row) => row.reason);
    expect(reasons).toEqual(['wrong_pin', 'wrong_pin', 'wrong_pin', 'wrong_pin', 'wrong_pin', 'locked_out']);
    world.clock.now = new Date();
  });

  it('rejects unsigned, forged, Host-signed and tampered requests without touching anything', async () => {
    const seeded = await seedPracticeCall(world);
    const phone = world.twilio.call({ from: seeded.repPhone, to: LINE });
    const params = { Digits: seeded.pin };

    const unsigned = await phone.post('/twilio/pin?try=1', params, { signature: null });
    expect(unsigned.status).toBe(400);
    const forged = await phone.post('/twilio/pin?try=1', params, { signature: 'bm90IGEgc2lnbmF0dXJl' });
    expect(forged.status).toBe(403);

    // Signed for the address the request actually hit (the Host header), not PUBLIC_BASE_URL.
    const { default: twilio } = await import('twilio');
    const hostUrl = `${world.appUrl}/twilio/pin?try=1`;
    const full = { AccountSid: world.twilio.accountSid, CallSid: phone.callSid, From: seeded.repPhone, To: LINE, Direction: 'inbound', ApiVersion: '2010-04-01', ...params };
    const hostSigned = await fetch(hostUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': twilio.getExpectedTwilioSignature(world.authToken, hostUrl, full) },
      body: new URLSearchParams(full).toString(),
    });
    expect(hostSigned.status).toBe(403);

    // A valid signature for other digits, or another try counter, does not carry over.
    const signedForOther = twilio.getExpectedTwilioSignature(world.authToken, `${PUBLIC_BASE_URL}/twilio/pin?try=1`, { ...full, Digits: '123' });
    expect((await phone.post('/twilio/pin?try=1', params, { signature: signedForOther })).status).toBe(403);
    const signedForTry1 = twilio.getExpectedTwilioSignature(world.authToken, `${PUBLIC_BASE_URL}/twilio/pin?try=1`, full);
    expect((await phone.post('/twilio/pin?try=3', params, { signature: signedForTry1 })).status).toBe(403);

    expect((await phone.post('/twilio/status?call=00000000-0000-0000-0000-000000000000', { CallStatus: 'completed' }, { signature: null })).status).toBe(400);
    expect(await world.database.db.select().from(calls).where(eq(calls.twilioCallSid, phone.callSid))).toEqual([]);
    expect(await world.database.db.select().from(pinAttempts).where(eq(pinAttempts.callerNumber, seeded.repPhone))).toEqual([]);
  });

  it('resolves a scenario extension by an attested caller ID, and refuses it from an unknown number without saying so', async () => {
    const extension = String(700 + Math.floor(Math.random() * 299));
    const seeded = await seedPracticeCall(world, { extension, maxAttempts: null });
    const phone = world.twilio.call({ from: seeded.repPhone, to: LINE, stirVerstat: 'TN-Validation-Passed-A' });
    const dialled = await phone.keyDigits(await phone.start(), extension);
    const { callId, roomName } = dialTarget(dialled);
    expect(await callRow(callId)).toMatchObject({ repId: seeded.rep.id, scenarioId: seeded.scenario.id, assignmentId: seeded.assignment.id });
    const [room] = await world.rooms!.listRooms([roomName]);
    expect(parseRoomMetadata(room!.metadata)).toMatchObject({ ok: true, metadata: { rep: { id: seeded.rep.id } } });

    const stranger = world.twilio.call({ from: phoneNumber(), to: LINE, stirVerstat: 'TN-Validation-Passed-A' });
    const refused = await stranger.keyDigits(await stranger.start(), extension);
    expect(spokenLines(refused.verbs).join(' ')).toMatch(/needs your personal PIN on this call/);
    expect(findVerb(refused.verbs, 'Gather')).toBeDefined();

    // The rep's own number without full attestation: the same line, and the PIN still works.
    const unattested = world.twilio.call({ from: seeded.repPhone, to: LINE, stirVerstat: 'TN-Validation-Passed-C' });
    const asked = await unattested.keyDigits(await unattested.start(), extension);
    expect(spokenLines(asked.verbs).join(' ')).toBe(spokenLines(refused.verbs).join(' '));
    expect(dialTarget(await unattested.keyDigits(asked, seeded.pin)).callId).toMatch(/-/);
  });

  it('sends an attested direct-line caller straight to the scenario, and asks an unknown or unattested caller for a PIN', async () => {
    const directLine = phoneNumber();
    const seeded = await seedPracticeCall(world, { directLineNumber: directLine });
    const phone = world.twilio.call({ from: seeded.repPhone, to: directLine, stirVerstat: 'TN-Validation-Passed-A' });
    const reply = await phone.start();
    expect(findVerb(reply.verbs, 'Gather')).toBeUndefined();
    const { callId } = dialTarget(reply);
    expect(await callRow(callId)).toMatchObject({ scenarioId: seeded.scenario.id, repId: seeded.rep.id, toNumber: directLine });

    const stranger = world.twilio.call({ from: phoneNumber(), to: directLine, stirVerstat: 'TN-Validation-Passed-A' });
    const asked = await stranger.start();
    expect(spokenLines(asked.verbs).join(' ')).toMatch(/enter your personal practice PIN/);
    expect(findVerb(asked.verbs, 'Gather')).toBeDefined();

    // Spoofing the rep's number without attestation gets the same answer as a stranger.
    const spoofed = world.twilio.call({ from: seeded.repPhone, to: directLine });
    const spoofedReply = await spoofed.start();
    expect(spokenLines(spoofedReply.verbs)).toEqual(spokenLines(asked.verbs));
    expect(findVerb(spoofedReply.verbs, 'Dial')).toBeUndefined();
    const tries = await world.database.db.select().from(pinAttempts).where(eq(pinAttempts.calledNumber, directLine));
    expect(tries.map((row) => [row.success, row.reason]).sort()).toEqual([[false, 'caller_unverified'], [false, 'unknown_caller'], [true, 'direct_line']]);
  });
});

/** The voice and language of every <Say>, however deep. */
const sayVoices = (verbs: TwimlVerb[]): Record<string, string>[] =>
  verbs.flatMap((verb) => (verb.verb === 'Say' ? [{ voice: verb.attributes.voice!, language: verb.attributes.language! }] : sayVoices(verb.children)));

describe('Twilio path in the line\'s or the scenario\'s language (decision 017)', () => {
  it('a Spanish line greets, refuses and re-prompts in Spanish with a Spanish voice, then connects the PIN', async () => {
    const es = callPrompts('es');
    const seeded = await seedPracticeCall(world, { language: 'es' });
    const phone = world.twilio.call({ from: seeded.repPhone, to: SPANISH_LINE });
    const greeting = await phone.start();
    expect(spokenLines(greeting.verbs)).toEqual([es.greeting]);
    expect(sayVoices(greeting.verbs)).toEqual([{ voice: 'Polly.Lucia', language: 'es-ES' }]);
    const wrong = await phone.keyDigits(greeting, '000000');
    expect(spokenLines(wrong.verbs)).toEqual([es.wrongPin, es.enterAgain]);
    expect(new Set(sayVoices(wrong.verbs).map((say) => say.voice))).toEqual(new Set(['Polly.Lucia']));
    expect(dialTarget(await phone.keyDigits(wrong, seeded.pin)).callId).toMatch(/-/);

    // The same rep on the English line hears English.
    const english = await world.twilio.call({ from: seeded.repPhone, to: LINE }).start();
    expect(spokenLines(english.verbs)).toEqual([callPrompts('en').greeting]);
    expect(sayVoices(english.verbs)).toEqual([{ voice: 'Polly.Joanna', language: 'en-US' }]);
  });

  it("a German scenario's direct line speaks German from the first word; an extension's refusal speaks its scenario's language", async () => {
    const directLine = phoneNumber();
    await seedPracticeCall(world, { language: 'de', directLineNumber: directLine });
    const stranger = world.twilio.call({ from: phoneNumber(), to: directLine, stirVerstat: 'TN-Validation-Passed-A' });
    const asked = await stranger.start();
    expect(spokenLines(asked.verbs)).toEqual([callPrompts('de').personalPin]);
    expect(sayVoices(asked.verbs)).toEqual([{ voice: 'Polly.Vicki', language: 'de-DE' }]);

    const extension = String(7000 + Math.floor(Math.random() * 999));
    await seedPracticeCall(world, { language: 'fr-CA', extension });
    const caller = world.twilio.call({ from: phoneNumber(), to: LINE, stirVerstat: 'TN-Validation-Passed-A' });
    const greeting = await caller.start();
    expect(sayVoices(greeting.verbs)).toEqual([{ voice: 'Polly.Joanna', language: 'en-US' }]);
    const refused = await caller.keyDigits(greeting, extension);
    expect(spokenLines(refused.verbs)).toEqual([callPrompts('fr').extensionNeedsPin, callPrompts('fr').enterAgain]);
    expect(new Set(sayVoices(refused.verbs).map((say) => JSON.stringify(say)))).toEqual(new Set([JSON.stringify({ voice: 'Polly.Chantal', language: 'fr-CA' })]));
  });
});

describe('Twilio path logs', () => {
  it('never log a PIN, a signature or the caller number outside pii', async () => {
    const seeded = await seedPracticeCall(world);
    const phone = world.twilio.call({ from: seeded.repPhone, to: LINE });
    await phone.keyDigits(await phone.start(), seeded.pin);
    const logs = world.logs.join('\n');
    expect(logs).toContain('twilio call routed');
    expect(logs).not.toContain(seeded.pin);
    for (const line of world.logs) {
      const entry = JSON.parse(line) as Record<string, unknown>;
      const { pii: _pii, ...rest } = entry;
      expect(JSON.stringify(rest)).not.toContain(seeded.repPhone);
      expect(JSON.stringify((entry.req as { headers?: Record<string, string> } | undefined)?.headers?.['x-twilio-signature'] ?? '[redacted]')).toBe('"[redacted]"');
    }
  });
});

describe('Twilio path without LiveKit', () => {
  let bare: CallRoutingWorld;
  beforeAll(async () => {
    bare = await createCallRoutingWorld({ livekit: false });
  });
  afterAll(async () => {
    await bare?.close();
  });

  it('says politely that the line is not configured and hangs up, still checking signatures', async () => {
    const phone = bare.twilio.call({ from: phoneNumber(), to: LINE });
    const reply = await phone.start();
    expect(reply.status).toBe(200);
    expect(spokenLines(reply.verbs).join(' ')).toMatch(/not configured yet/);
    expect(reply.verbs.at(-1)!.verb).toBe('Hangup');
    expect((await phone.post('/twilio/voice', {}, { signature: null })).status).toBe(400);
  });
});
