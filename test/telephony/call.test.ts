// A real phone call: test phone (SIP/UDP + G.711 RTP) -> livekit-sip -> livekit-server -> a
// probe participant in the room, and back. No mocks: the binaries from `npm run stack:install`.
// Without them startStack throws with the command to run, so this suite fails, never skips.
import { ParticipantKind, type RemoteParticipant } from '@livekit/rtc-node';
import { AgentDispatchClient, RoomServiceClient, SipClient } from 'livekit-server-sdk';
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildPracticeLinePlan, ensureSip, practiceCallAttribute, practiceCallHeader, type EnsureResult } from '../../sip/ensure.js';
import { startStack, type Stack } from '../../sip/stack/stack.js';
import { toneRatio } from '../../sip/phone/audio.js';
import { createProbe, type Probe } from '../support/probe.js';
import { createSipPhone, phoneSampleRate, type SipPhone } from '../../sip/phone/phone.js';

const auth = { username: 'twilio-test', password: randomBytes(9).toString('hex') };
const directNumber = '+15550001000';
const agentName = 'practice-line-test-agent';
const probeTone = 600; // Hz, room -> phone
const phoneTone = 1000; // Hz, phone -> room

let stack: Stack;
let provisioned: EnsureResult;
let phone: SipPhone | undefined;
const probes: Probe[] = [];

beforeAll(async () => {
  stack = await startStack();
  const plan = buildPracticeLinePlan({
    agentName,
    twilio: { authUsername: auth.username, authPassword: auth.password },
    // The test phone dials from loopback with no credentials; the trust tests cover restricted trunks.
    direct: { numbers: [directNumber], allowOpen: true },
  });
  provisioned = await ensureSip(new SipClient(stack.httpUrl, stack.apiKey, stack.apiSecret), plan);
}, 120_000);

afterEach(async (context) => {
  if (context.task.result?.state === 'fail') {
    console.error(`telephony stack at failure:\n${stack?.describe()}\n--- phone SIP trace\n${phone?.trace() ?? '(none)'}`);
  }
  for (const probe of probes.splice(0)) await probe.close();
  await phone?.close();
  phone = undefined;
});

afterAll(async () => {
  await stack?.stop();
});

async function joinProbe(room: string): Promise<Probe> {
  const probe = await createProbe({ url: stack.livekitUrl, apiKey: stack.apiKey, apiSecret: stack.apiSecret, room });
  probes.push(probe);
  return probe;
}

const isSip = (p: RemoteParticipant): boolean => p.kind === ParticipantKind.SIP;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('a call through livekit-sip (Twilio path: callee rule, digest auth)', () => {
  it('is answered, joins as a SIP participant, carries DTMF and audio both ways, and BYE removes it', async () => {
    const room = `call-${randomBytes(4).toString('hex')}`;
    const practiceCallId = `call-${randomBytes(4).toString('hex')}`;
    const probe = await joinProbe(room);
    probe.startTone(probeTone);

    phone = await createSipPhone({ from: '+15550100' });
    // Custom headers ride in the URI query exactly as Twilio's <Dial><Sip> sends them.
    const call = await phone.dial(`${stack.sipUri(room)};transport=tcp?${practiceCallHeader}=${practiceCallId}`, { auth });
    expect(call.statuses).toContain(407); // challenged, then authenticated
    expect(call.statuses.at(-1)).toBe(200);

    const participant = await probe.waitForParticipant(isSip);
    expect(participant.attributes).toMatchObject({
      'sip.phoneNumber': '+15550100',
      'sip.trunkPhoneNumber': room,
      'sip.trunkID': provisioned.trunkIds['practice-line-twilio'],
      'sip.ruleID': provisioned.ruleIds['practice-line-twilio'],
      [practiceCallAttribute]: practiceCallId,
    });
    expect(participant.attributes['sip.callID']).toMatch(/^SCL_/);

    await call.sendDtmf('1234#');
    const digits = await probe.waitForDtmf('1234#');
    expect(digits.map((d) => d.digit).join('')).toBe('1234#');
    expect(digits.every((d) => d.identity === participant.identity)).toBe(true);

    await call.playTone(phoneTone, 1500);
    await sleep(500); // let the last frames cross the SFU
    const heardByProbe = probe.heard(participant.identity);
    expect(toneRatio(heardByProbe, probe.sampleRate, phoneTone)).toBeGreaterThan(0.5);
    expect(toneRatio(heardByProbe, probe.sampleRate, probeTone)).toBeLessThan(0.2);
    const heardByPhone = call.recording();
    expect(toneRatio(heardByPhone, phoneSampleRate, probeTone)).toBeGreaterThan(0.5);
    expect(toneRatio(heardByPhone, phoneSampleRate, phoneTone)).toBeLessThan(0.2);
    expect(call.voicedSegments().length).toBeGreaterThan(0);

    await call.hangup();
    await probe.waitForParticipantGone(participant.identity, 15_000);
    expect(call.isActive()).toBe(false);
  });

  it('ends the call with a BYE to the phone when the room is deleted', async () => {
    const room = `call-${randomBytes(4).toString('hex')}`;
    const probe = await joinProbe(room);
    phone = await createSipPhone({ from: '+15550101' });
    const call = await phone.dial(stack.sipUri(room), { auth });
    await probe.waitForParticipant(isSip);

    await new RoomServiceClient(stack.httpUrl, stack.apiKey, stack.apiSecret).deleteRoom(room);
    const end = await call.waitForBye(15_000);
    expect(end.by).toBe('remote');
    expect(call.isActive()).toBe(false);
  });

  it('rejects a caller with the wrong password', async () => {
    phone = await createSipPhone({ from: '+15550102' });
    await expect(
      phone.dial(stack.sipUri(`call-${randomBytes(4).toString('hex')}`), { auth: { ...auth, password: 'wrong' } }),
    ).rejects.toThrow(/INVITE .* failed: 40[137]/);
  });
});

describe('a call on the direct trunk (individual rule with agent dispatch)', () => {
  it('gets its own room, with the agent dispatched to it', async () => {
    phone = await createSipPhone({ from: '+15550103' });
    const rooms = new RoomServiceClient(stack.httpUrl, stack.apiKey, stack.apiSecret);
    const dialing = phone.dial(`sip:${directNumber}@${stack.sipHost}:${stack.sipPort}`);
    // livekit-sip creates the room and rings until someone publishes audio there.
    let room: string | undefined;
    for (let i = 0; i < 100 && room === undefined; i += 1) {
      room = (await rooms.listRooms()).map((r) => r.name).find((name) => name.startsWith('practice-direct-'));
      if (room === undefined) await sleep(100);
    }
    expect(room).toBeDefined();
    const dispatches = await new AgentDispatchClient(stack.httpUrl, stack.apiKey, stack.apiSecret).listDispatch(room ?? '');
    expect(dispatches.map((d) => d.agentName)).toContain(agentName);

    const probe = await joinProbe(room ?? '');
    const call = await dialing;
    const participant = await probe.waitForParticipant(isSip);
    expect(participant.attributes).toMatchObject({
      'sip.phoneNumber': '+15550103',
      'sip.trunkPhoneNumber': directNumber,
      'sip.trunkID': provisioned.trunkIds['practice-line-direct'],
      'sip.ruleID': provisioned.ruleIds['practice-line-direct'],
    });
    await call.hangup();
  });
});
