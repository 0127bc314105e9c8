// The test phone against a minimal user-agent server written here on a UDP socket, so what
// goes on the wire (digest retry, ACK, RTP pacing, RFC 4733 packets, BYE) can be inspected.
// The same phone against the real livekit-sip is covered by test/telephony/call.test.ts.
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { performance } from 'node:perf_hooks';
import alawmulaw from 'alawmulaw';
import { afterEach, describe, expect, it } from 'vitest';
import { generateTone, toneRatio } from './audio.js';
import { digestAuthorization, parseDigestChallenge } from './digest.js';
import { header, parseSipMessage, serializeSipMessage, type SipRequest } from './message.js';
import { createSipPhone, type SipPhone } from './phone.js';
import { decodeDtmfPayload, decodeRtp, encodeDtmfPayload, encodeRtp, type RtpPacket } from './rtp.js';

interface Uas {
  port: number;
  requests: SipRequest[];
  rtp: Array<RtpPacket & { atMs: number }>;
  sendRtp(packet: RtpPacket): void;
  bye(): Promise<number>;
  close(): void;
}

async function bind(socket: Socket): Promise<number> {
  await new Promise<void>((resolve) => socket.bind({ address: '127.0.0.1', port: 0 }, resolve));
  return socket.address().port;
}

