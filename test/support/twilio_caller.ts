// Twilio emulation for tests and benchmarks: requests signed exactly as Twilio signs them (with
// twilio's own helper, over PUBLIC_BASE_URL + path and the sorted form fields), posted urlencoded
// to the app's real listening address, and the TwiML answers parsed so a test can follow them
// (`<Gather>` -> post digits to its action, `<Dial><Sip>` -> the SIP URI to dial).
import { randomBytes } from 'node:crypto';
import { XMLParser } from 'fast-xml-parser';
import twilio from 'twilio';

export interface TwimlVerb {
  verb: string;
  attributes: Record<string, string>;
  text: string;
  children: TwimlVerb[];
}

const parser = new XMLParser({ preserveOrder: true, ignoreAttributes: false, attributeNamePrefix: '', trimValues: true, parseTagValue: false, parseAttributeValue: false });

type Ordered = Record<string, unknown> & { ':@'?: Record<string, string> };

function toVerbs(nodes: Ordered[]): TwimlVerb[] {
  const verbs: TwimlVerb[] = [];
  for (const node of nodes) {
    const name = Object.keys(node).find((key) => key !== ':@');
    if (!name || name === '#text' || name === '?xml') continue;
    const inner = (node[name] as Ordered[]) ?? [];
    const text = inner
      .filter((child) => '#text' in child)
      .map((child) => String(child['#text']))
      .join('');
    verbs.push({ verb: name, attributes: { ...(node[':@'] ?? {}) }, text, children: toVerbs(inner) });
  }
  return verbs;
}

/** Parses a TwiML document into the verbs under <Response>; throws unless it is one. */
export function parseTwiml(xml: string): TwimlVerb[] {
  const root = toVerbs(parser.parse(xml) as Ordered[]);
  const response = root.find((verb) => verb.verb === 'Response');
  if (!response) throw new Error(`not a TwiML <Response>: ${xml.slice(0, 200)}`);
  return response.children;
}

/** Every <Say> text, in the order a caller would hear it (including those nested in <Gather>). */
export const spokenLines = (verbs: TwimlVerb[]): string[] =>
  verbs.flatMap((verb) => (verb.verb === 'Say' ? [verb.text] : spokenLines(verb.children)));

export const findVerb = (verbs: TwimlVerb[], name: string): TwimlVerb | undefined => {
  for (const verb of verbs) {
    if (verb.verb === name) return verb;
    const nested = findVerb(verb.children, name);
    if (nested) return nested;
  }
  return undefined;
};

export interface TwilioEmulatorOptions {
  /** Where the app listens, e.g. http://127.0.0.1:PORT. */
  appUrl: string;
  /** What the app believes it is reachable at (PUBLIC_BASE_URL): Twilio signs this. */
  publicBaseUrl: string;
  authToken: string;
  accountSid?: string;
}

export interface TwilioReply {
  status: number;
  body: string;
  verbs: TwimlVerb[];
}

export function createTwilioEmulator(options: TwilioEmulatorOptions) {
  const accountSid = options.accountSid ?? `AC${randomBytes(16).toString('hex')}`;

  /** Posts as Twilio would; `publicUrl` may be absolute (a TwiML action) or a path. */
  async function post(publicUrl: string, params: Record<string, string>, init: { signature?: string | null } = {}): Promise<TwilioReply> {
    const absolute = publicUrl.startsWith('http') ? publicUrl : `${options.publicBaseUrl}${publicUrl}`;
    if (!absolute.startsWith(options.publicBaseUrl)) throw new Error(`TwiML points outside the public base URL: ${absolute}`);
    const target = `${options.appUrl}${absolute.slice(options.publicBaseUrl.length)}`;
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
    const signature = init.signature === undefined ? twilio.getExpectedTwilioSignature(options.authToken, absolute, params) : init.signature;
    if (signature !== null) headers['x-twilio-signature'] = signature;
    const response = await fetch(target, { method: 'POST', headers, body: new URLSearchParams(params).toString() });
    const body = await response.text();
    const isXml = (response.headers.get('content-type') ?? '').includes('xml');
    return { status: response.status, body, verbs: isXml ? parseTwiml(body) : [] };
  }

  /** One phone call: the fields Twilio sends with every request on it. */
  /** `stirVerstat`: what Twilio reports of the caller's STIR/SHAKEN attestation on the voice webhook, e.g. TN-Validation-Passed-A. */
  function call(input: { from: string; to: string; callSid?: string; stirVerstat?: string }) {
    const callSid = input.callSid ?? `CA${randomBytes(16).toString('hex')}`;
    const base = { AccountSid: accountSid, CallSid: callSid, From: input.from, To: input.to, Direction: 'inbound', ApiVersion: '2010-04-01' };
    return {
      callSid,
      /** The number's voice webhook. */
      start: () => post('/twilio/voice', { ...base, CallStatus: 'ringing', ...(input.stirVerstat ? { StirVerstat: input.stirVerstat } : {}) }),
      /** Keys digits into a <Gather> from the last reply and posts them to its action. */
      async keyDigits(previous: TwilioReply, digits: string): Promise<TwilioReply> {
        const gather = findVerb(previous.verbs, 'Gather');
        if (!gather?.attributes.action) throw new Error(`no <Gather action> to key digits into: ${previous.body}`);
        return post(gather.attributes.action, { ...base, CallStatus: 'in-progress', Digits: digits, FinishedOnKey: digits === '' ? '' : '#' });
      },
      /** A status callback of the <Dial><Sip> leg, to the URL in the TwiML. */
      async sipStatus(previous: TwilioReply, callStatus: string): Promise<TwilioReply> {
        const sip = findVerb(previous.verbs, 'Sip');
        if (!sip?.attributes.statusCallback) throw new Error('no <Sip statusCallback>');
        return post(sip.attributes.statusCallback, {
          ...base,
          CallSid: `CA${randomBytes(16).toString('hex')}`,
          ParentCallSid: callSid,
          CallStatus: callStatus,
          Direction: 'outbound-dial',
        });
      },
      /** The <Dial action> when the dialled leg ends. */
      async dialEnded(previous: TwilioReply, dialCallStatus: string): Promise<TwilioReply> {
        const dial = findVerb(previous.verbs, 'Dial');
        if (!dial?.attributes.action) throw new Error('no <Dial action>');
        return post(dial.attributes.action, { ...base, CallStatus: 'in-progress', DialCallStatus: dialCallStatus, DialCallDuration: '42' });
      },
      post: (path: string, params: Record<string, string>, init?: { signature?: string | null }) => post(path, { ...base, ...params }, init),
    };
  }

  return { post, call, accountSid };
}
