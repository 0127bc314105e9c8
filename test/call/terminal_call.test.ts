// `npm run call -- --pin NNNN` in WAV mode against the real stack: the CLI dials livekit-sip on
// the direct trunk with the test SIP phone; a probe participant stands in for the persona (it
// publishes audio so livekit-sip answers, speaks a "prompt", and checks the PIN and the WAV arrive).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ParticipantKind } from '@livekit/rtc-node';
import { RoomServiceClient, SipClient } from 'livekit-server-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPracticeLinePlan, ensureSip } from '../../sip/ensure.js';
import { startStack, type Stack } from '../../sip/stack/stack.js';
import { decodeWavMono, findVoicedSegments, generateTone, toneRatio, writeWav } from '../../sip/phone/audio.js';
import { createProbe, type Probe } from '../support/probe.js';
import { startEntry } from '../support/process.js';

let stack: Stack;
const dir = mkdtempSync(join(tmpdir(), 'practice-call-'));
const number = '+15550007777';

beforeAll(async () => {
  stack = await startStack();
  await ensureSip(
    new SipClient(stack.httpUrl, stack.apiKey, stack.apiSecret),
    buildPracticeLinePlan({ agentName: 'nobody', twilio: false, direct: { numbers: [number], authUsername: 'desk', authPassword: 'desk-secret-42' } }),
  );
}, 120_000);

afterAll(async () => {
  await stack?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('npm run call (WAV mode)', () => {
  it('dials the direct trunk, keys the PIN after the prompt, speaks the WAV and saves what it heard', async () => {
    const wavIn = join(dir, 'in.wav');
    const wavOut = join(dir, 'out.wav');
    writeWav(wavIn, generateTone({ frequencyHz: 440, durationMs: 1200, sampleRate: 8000 }), 8000);
    const cli = startEntry(
      'sip/call.ts',
      { LIVEKIT_URL: stack.livekitUrl, LIVEKIT_API_KEY: stack.apiKey, LIVEKIT_API_SECRET: stack.apiSecret, LIVEKIT_SIP_HOST: stack.sipAddress },
      ['--pin', '4321', '--wav-in', wavIn, '--wav-out', wavOut, '--listen', '2'],
    );
    let probe: Probe | undefined;
    try {
      const rooms = new RoomServiceClient(stack.httpUrl, stack.apiKey, stack.apiSecret);
      let room: string | undefined;
      for (let i = 0; i < 150 && room === undefined; i++) {
        room = (await rooms.listRooms()).find((r) => r.name.startsWith('practice-direct-'))?.name;
        if (room === undefined) await new Promise((resolve) => setTimeout(resolve, 200));
      }
      expect(room, cli.stderr()).toBeDefined();
      probe = await createProbe({ url: stack.livekitUrl, apiKey: stack.apiKey, apiSecret: stack.apiSecret, room: room!, sampleRate: 16000 });
      const caller = await probe.waitForParticipant((p) => p.kind === ParticipantKind.SIP, 30_000);
      expect(caller.attributes['sip.phoneNumber']).toBe('+15550100001');
      await cli.waitForOutput(/connected in \d+ ms/, 30_000);
      // The persona's prompt: a tone, then silence.
      await probe.playPcm(generateTone({ frequencyHz: 600, durationMs: 800, sampleRate: 16000 }), 16000);
      await probe.waitForDtmf('4321#', 30_000);
      await cli.waitForOutput(/speaking /, 30_000);
      expect(await cli.exited, cli.stderr()).toBe(0);

      const heardByPersona = probe.heard(caller.identity);
      expect(toneRatio(heardByPersona, probe.sampleRate, 440)).toBeGreaterThan(0.5);
      const heardByCaller = decodeWavMono(readFileSync(wavOut), 8000);
      expect(findVoicedSegments(heardByCaller, 8000).length).toBeGreaterThan(0);
      expect(toneRatio(heardByCaller, 8000, 600)).toBeGreaterThan(0.5);
      expect(cli.stderr()).toMatch(/heard the prompt; keying the PIN/);
      expect(cli.stderr() + cli.stdout()).not.toContain('4321');
    } finally {
      cli.child.kill('SIGTERM');
      await probe?.close();
    }
  });
});