/** Challenges the first INVITE with 407 (nonce "n1"), answers the authenticated one with PCMU. */
async function startUas(password: string, options: { answer?: boolean } = {}): Promise<Uas> {
  const sip = createSocket('udp4');
  const media = createSocket('udp4');
  const port = await bind(sip);
  const mediaPort = await bind(media);
  const requests: SipRequest[] = [];
  const rtp: Uas['rtp'] = [];
  let phoneMedia: { address: string; port: number } | undefined;
  let dialog: { invite: SipRequest; peer: RemoteInfo } | undefined;
  let byeAnswered: ((status: number) => void) | undefined;

  const reply = (request: SipRequest, peer: RemoteInfo, status: number, reason: string, extra: string[] = [], body = ''): void => {
    const copy = request.headers
      .filter((h) => ['via', 'from', 'call-id', 'cseq'].includes(h.name.toLowerCase()))
      .map((h) => ({ name: h.name, value: h.value }));
    copy.push({ name: 'To', value: `${header(request, 'To') ?? ''};tag=uas1` });
    for (const line of extra) {
      const [name, ...rest] = line.split(': ');
      copy.push({ name: name ?? '', value: rest.join(': ') });
    }
    sip.send(serializeSipMessage({ kind: 'response', status, reason, headers: copy, body }), peer.port, peer.address);
  };

  sip.on('message', (data, peer) => {
    const message = parseSipMessage(data.toString());
    if (message.kind === 'response') {
      byeAnswered?.(message.status);
      return;
    }
    requests.push(message);
    if (message.method === 'INVITE') {
      reply(message, peer, 100, 'Trying');
      const credentials = header(message, 'Proxy-Authorization');
      if (credentials === undefined) {
        reply(message, peer, 407, 'Proxy Authentication Required', ['Proxy-Authenticate: Digest realm="uas", nonce="n1", algorithm=MD5']);
        return;
      }
      const expected = digestAuthorization({
        challenge: parseDigestChallenge('Digest realm="uas", nonce="n1", algorithm=MD5'),
        method: 'INVITE',
        uri: message.uri,
        username: 'u',
        password,
      });
      const response = (s: string): string | undefined => /response="([0-9a-f]+)"/.exec(s)?.[1];
      if (response(credentials) !== response(expected)) {
        reply(message, peer, 403, 'Forbidden');
        return;
      }
      const offer = message.body;
      phoneMedia = { address: /c=IN IP4 (\S+)/.exec(offer)?.[1] ?? '', port: Number(/m=audio (\d+)/.exec(offer)?.[1]) };
      dialog = { invite: message, peer };
      reply(message, peer, 180, 'Ringing');
      if (options.answer === false) return; // ring until CANCEL
      const sdp = `v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=uas\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio ${mediaPort} RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n`;
      reply(message, peer, 200, 'OK', [`Contact: <sip:uas@127.0.0.1:${port}>`, 'Content-Type: application/sdp'], sdp);
      return;
    }
    if (message.method === 'BYE') reply(message, peer, 200, 'OK');
    if (message.method === 'CANCEL' && dialog !== undefined) {
      reply(message, peer, 200, 'OK');
      reply(dialog.invite, dialog.peer, 487, 'Request Terminated');
    }
  });
  media.on('message', (data) => {
    const packet = decodeRtp(data);
    if (packet !== undefined) rtp.push({ ...packet, atMs: performance.now() });
  });

  return {
    port,
    requests,
    rtp,
    sendRtp(packet) {
      if (phoneMedia !== undefined) media.send(encodeRtp(packet), phoneMedia.port, phoneMedia.address);
    },
    bye() {
      if (dialog === undefined) throw new Error('no dialog');
      const from = header(dialog.invite, 'From') ?? '';
      const to = header(dialog.invite, 'To') ?? '';
      const contact = /<([^>]+)>/.exec(header(dialog.invite, 'Contact') ?? '')?.[1] ?? '';
      const bye = [
        `BYE ${contact} SIP/2.0`,
        `Via: SIP/2.0/UDP 127.0.0.1:${port};branch=z9hG4bKbye1`,
        `From: ${to};tag=uas1`,
        `To: ${from}`,
        `Call-ID: ${header(dialog.invite, 'Call-ID') ?? ''}`,
        'CSeq: 1 BYE',
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n');
      const answered = new Promise<number>((resolve) => {
        byeAnswered = resolve;
      });
      sip.send(bye, dialog.peer.port, dialog.peer.address);
      return answered;
    },
    close() {
      sip.close();
      media.close();
    },
  };
}

let phone: SipPhone | undefined;
let uas: Uas | undefined;
afterEach(async () => {
  await phone?.close();
  uas?.close();
  phone = undefined;
  uas = undefined;
});

describe('test phone', () => {
  it('retries the INVITE with digest credentials, ACKs, and paces 20 ms RTP with silence', async () => {
    uas = await startUas('pw');
    phone = await createSipPhone({ from: '+15550100' });
    const call = await phone.dial(`sip:room@127.0.0.1:${uas.port}?X-Practice-Call=c1`, { auth: { username: 'u', password: 'pw' } });
    expect(call.statuses).toEqual([100, 407, 100, 180, 200]);
    expect(call.answer.codec).toBe('PCMU');

    await new Promise((resolve) => setTimeout(resolve, 1000));
    const methods = uas.requests.map((r) => r.method);
    expect(methods).toEqual(['INVITE', 'ACK', 'INVITE', 'ACK']);
    const [first, , second] = uas.requests;
    expect(header(second!, 'Call-ID')).toBe(header(first!, 'Call-ID'));
    expect(header(second!, 'CSeq')).toBe('2 INVITE');
    expect(header(second!, 'X-Practice-Call')).toBe('c1');
    const audio = uas.rtp.filter((p) => p.payloadType === 0);
    // About 50 packets a second; generous bounds for a loaded machine, where the sender skips
    // ahead (timestamp jumps by whole frames) after an event-loop stall instead of bursting.
    expect(audio.length).toBeGreaterThan(25);
    expect(audio.length).toBeLessThan(60);
    for (let i = 1; i < audio.length; i += 1) {
      const step = audio[i]!.timestamp - audio[i - 1]!.timestamp;
      expect(step % 160).toBe(0);
      expect(step).toBeGreaterThanOrEqual(160);
      expect((audio[i]!.sequence - audio[i - 1]!.sequence + 65536) % 65536).toBe(1);
      expect(audio[i]!.payload).toHaveLength(160);
    }
    expect(new Set(audio.map((p) => p.payload[0]))).toEqual(new Set([0xff])); // μ-law silence
  });

  it('sends each DTMF digit as one RFC 4733 event: own timestamp, marker first, three end packets', async () => {
    uas = await startUas('pw');
    phone = await createSipPhone();
    const call = await phone.dial(`sip:room@127.0.0.1:${uas.port}`, { auth: { username: 'u', password: 'pw' } });
    await call.sendDtmf('1#', { durationMs: 100, gapMs: 60 });
    const events = uas.rtp.filter((p) => p.payloadType === 101);
    const byTimestamp = new Map<number, typeof events>();
    for (const packet of events) byTimestamp.set(packet.timestamp, [...(byTimestamp.get(packet.timestamp) ?? []), packet]);
    expect([...byTimestamp.keys()]).toHaveLength(2);
    const digits = [...byTimestamp.values()];
    for (const [index, packets] of digits.entries()) {
      const payloads = packets.map((p) => decodeDtmfPayload(p.payload));
      expect(new Set(payloads.map((p) => p.event))).toEqual(new Set([index === 0 ? 1 : 11]));
      expect(packets[0]!.marker).toBe(true);
      expect(packets.slice(1).every((p) => !p.marker)).toBe(true);
      expect(payloads.map((p) => p.end)).toEqual([false, false, false, false, false, true, true, true]);
      expect(payloads.map((p) => p.duration)).toEqual([160, 320, 480, 640, 800, 800, 800, 800]);
    }
    expect(call.sent().filter((s) => s.kind === 'dtmf').map((s) => s.label)).toEqual(['1', '#']);
  });

  it('records what arrives by arrival time, reads RFC 4733 events, and ends on a BYE from the far end', async () => {
    uas = await startUas('pw');
    phone = await createSipPhone();
    const call = await phone.dial(`sip:room@127.0.0.1:${uas.port}`, { auth: { username: 'u', password: 'pw' } });
    const tone = alawmulaw.mulaw.encode(generateTone({ frequencyHz: 700, durationMs: 400, sampleRate: 8000 }));
    // 400 ms of tone, sent 300 ms after the answer, in 20 ms packets at real pace.
    const voice = call.waitForVoice({ afterMs: call.answeredAtMs, timeoutMs: 5000 });
    await new Promise((resolve) => setTimeout(resolve, 300));
    let quiet: Promise<number> | undefined;
    for (let i = 0; i < 20; i += 1) {
      uas.sendRtp({ payloadType: 0, marker: i === 0, sequence: i, timestamp: i * 160, ssrc: 9, payload: tone.subarray(i * 160, (i + 1) * 160) });
      await new Promise((resolve) => setTimeout(resolve, 20));
      // Asked while the tone plays: resolves only after it ends, once 300 ms passed without voice.
      if (i === 5) quiet = call.waitForQuiet({ quietMs: 300, timeoutMs: 5000 });
    }
    for (let i = 0; i < 3; i += 1) {
      uas.sendRtp({ payloadType: 101, marker: false, sequence: 20 + i, timestamp: 5000, ssrc: 9, payload: encodeDtmfPayload(5, true, 10, 800) });
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(call.receivedDtmf().map((d) => d.digit)).toEqual(['5']);
    expect(toneRatio(call.recording(), 8000, 700)).toBeGreaterThan(0.8);
    const [segment] = call.voicedSegments();
    expect(segment).toBeDefined();
    // Voiced from about 300 ms after the answer, for about 400 ms.
    expect(segment!.startMs - call.answeredAtMs).toBeGreaterThan(200);
    expect(segment!.endMs - segment!.startMs).toBeGreaterThan(300);
    expect(segment!.endMs - segment!.startMs).toBeLessThan(700);
    // Same onset within one 20 ms analysis frame (the two analyses start on different frame grids).
    expect(Math.abs((await voice).startMs - segment!.startMs)).toBeLessThanOrEqual(20);
    await expect(call.waitForVoice({ timeoutMs: 200 })).rejects.toThrow(/no voiced audio/);
    // No packets after the tone: that time counts as silence too.
    expect((await quiet!) - segment!.endMs).toBeGreaterThanOrEqual(300 - 20);

    expect(await uas.bye()).toBe(200);
    const end = await call.waitForBye(5000);
    expect(end.by).toBe('remote');
    expect(call.isActive()).toBe(false);
  });

  it('cancels a call that is not answered in time and acknowledges the 487', async () => {
    uas = await startUas('pw', { answer: false });
    phone = await createSipPhone();
    await expect(
      phone.dial(`sip:room@127.0.0.1:${uas.port}`, { auth: { username: 'u', password: 'pw' }, answerTimeoutMs: 500 }),
    ).rejects.toThrow(/no answer .* within 500 ms \(statuses 100,407,100,180\)/);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(uas.requests.map((r) => `${r.method} ${header(r, 'CSeq') ?? ''}`)).toEqual([
      'INVITE 1 INVITE',
      'ACK 1 ACK',
      'INVITE 2 INVITE',
      'CANCEL 2 CANCEL',
      'ACK 2 ACK',
    ]);
  });

  it('fails the dial when the credentials are refused', async () => {
    uas = await startUas('pw');
    phone = await createSipPhone();
    await expect(phone.dial(`sip:room@127.0.0.1:${uas.port}`, { auth: { username: 'u', password: 'nope' } })).rejects.toThrow(/403/);
  });
});
