import { describe, expect, it } from 'vitest';
import { cseqOf, header, headers, parseSipMessage, serializeSipMessage, tagOf, uriOf } from './message.js';

describe('SIP message parsing', () => {
  it('reads a response with compact headers, folded lines and a body cut at Content-Length', () => {
    const raw = [
      'SIP/2.0 200 OK',
      'v: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK1;rport=5062',
      'f: <sip:+15550100@127.0.0.1>;tag=abc',
      't: <sip:room@127.0.0.1:5060>;tag=xyz',
      'i: 1234@127.0.0.1',
      'CSeq: 2 INVITE',
      'Record-Route: <sip:127.0.0.1;lr>',
      'Record-Route: <sip:10.0.0.1;lr>',
      'X-Long: first',
      '  second',
      'l: 4',
      '',
      'v=0\r\nignored',
    ].join('\r\n');
    const message = parseSipMessage(raw);
    expect(message).toMatchObject({ kind: 'response', status: 200, reason: 'OK', body: 'v=0\r' });
    expect(header(message, 'call-id')).toBe('1234@127.0.0.1');
    expect(tagOf(header(message, 'To'))).toBe('xyz');
    expect(headers(message, 'Record-Route')).toHaveLength(2);
    expect(header(message, 'X-Long')).toBe('first second');
    expect(cseqOf(message)).toEqual({ seq: 2, method: 'INVITE' });
  });

  it('round-trips a request and recomputes Content-Length', () => {
    const text = serializeSipMessage({
      kind: 'request',
      method: 'BYE',
      uri: 'sip:a@127.0.0.1:5060',
      headers: [{ name: 'Call-ID', value: 'c1' }, { name: 'Content-Length', value: '99' }],
      body: 'hé',
    });
    expect(text).toBe('BYE sip:a@127.0.0.1:5060 SIP/2.0\r\nCall-ID: c1\r\nContent-Length: 3\r\n\r\nhé');
    expect(parseSipMessage(text)).toMatchObject({ kind: 'request', method: 'BYE', uri: 'sip:a@127.0.0.1:5060' });
  });

  it('extracts URIs from name-addr values', () => {
    expect(uriOf('"Bob" <sip:bob@1.2.3.4:5060;transport=udp>;tag=9')).toBe('sip:bob@1.2.3.4:5060;transport=udp');
    expect(uriOf('sip:bob@1.2.3.4;tag=9')).toBe('sip:bob@1.2.3.4');
  });

  it('refuses something that is not SIP', () => {
    expect(() => parseSipMessage('GET / HTTP/1.1\r\n\r\n')).toThrow(/not a SIP message/);
  });
});
