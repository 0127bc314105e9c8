import { describe, expect, it } from 'vitest';
import { digestAuthorization, parseDigestChallenge } from './digest.js';

describe('digest authentication', () => {
  it('matches the worked example of RFC 2617 §3.5 (qop=auth)', () => {
    const challenge = parseDigestChallenge(
      'Digest realm="testrealm@host.com", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"',
    );
    const value = digestAuthorization({
      challenge,
      method: 'GET',
      uri: '/dir/index.html',
      username: 'Mufasa',
      password: 'Circle Of Life',
      cnonce: '0a4f113b',
    });
    expect(value).toContain('response="6629fae49393a05397450978507c4ef1"');
    expect(value).toContain('opaque="5ccc069c403ebaf9f0171e9517f40e41"');
  });

  it('answers a challenge without qop as livekit-sip sends it: MD5(HA1:nonce:HA2)', () => {
    const challenge = parseDigestChallenge('Digest realm="sipgo", nonce="n0nce", algorithm=MD5');
    const value = digestAuthorization({ challenge, method: 'INVITE', uri: 'sip:room@127.0.0.1:5060', username: 'u', password: 'p' });
    // md5(md5("u:sipgo:p") + ":n0nce:" + md5("INVITE:sip:room@127.0.0.1:5060")), worked out separately.
    expect(value).toBe(
      'Digest username="u", realm="sipgo", nonce="n0nce", uri="sip:room@127.0.0.1:5060", response="c4c9ba4af01d6384f34200c5c8ae002a", algorithm=MD5',
    );
    expect(value).not.toContain('qop');
  });

  it('rejects challenges it cannot answer', () => {
    expect(() => parseDigestChallenge('Basic realm="x"')).toThrow(/not a digest/);
    expect(() =>
      digestAuthorization({ challenge: { realm: 'r', nonce: 'n', algorithm: 'SHA-256' }, method: 'INVITE', uri: 'sip:x', username: 'u', password: 'p' }),
    ).toThrow(/unsupported/);
  });
});
