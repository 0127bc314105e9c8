import { createHash, randomBytes } from 'node:crypto';

/**
 * HTTP digest (RFC 2617 / RFC 3261 §22) for SIP 401/407 challenges. livekit-sip challenges
 * with MD5 and no qop (pkg/sip/inbound.go handleInviteAuth); qop=auth is handled too so the
 * phone also works against other servers.
 */
export interface DigestChallenge {
  realm: string;
  nonce: string;
  algorithm?: string;
  qop?: string;
  opaque?: string;
}

export function parseDigestChallenge(value: string): DigestChallenge {
  if (!/^digest\s/i.test(value)) throw new Error(`not a digest challenge: ${value}`);
  const params = new Map<string, string>();
  for (const match of value.slice(7).matchAll(/([a-zA-Z-]+)\s*=\s*(?:"([^"]*)"|([^,\s]+))/g)) {
    params.set((match[1] ?? '').toLowerCase(), match[2] ?? match[3] ?? '');
  }
  const realm = params.get('realm');
  const nonce = params.get('nonce');
  if (realm === undefined || nonce === undefined) throw new Error(`digest challenge without realm/nonce: ${value}`);
  const challenge: DigestChallenge = { realm, nonce };
  const algorithm = params.get('algorithm');
  if (algorithm !== undefined) challenge.algorithm = algorithm;
  const qop = params.get('qop');
  if (qop !== undefined) challenge.qop = qop;
  const opaque = params.get('opaque');
  if (opaque !== undefined) challenge.opaque = opaque;
  return challenge;
}

const md5 = (text: string): string => createHash('md5').update(text).digest('hex');

export interface DigestInput {
  challenge: DigestChallenge;
  method: string;
  uri: string;
  username: string;
  password: string;
  /** Fixed client nonce, for tests; random otherwise. */
  cnonce?: string;
}

/** The Authorization / Proxy-Authorization header value answering `challenge`. */
export function digestAuthorization(input: DigestInput): string {
  const { challenge, method, uri, username, password } = input;
  const algorithm = challenge.algorithm ?? 'MD5';
  if (algorithm.toUpperCase() !== 'MD5') throw new Error(`unsupported digest algorithm ${algorithm}`);
  const ha1 = md5(`${username}:${challenge.realm}:${password}`);
  const ha2 = md5(`${method}:${uri}`);
  const parts = [
    `username="${username}"`,
    `realm="${challenge.realm}"`,
    `nonce="${challenge.nonce}"`,
    `uri="${uri}"`,
  ];
  const useQop = challenge.qop?.split(',').map((q) => q.trim()).includes('auth') ?? false;
  let response: string;
  if (useQop) {
    const cnonce = input.cnonce ?? randomBytes(8).toString('hex');
    const nc = '00000001';
    response = md5(`${ha1}:${challenge.nonce}:${nc}:${cnonce}:auth:${ha2}`);
    parts.push(`response="${response}"`, 'qop=auth', `nc=${nc}`, `cnonce="${cnonce}"`);
  } else {
    response = md5(`${ha1}:${challenge.nonce}:${ha2}`);
    parts.push(`response="${response}"`);
  }
  parts.push(`algorithm=${algorithm}`);
  if (challenge.opaque !== undefined) parts.push(`opaque="${challenge.opaque}"`);
  return `Digest ${parts.join(', ')}`;
}
