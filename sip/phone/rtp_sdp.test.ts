import { describe, expect, it } from 'vitest';
import { parseSipUri } from './phone.js';
import { decodeDtmfPayload, decodeRtp, dtmfEventCode, encodeDtmfPayload, encodeRtp } from './rtp.js';
import { buildOffer, parseAnswer } from './sdp.js';

describe('RTP and RFC 4733 payloads', () => {
  it('round-trips a packet header', () => {
    const bytes = encodeRtp({ payloadType: 0, marker: true, sequence: 65535, timestamp: 0xfffffff0, ssrc: 42, payload: new Uint8Array([1, 2]) });
    expect(bytes.subarray(0, 2)).toEqual(Buffer.from([0x80, 0x80]));
    expect(decodeRtp(bytes)).toEqual({ payloadType: 0, marker: true, sequence: 65535, timestamp: 0xfffffff0, ssrc: 42, payload: new Uint8Array([1, 2]) });
  });

  it('skips CSRCs and header extensions and ignores non-RTP', () => {
    const packet = Buffer.from([0x91, 8, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 9, 9, 9, 9, 0xbe, 0xde, 0, 1, 7, 7, 7, 7, 0xaa]);
    expect(decodeRtp(packet)?.payload).toEqual(new Uint8Array([0xaa]));
    expect(decodeRtp(Buffer.from('hello world!'))).toBeUndefined();
  });

  it('encodes events as RFC 4733 §2.3 lays them out', () => {
    expect(dtmfEventCode('#')).toBe(11);
    expect(dtmfEventCode('*')).toBe(10);
    expect(() => dtmfEventCode('x')).toThrow();
    expect(encodeDtmfPayload(11, true, 10, 1280)).toEqual(new Uint8Array([11, 0x8a, 0x05, 0x00]));
    expect(decodeDtmfPayload(new Uint8Array([5, 0x0a, 0, 160]))).toEqual({ event: 5, end: false, volume: 10, duration: 160 });
  });
});

describe('SDP', () => {
  it('offers PCMU, PCMA and telephone-event with 20 ms packets', () => {
    const offer = buildOffer({ address: '127.0.0.1', rtpPort: 40000, sessionId: 7 });
    expect(offer).toContain('m=audio 40000 RTP/AVP 0 8 101\r\n');
    expect(offer).toContain('a=rtpmap:101 telephone-event/8000\r\n');
    expect(offer).toContain('a=ptime:20\r\n');
  });

  it('reads the codec, address and event payload type from an answer', () => {
    const answer = parseAnswer(
      'v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=x\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 20318 RTP/AVP 8 96\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:96 telephone-event/8000\r\n',
    );
    expect(answer).toEqual({ address: '127.0.0.1', port: 20318, codec: 'PCMA', payloadType: 8, telephoneEventPt: 96 });
    expect(() => parseAnswer('v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio 1 RTP/AVP 9\r\n')).toThrow(/PCMU\/PCMA/);
  });
});

describe('SIP URIs the phone dials', () => {
  it('moves URI headers into headers and drops transport=tcp (Twilio <Sip> form)', () => {
    expect(parseSipUri('sip:room-1@127.0.0.1:5070;transport=tcp?X-Practice-Call=c%2D1&X-Other=2')).toEqual({
      requestUri: 'sip:room-1@127.0.0.1:5070',
      user: 'room-1',
      host: '127.0.0.1',
      port: 5070,
      uriHeaders: { 'X-Practice-Call': 'c-1', 'X-Other': '2' },
    });
    expect(parseSipUri('sip:+15550001000@sip.example.com')).toMatchObject({ port: 5060, host: 'sip.example.com' });
  });
});
