/**
 * Just enough SIP (RFC 3261) message handling for a test phone: parse a datagram into start
 * line, headers and body; serialise one back. Written by hand because the npm SIP stacks are
 * browser/WebSocket oriented (JsSIP, sip.js) or unmaintained; UDP plus a handful of headers
 * is a few dozen lines.
 */
export interface SipRequest {
  kind: 'request';
  method: string;
  uri: string;
  headers: SipHeader[];
  body: string;
}

export interface SipResponse {
  kind: 'response';
  status: number;
  reason: string;
  headers: SipHeader[];
  body: string;
}

export type SipMessage = SipRequest | SipResponse;

export interface SipHeader {
  name: string;
  value: string;
}

// RFC 3261 §7.3.3 compact forms, expanded so lookups need only the long name.
const compactNames: Record<string, string> = {
  v: 'Via',
  f: 'From',
  t: 'To',
  i: 'Call-ID',
  m: 'Contact',
  l: 'Content-Length',
  c: 'Content-Type',
  k: 'Supported',
};

export function parseSipMessage(raw: string): SipMessage {
  const split = raw.indexOf('\r\n\r\n');
  const head = split === -1 ? raw : raw.slice(0, split);
  let body = split === -1 ? '' : raw.slice(split + 4);
  const lines = head.split('\r\n');
  const startLine = lines.shift() ?? '';
  const headers: SipHeader[] = [];
  for (const line of lines) {
    if (/^[ \t]/.test(line) && headers.length > 0) {
      // Folded continuation line (RFC 3261 §7.3.1).
      const last = headers[headers.length - 1];
      if (last !== undefined) last.value += ` ${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const rawName = line.slice(0, colon).trim();
    const name = compactNames[rawName.toLowerCase()] ?? rawName;
    headers.push({ name, value: line.slice(colon + 1).trim() });
  }
  const length = headers.find((h) => h.name.toLowerCase() === 'content-length');
  if (length !== undefined) body = body.slice(0, Number(length.value));
  const response = /^SIP\/2\.0 (\d{3}) ?(.*)$/.exec(startLine);
  if (response !== null) {
    return { kind: 'response', status: Number(response[1]), reason: response[2] ?? '', headers, body };
  }
  const request = /^([A-Z]+) (\S+) SIP\/2\.0$/.exec(startLine);
  if (request === null) throw new Error(`not a SIP message: ${startLine}`);
  return { kind: 'request', method: request[1] ?? '', uri: request[2] ?? '', headers, body };
}

export function serializeSipMessage(message: SipMessage): string {
  const start =
    message.kind === 'request'
      ? `${message.method} ${message.uri} SIP/2.0`
      : `SIP/2.0 ${message.status} ${message.reason}`;
  const headers = message.headers.filter((h) => h.name.toLowerCase() !== 'content-length');
  const lines = [start, ...headers.map((h) => `${h.name}: ${h.value}`), `Content-Length: ${Buffer.byteLength(message.body)}`];
  return `${lines.join('\r\n')}\r\n\r\n${message.body}`;
}

/** First value of a header, case-insensitive. */
export function header(message: SipMessage, name: string): string | undefined {
  const lower = name.toLowerCase();
  return message.headers.find((h) => h.name.toLowerCase() === lower)?.value;
}

export function headers(message: SipMessage, name: string): string[] {
  const lower = name.toLowerCase();
  return message.headers.filter((h) => h.name.toLowerCase() === lower).map((h) => h.value);
}

/** `;tag=` of a From/To value. */
export function tagOf(value: string | undefined): string | undefined {
  return value === undefined ? undefined : /;\s*tag=([^;>\s]+)/i.exec(value)?.[1];
}

/** The URI inside `<...>` of a name-addr (Contact, From, To, Record-Route), or the bare value. */
export function uriOf(value: string): string {
  const angle = /<([^>]+)>/.exec(value);
  return (angle?.[1] ?? value.split(';')[0] ?? value).trim();
}

/** CSeq number and method. */
export function cseqOf(message: SipMessage): { seq: number; method: string } {
  const [seq, method] = (header(message, 'CSeq') ?? '').split(/\s+/);
  return { seq: Number(seq), method: method ?? '' };
}
