// Guessing limits that hold whatever caller ID a guesser sends (decision 012): per called number,
// global, per caller (E.164, per path and attestation). Twilio emulated by signing as Twilio does;
// the direct trunk through POST /api/dispatch/resolve; real Postgres; a real livekit-server so a
// right PIN that is let through really gets its room.
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditLog, pinAttempts } from '../../src/adapters/db/schema.js';
import { createMetricsRegistry } from '../../src/adapters/metrics.js';
import { createCallRoutingWorld, phoneNumber, seedPracticeCall, type CallRoutingWorld } from '../support/call_routing_world.js';
import { findVerb, spokenLines, type TwilioReply } from '../support/twilio_caller.js';

let world: CallRoutingWorld;
beforeAll(async () => {
  world = await createCallRoutingWorld({ livekit: true });
});
afterAll(async () => {
  await world?.close();
});

// Every test runs hours after the last, so no window still holds another test's failures.
let hour = 0;
function freshHour(): Date {
  hour += 3;
  world.clock.now = new Date(Date.now() + hour * 3_600_000);
  return world.clock.now;
}
const later = (minutes: number) => {
  world.clock.now = new Date(world.clock.now.getTime() + minutes * 60_000);
};

const wrongPin = (pin: string) => (pin === '000000' ? '111111' : '000000');
const said = (reply: TwilioReply) => spokenLines(reply.verbs).join(' ');
const PAUSED = /^For security, PIN entry is paused after too many wrong PINs\. Please try again in \d+ minutes?\. Goodbye\.$/;

/** One Twilio call keying `digits` at the PIN prompt (a signed post to the Gather action). */
async function keyOnTwilio(from: string, to: string, digits: string, stirVerstat?: string): Promise<TwilioReply> {
  const phone = world.twilio.call({ from, to, ...(stirVerstat ? { stirVerstat } : {}) });
  return phone.post(`/twilio/pin?try=1${stirVerstat === 'TN-Validation-Passed-A' ? '&attested=1' : ''}`, { Digits: digits });
}

