// `npm run sip:provision` end to end: the real CLI as a child process, against a real
// livekit-server (startStack) and an emulation of the Twilio REST endpoints the SDK calls.
import { SipClient } from 'livekit-server-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TWILIO_SIGNALLING_RANGES } from '../../sip/ensure.js';
import { startStack, type Stack } from '../../sip/stack/stack.js';
import { startEntry } from '../support/process.js';
import { startTwilioRestEmulator, type TwilioRestEmulator } from '../support/twilio_rest.js';

const phone = '+15550001000';
let stack: Stack;
let twilioApi: TwilioRestEmulator;
let sip: SipClient;

beforeAll(async () => {
  stack = await startStack();
  sip = new SipClient(stack.httpUrl, stack.apiKey, stack.apiSecret);
  twilioApi = await startTwilioRestEmulator({ phoneNumbers: [phone, '+15550009999'] });
}, 120_000);

afterAll(async () => {
  await twilioApi?.close();
  await stack?.stop();
});

async function provision(args: string[], extraEnv: Record<string, string> = {}) {
  const run = startEntry(
    'sip/provision.ts',
    {
      LOG_LEVEL: 'silent',
      LIVEKIT_URL: stack.livekitUrl,
      LIVEKIT_API_KEY: stack.apiKey,
      LIVEKIT_API_SECRET: stack.apiSecret,
      LIVEKIT_SIP_HOST: stack.sipAddress,
      LIVEKIT_SIP_USERNAME: 'twilio-dial',
      LIVEKIT_SIP_PASSWORD: 'dial-secret-123',
      PUBLIC_BASE_URL: 'https://practice.example.com',
      TWILIO_ACCOUNT_SID: twilioApi.accountSid,
      TWILIO_AUTH_TOKEN: twilioApi.authToken,
      TWILIO_PHONE_NUMBER: phone,
      TWILIO_API_BASE_URL: twilioApi.url,
      ...extraEnv,
    },
    args,
  );
  const code = await run.exited;
  return { code, stdout: run.stdout(), stderr: run.stderr() };
}

const numberRow = () => twilioApi.numbers.find((n) => n.phone_number === phone)!;

