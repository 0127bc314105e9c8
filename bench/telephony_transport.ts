/*
 * Transport figures of the real telephony stack, without any agent: call setup (INVITE to 200 OK,
 * digest retry included) and one-way audio latency in both directions (test phone <-> livekit-sip
 * <-> livekit-server <-> rtc-node probe), measured as tone onsets on one process clock.
 * The room->phone figure includes the probe's AudioSource queue (set to 50 ms here).
 * These are the "transport" part of the turn-latency breakdown in docs/architecture.md.
 * Run: npx tsx bench/telephony_transport.ts [iterations=20]
 */
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { ParticipantKind } from '@livekit/rtc-node';
import { SipClient } from 'livekit-server-sdk';
import { buildPracticeLinePlan, ensureSip } from '../sip/ensure.js';
import { startStack } from '../sip/stack/stack.js';
import { findVoicedSegments, generateTone } from '../sip/phone/audio.js';
import { createProbe } from '../test/support/probe.js';
import { createSipPhone, phoneSampleRate } from '../sip/phone/phone.js';

const iterations = Number(process.argv[2] ?? 20);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function summary(name: string, values: number[]): string {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
  return `${name.padEnd(28)} n=${String(values.length).padStart(3)}  median ${at(0.5).toFixed(0).padStart(5)} ms  p95 ${at(0.95).toFixed(0).padStart(5)} ms  min ${at(0).toFixed(0).padStart(5)} ms`;
}

const stack = await startStack({ logLevel: 'warn' });
try {
  const auth = { username: 'bench', password: 'bench-password' };
  await ensureSip(
    new SipClient(stack.httpUrl, stack.apiKey, stack.apiSecret),
    buildPracticeLinePlan({ agentName: 'bench', twilio: { authUsername: auth.username, authPassword: auth.password } }),
  );
  const setup: number[] = [];
  const phoneToRoom: number[] = [];
  const roomToPhone: number[] = [];
  for (let i = 0; i < iterations; i += 1) {
    const room = `bench-${i}`;
    const probe = await createProbe({ url: stack.livekitUrl, apiKey: stack.apiKey, apiSecret: stack.apiSecret, room, queueMs: 50 });
    const phone = await createSipPhone();
    const call = await phone.dial(stack.sipUri(room), { auth });
    setup.push(call.answeredAtMs);
    const sip = await probe.waitForParticipant((p) => p.kind === ParticipantKind.SIP);
    await sleep(500);

    // Phone -> room: tone onset sent vs tone onset heard by the probe (same performance clock).
    await call.playTone(1000, 300);
    const sentAt = call.t0 + (call.sent().at(-1)?.startMs ?? NaN);
    await sleep(700);
    const heard = probe.heard(sip.identity);
    const startedAt = probe.heardStartedAtMs(sip.identity);
    if (startedAt !== undefined) {
      // Probe times are relative to its creation; shift them onto the performance clock.
      const heardOrigin = performance.now() - probe.now() + startedAt;
      const onset = findVoicedSegments(heard, probe.sampleRate).find((s) => heardOrigin + s.startMs >= sentAt - 50);
      if (onset !== undefined) phoneToRoom.push(heardOrigin + onset.startMs - sentAt);
    }

    // Room -> phone.
    const queuedAt = performance.now();
    await probe.playPcm(generateTone({ frequencyHz: 600, durationMs: 300, sampleRate: 16000 }), 16000);
    await sleep(700);
    const back = findVoicedSegments(call.recording(), phoneSampleRate).find((s) => call.t0 + s.startMs >= queuedAt - 50);
    if (back !== undefined) roomToPhone.push(call.t0 + back.startMs - queuedAt);

    await call.hangup();
    await phone.close();
    await probe.close();
  }
  console.log(`telephony transport, ${iterations} calls, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), load ${os.loadavg()[0]?.toFixed(2)}`);
  console.log(`livekit-server ${stack.versions.livekitServer}, livekit-sip ${stack.versions.livekitSip}`);
  console.log(summary('INVITE -> 200 OK', setup));
  console.log(summary('phone -> room (tone onset)', phoneToRoom));
  console.log(summary('room -> phone (tone onset)', roomToPhone));
} finally {
  await stack.stop();
}
process.exit(0);