let roomCounter = 0;
async function resolveOnTrunk(body: { digits: string; callerNumber: string | null; calledNumber: string | null }, roomName?: string) {
  const response = await fetch(`${world.appUrl}/api/dispatch/resolve`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${world.sharedSecret}` },
    body: JSON.stringify({ roomName: roomName ?? `guess-room-${(roomCounter += 1)}`, ...body }),
  });
  return (await response.json()) as Record<string, any>;
}

async function trips(scope: string) {
  return world.database.db.select().from(auditLog).where(and(eq(auditLog.action, 'pin_guard.tripped'), eq(auditLog.entityId, scope)));
}

describe('guessing limits per called number', () => {
  it('locks a line after wrong PINs from 30 different caller numbers in a minute: the 31st, with the right PIN, is refused; audit, metric and log say so', async () => {
    freshHour();
    const line = phoneNumber();
    const seeded = await seedPracticeCall(world);
    const wrong = wrongPin(seeded.pin);
    const replies: TwilioReply[] = [];
    for (let i = 0; i < 30; i += 1) {
      replies.push(await keyOnTwilio(phoneNumber(), line, wrong));
      later(1 / 60);
    }
    // Each caller guessed once; only the line limit (20 in 10 minutes) can have stopped them.
    expect(replies.slice(0, 19).every((reply) => findVerb(reply.verbs, 'Gather') !== undefined)).toBe(true);
    for (const reply of replies.slice(19)) {
      expect(said(reply)).toMatch(PAUSED);
      expect(reply.verbs.at(-1)!.verb).toBe('Hangup');
    }

    const right = await keyOnTwilio(seeded.repPhone, line, seeded.pin);
    expect(said(right)).toMatch(PAUSED);
    expect(findVerb(right.verbs, 'Dial')).toBeUndefined();

    // Recorded: 20 guesses, then every refused try as locked_out (which does not extend the lock).
    const rows = await world.database.db.select().from(pinAttempts).where(eq(pinAttempts.calledNumber, line));
    expect(rows.filter((row) => row.reason === 'wrong_pin')).toHaveLength(20);
    expect(rows.filter((row) => row.reason === 'locked_out')).toHaveLength(11);

    // An admin can act: one audit row, a metric, a warning with the numbers only under pii.
    const [trip, ...more] = await trips('line');
    expect(more).toEqual([]);
    expect(trip!.details).toMatchObject({ scope: 'line', path: 'twilio', failures: 20, maxFailures: 20, windowMinutes: 10, calledNumber: line });
    const metrics = await createMetricsRegistry({ pool: world.database.pool, processMetrics: false }).metrics();
    expect(metrics).toMatch(/practice_line_pin_guard_trips\{scope="line"\} 1/);
    const warning = world.logs.map((entry) => JSON.parse(entry) as Record<string, any>).find((entry) => entry.msg === 'PIN guessing limit tripped; PIN entry paused');
    expect(warning).toMatchObject({ scope: 'line', path: 'twilio', failures: 20, pii: { calledNumber: line } });
    const { pii: _pii, ...rest } = warning!;
    expect(JSON.stringify(rest)).not.toContain(line.slice(2));

    // Other lines are not affected, and this one opens again once the failures age out of the window.
    const elsewhere = await keyOnTwilio(seeded.repPhone, phoneNumber(), seeded.pin);
    expect(findVerb(elsewhere.verbs, 'Dial'), said(elsewhere)).toBeDefined();
    later(11);
    const other = await seedPracticeCall(world);
    expect(findVerb((await keyOnTwilio(other.repPhone, line, other.pin)).verbs, 'Dial')).toBeDefined();
  });

  it('keys numbers in E.164: the same lock from alternating +E164 and bare spellings of the caller and called numbers', async () => {
    freshHour();
    const line = phoneNumber();
    const seeded = await seedPracticeCall(world);
    const wrong = wrongPin(seeded.pin);
    const spell = (number: string, i: number) => (i % 2 === 0 ? number : number.slice(1));
    const answers = [];
    for (let i = 0; i < 30; i += 1) {
      answers.push(await resolveOnTrunk({ digits: wrong, callerNumber: spell(phoneNumber(), i), calledNumber: spell(line, i) }));
      later(1 / 60);
    }
    expect(answers.slice(0, 19).map((answer) => answer.reason)).toEqual(Array(19).fill('wrong_pin'));
    expect(answers.slice(19).every((answer) => answer.reason === 'locked_out' && answer.retry === false && PAUSED.test(answer.say))).toBe(true);

    const right = await resolveOnTrunk({ digits: seeded.pin, callerNumber: seeded.repPhone.slice(1), calledNumber: line.slice(1) });
    expect(right).toMatchObject({ outcome: 'refused', reason: 'locked_out', retry: false });
    const rows = await world.database.db.select().from(pinAttempts).where(eq(pinAttempts.calledNumber, line));
    expect(rows).toHaveLength(31);
    expect(rows.every((row) => row.callerNumber.startsWith('+'))).toBe(true);

    // One caller alternating spellings is one caller: locked after 5, not 10.
    freshHour();
    const caller = phoneNumber();
    const own = [];
    for (let i = 0; i < 6; i += 1) own.push((await resolveOnTrunk({ digits: wrong, callerNumber: spell(caller, i), calledNumber: phoneNumber() })).reason);
    expect(own).toEqual(['wrong_pin', 'wrong_pin', 'wrong_pin', 'wrong_pin', 'locked_out', 'locked_out']);
  });

  it('records direct-line and extension tries from random numbers as attempts, then locks the line', async () => {
    freshHour();
    // Twilio direct line, callers fully attested so caller ID is trusted and looked up.
    const directLine = phoneNumber();
    const seeded = await seedPracticeCall(world, { directLineNumber: directLine });
    const replies: TwilioReply[] = [];
    for (let i = 0; i < 20; i += 1) replies.push(await world.twilio.call({ from: phoneNumber(), to: directLine, stirVerstat: 'TN-Validation-Passed-A' }).start());
    // Registered or not, every refusal says the same thing.
    expect(new Set(replies.slice(0, 19).map(said)).size).toBe(1);
    expect(said(replies[19]!)).toMatch(PAUSED);
    const rep = await world.twilio.call({ from: seeded.repPhone, to: directLine, stirVerstat: 'TN-Validation-Passed-A' }).start();
    expect(said(rep)).toMatch(PAUSED);
    const rows = await world.database.db.select().from(pinAttempts).where(eq(pinAttempts.calledNumber, directLine));
    expect(rows.map((row) => row.reason).sort()).toEqual([...Array(1).fill('locked_out'), ...Array(20).fill('unknown_caller')]);

    // Direct trunk restricted to the carrier (caller ID trusted): extension tries count the same way.
    freshHour();
    world.routing.callerIdTrust = { twilio: 'attested', sip: 'carrier' };
    try {
      const extension = String(8000 + Math.floor(Math.random() * 999));
      await seedPracticeCall(world, { extension });
      const trunkNumber = phoneNumber();
      const answers = [];
      for (let i = 0; i < 21; i += 1) answers.push((await resolveOnTrunk({ digits: extension, callerNumber: phoneNumber(), calledNumber: trunkNumber })).reason);
      expect(answers).toEqual([...Array(19).fill('unknown_caller'), 'locked_out', 'locked_out']);
    } finally {
      delete world.routing.callerIdTrust;
    }
  });
});

describe('the global guessing limit', () => {
  it('pauses PIN entry everywhere after 60 wrong PINs in an hour spread over lines that each stay under their own limit', async () => {
    freshHour();
    const wrong = '0000001';
    for (let line = 0; line < 4; line += 1) {
      const called = phoneNumber();
      for (let i = 0; i < 15; i += 1) await resolveOnTrunk({ digits: wrong, callerNumber: phoneNumber(), calledNumber: called });
    }
    const seeded = await seedPracticeCall(world);
    const right = await keyOnTwilio(seeded.repPhone, phoneNumber(), seeded.pin);
    expect(said(right)).toMatch(PAUSED);
    expect(await trips('global')).toHaveLength(1);
    later(61);
    expect(findVerb((await keyOnTwilio(seeded.repPhone, phoneNumber(), seeded.pin)).verbs, 'Dial')).toBeDefined();
  });
});

describe('a spoofed number cannot lock the real rep out of their verified path', () => {
  it('five wrong PINs from the rep’s number, unattested or on the direct trunk, leave the rep’s attested Twilio call working', async () => {
    freshHour();
    const seeded = await seedPracticeCall(world);
    const line = phoneNumber();
    const wrong = wrongPin(seeded.pin);
    const spoofed: TwilioReply[] = [];
    for (let i = 0; i < 5; i += 1) spoofed.push(await keyOnTwilio(seeded.repPhone, line, wrong, 'TN-Validation-Passed-C'));
    expect(said(spoofed[4]!)).toMatch(PAUSED);
    expect(said(await keyOnTwilio(seeded.repPhone, line, seeded.pin))).toMatch(PAUSED);
    for (let i = 0; i < 5; i += 1) await resolveOnTrunk({ digits: wrong, callerNumber: seeded.repPhone, calledNumber: line });
    expect((await resolveOnTrunk({ digits: seeded.pin, callerNumber: seeded.repPhone, calledNumber: line })).reason).toBe('locked_out');

    const real = await keyOnTwilio(seeded.repPhone, line, seeded.pin, 'TN-Validation-Passed-A');
    expect(findVerb(real.verbs, 'Dial'), said(real)).toBeDefined();
  });
});