describe('npm run sip:provision with Twilio', () => {
  it('voice path: the dry run lists every change and writes nothing; the real run sets voice URL and status callback; a second run changes nothing', async () => {
    const dry = await provision(['--dry-run']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain('[dry-run] trunk practice-line-twilio: create');
    expect(dry.stdout).toContain('[dry-run] rule practice-line-twilio: create');
    expect(dry.stdout).toContain(
      `[dry-run] twilio phone-number ${phone}: update (voiceUrl: https://demo.twilio.com/welcome/voice/ -> https://practice.example.com/twilio/voice; ` +
        'statusCallback: (none) -> https://practice.example.com/twilio/status; voiceFallbackUrl: (none) -> https://twimlets.com/message?',
    );
    // LiveKit's API cannot show project webhooks; provisioning says so instead of pretending.
    expect(dry.stderr).toMatch(/livekit: self-hosted; the webhook to the dispatch service is set in livekit-server's config/);
    expect(dry.stderr).not.toMatch(/WARNING: PUBLIC_BASE_URL/);
    expect(dry.stderr).toMatch(/\[dry-run\] twilio: looking up \+15550001000/);
    expect(dry.stderr).toMatch(/done: 3 change\(s\) planned, nothing written/);
    expect(twilioApi.writes()).toEqual([]);
    expect(await sip.listSipInboundTrunk()).toEqual([]);

    const real = await provision([]);
    expect(real.code, real.stderr).toBe(0);
    const writes = twilioApi.writes();
    expect(writes).toHaveLength(1);
    expect(writes[0]).toMatchObject({
      method: 'POST',
      host: 'api.twilio.com',
      form: {
        VoiceUrl: 'https://practice.example.com/twilio/voice',
        VoiceMethod: 'POST',
        StatusCallback: 'https://practice.example.com/twilio/status',
        StatusCallbackMethod: 'POST',
        VoiceFallbackMethod: 'POST',
        VoiceApplicationSid: '',
      },
    });
    // The fallback (Twilio's own hosted <Say>) answers when the dispatch service cannot.
    const fallback = new URL(writes[0]!.form.VoiceFallbackUrl!);
    expect(fallback.origin + fallback.pathname).toBe('https://twimlets.com/message');
    expect(fallback.searchParams.get('Message[0]')).toMatch(/^Sorry, Practice Line cannot take your call right now/);
    expect(writes[0]!.path).toBe(`/2010-04-01/Accounts/${twilioApi.accountSid}/IncomingPhoneNumbers/${numberRow().sid}.json`);
    const lookups = twilioApi.requests.filter((r) => r.method === 'GET');
    expect(lookups.every((r) => r.path.includes(`PhoneNumber=${encodeURIComponent(phone)}`))).toBe(true);
    const trunk = (await sip.listSipInboundTrunk()).find((t) => t.name === 'practice-line-twilio');
    expect(trunk).toMatchObject({ authUsername: 'twilio-dial', authPassword: 'dial-secret-123' });

    const before = twilioApi.writes().length;
    const again = await provision([]);
    expect(again.code, again.stderr).toBe(0);
    expect(twilioApi.writes()).toHaveLength(before);
    expect(again.stdout).toContain(`twilio phone-number ${phone}: keep`);
    expect(again.stderr).toMatch(/done: nothing to change/);
  });

  it('trunk path: creates the Elastic SIP trunk with LiveKit as origination URI, moves the number onto it and a LiveKit direct trunk for it; idempotent; back to voice takes it off', async () => {
    const dry = await provision(['--twilio-path', 'trunk', '--dry-run']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain('[dry-run] twilio sip-trunk practice-line: create');
    expect(dry.stdout).toContain('[dry-run] twilio origination-uri practice-line-livekit: create');
    expect(dry.stdout).toContain(`[dry-run] twilio trunk-number ${phone}: create (trunkSid: (none) -> (new trunk practice-line))`);
    expect(dry.stdout).toContain(`[dry-run] trunk practice-line-direct: create [addresses ${TWILIO_SIGNALLING_RANGES.join(', ')}; no auth]`);
    const writesBefore = twilioApi.writes().length;
    expect(twilioApi.trunks).toEqual([]);

    const real = await provision(['--twilio-path', 'trunk']);
    expect(real.code, real.stderr).toBe(0);
    const writes = twilioApi.writes().slice(writesBefore);
    expect(writes.map((w) => `${w.method} ${w.host} ${w.path.replace(/[A-Z]{2}[0-9a-f]{32}/g, 'SID')}`)).toEqual([
      'POST trunking.twilio.com /v1/Trunks',
      'POST trunking.twilio.com /v1/Trunks/SID/OriginationUrls',
      'POST trunking.twilio.com /v1/Trunks/SID/PhoneNumbers',
    ]);
    expect(writes[0]!.form).toEqual({ FriendlyName: 'practice-line' });
    expect(writes[1]!.form).toEqual({
      FriendlyName: 'practice-line-livekit',
      SipUrl: `sip:${stack.sipAddress};transport=tcp`,
      Weight: '10',
      Priority: '10',
      Enabled: 'true',
    });
    expect(writes[2]!.form).toEqual({ PhoneNumberSid: numberRow().sid });
    expect(numberRow().trunk_sid).toBe(twilioApi.trunks[0]!.sid);
    const direct = (await sip.listSipInboundTrunk()).find((t) => t.name === 'practice-line-direct');
    expect(direct?.numbers).toEqual([phone]);
    // Only Twilio's signalling addresses may reach the trunk Twilio sends the calls to.
    expect([...(direct?.allowedAddresses ?? [])].sort()).toEqual([...TWILIO_SIGNALLING_RANGES].sort());
    const rule = (await sip.listSipDispatchRule()).find((r) => r.name === 'practice-line-direct');
    expect(rule?.roomConfig?.agents.map((a) => a.agentName)).toEqual(['practice-line-persona']);

    const count = twilioApi.writes().length;
    const again = await provision(['--twilio-path', 'trunk']);
    expect(again.code, again.stderr).toBe(0);
    expect(twilioApi.writes()).toHaveLength(count);
    expect(again.stderr).toMatch(/done: nothing to change/);

    const back = await provision([]);
    expect(back.code, back.stderr).toBe(0);
    const last = twilioApi.writes().slice(count);
    expect(last.map((w) => `${w.method} ${w.host}`)).toEqual(['DELETE trunking.twilio.com']);
    expect(numberRow().trunk_sid).toBeNull();
    expect(back.stdout).toContain(`twilio trunk-number ${phone}: remove`);
  });

  it('names what is wrong when the number is not on the account, and never sends a write', async () => {
    const writes = twilioApi.writes().length;
    const run = await provision([], { TWILIO_PHONE_NUMBER: '+15550004242' });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('the number +15550004242 is not on Twilio account');
    expect(twilioApi.writes()).toHaveLength(writes);
  });

  it('a wrong auth token fails with the Twilio error, not a crash', async () => {
    const run = await provision([], { TWILIO_AUTH_TOKEN: 'wrong-token' });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/Authenticate/);
  });

  it('refuses to create an open direct trunk and says why; --direct-address restricts it; --allow-open-trunk creates it open with a warning', async () => {
    const direct = ['--no-twilio', '--skip-twilio-account', '--direct-number', '+15550007000'];
    const trunksBefore = JSON.stringify(await sip.listSipInboundTrunk());
    for (const args of [direct, [...direct, '--dry-run']]) {
      const refused = await provision(args);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain('refusing to create an open direct trunk');
      expect(refused.stderr).toContain('--direct-address CIDR');
      expect(refused.stderr).toContain('--allow-open-trunk');
    }
    expect(JSON.stringify(await sip.listSipInboundTrunk())).toBe(trunksBefore);

    const planned = await provision([...direct, '--direct-address', '203.0.113.0/24', '--dry-run']);
    expect(planned.code, planned.stderr).toBe(0);
    expect(planned.stdout).toMatch(/\[dry-run\] trunk practice-line-direct: (create|update \([^)]*\)).* \[addresses 203\.0\.113\.0\/24; no auth\]/);
    expect(JSON.stringify(await sip.listSipInboundTrunk())).toBe(trunksBefore);

    const open = await provision([...direct, '--allow-open-trunk']);
    expect(open.code, open.stderr).toBe(0);
    expect(open.stderr).toMatch(/warning: trunk practice-line-direct is OPEN \(--allow-open-trunk\)/);
    expect(open.stdout).toMatch(/trunk practice-line-direct: .*\[any address, no auth: OPEN to any SIP client\]/);
    const trunk = (await sip.listSipInboundTrunk()).find((t) => t.name === 'practice-line-direct');
    expect(trunk).toMatchObject({ numbers: ['+15550007000'], allowedAddresses: [], authUsername: '' });
  });
});

describe('npm run sip:provision warnings and fallback', () => {
  it('points the fallback at a second instance when asked, and warns on its own line when PUBLIC_BASE_URL is still localhost', async () => {
    const run = await provision(['--voice-fallback-url', 'https://standby.example.com/twilio/voice'], { PUBLIC_BASE_URL: 'http://localhost:3000' });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/\nWARNING: PUBLIC_BASE_URL is http:\/\/localhost:3000\. Twilio will call that URL and cannot reach this machine's loopback/);
    expect(numberRow().voice_fallback_url).toBe('https://standby.example.com/twilio/voice');
    expect(numberRow().voice_url).toBe('http://localhost:3000/twilio/voice');
  });
});
