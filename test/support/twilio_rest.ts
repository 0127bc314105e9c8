// A small emulation of the Twilio REST endpoints `sip/twilio.ts` calls (IncomingPhoneNumbers on
// api.twilio.com, Trunks/OriginationUrls/PhoneNumbers on trunking.twilio.com), in the JSON shapes
// twilio-node parses. The SDK reaches it through createTwilioRestClient({ apiBaseUrl }); every
// request is recorded (method, path, original host, form body) so tests can check what was sent.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedTwilioRequest {
  method: string;
  /** Path and query as received. */
  path: string;
  /** api.twilio.com / trunking.twilio.com, from the X-Twilio-Host header the rebasing client adds. */
  host: string | undefined;
  form: Record<string, string>;
}

export interface EmulatedNumber {
  sid: string;
  phone_number: string;
  voice_url: string | null;
  voice_method: string;
  status_callback: string | null;
  status_callback_method: string;
  voice_fallback_url: string | null;
  voice_fallback_method: string;
  voice_application_sid: string | null;
  trunk_sid: string | null;
}

export interface EmulatedTrunk {
  sid: string;
  friendly_name: string;
  origination_urls: Array<{ sid: string; friendly_name: string; sip_url: string; weight: number; priority: number; enabled: boolean }>;
}

export interface TwilioRestEmulator {
  url: string;
  accountSid: string;
  authToken: string;
  requests: RecordedTwilioRequest[];
  numbers: EmulatedNumber[];
  trunks: EmulatedTrunk[];
  /** Requests that would change something (anything but GET). */
  writes(): RecordedTwilioRequest[];
  close(): Promise<void>;
}

let counter = 0;
const sid = (prefix: string): string => `${prefix}${(++counter).toString(16).padStart(32, '0')}`;

async function readForm(req: IncomingMessage): Promise<Record<string, string>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
}

export async function startTwilioRestEmulator(options: { accountSid?: string; authToken?: string; phoneNumbers?: string[] } = {}): Promise<TwilioRestEmulator> {
  const accountSid = options.accountSid ?? 'AC00000000000000000000000000000001';
  const authToken = options.authToken ?? 'emulated-auth-token';
  const requests: RecordedTwilioRequest[] = [];
  const numbers: EmulatedNumber[] = (options.phoneNumbers ?? ['+15550001000']).map((phone) => ({
    sid: sid('PN'),
    phone_number: phone,
    voice_url: 'https://demo.twilio.com/welcome/voice/',
    voice_method: 'POST',
    status_callback: null,
    status_callback_method: 'POST',
    voice_fallback_url: null,
    voice_fallback_method: 'POST',
    voice_application_sid: null,
    trunk_sid: null,
  }));
  const trunks: EmulatedTrunk[] = [];
  const expectedAuth = `Basic ${Buffer.from(`${accountSid}:${authToken}`).toString('base64')}`;

  const numberJson = (n: EmulatedNumber) => ({ account_sid: accountSid, friendly_name: n.phone_number, ...n });
  const trunkJson = (t: EmulatedTrunk) => ({ sid: t.sid, account_sid: accountSid, friendly_name: t.friendly_name, domain_name: null });
  const uriJson = (t: EmulatedTrunk, u: EmulatedTrunk['origination_urls'][number]) => ({ account_sid: accountSid, trunk_sid: t.sid, ...u });
  const trunkNumberJson = (t: EmulatedTrunk, n: EmulatedNumber) => ({ sid: n.sid, account_sid: accountSid, trunk_sid: t.sid, phone_number: n.phone_number });
  const meta = (key: string) => ({ key, page: 0, page_size: 50, first_page_url: '', previous_page_url: null, next_page_url: null, url: '' });

  const server: Server = createServer((req, res) => {
    void (async () => {
      const form = await readForm(req);
      const path = req.url ?? '/';
      const host = req.headers['x-twilio-host'];
      requests.push({ method: req.method ?? '', path, host: typeof host === 'string' ? host : undefined, form });
      const send = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(status === 204 ? undefined : JSON.stringify(body));
      };
      const notFound = () => send(404, { code: 20404, message: `The requested resource ${path} was not found`, status: 404 });
      if (req.headers.authorization !== expectedAuth) {
        send(401, { code: 20003, message: 'Authenticate', status: 401 });
        return;
      }
      const url = new URL(path, 'http://emulator');
      const p = url.pathname;
      let m: RegExpMatchArray | null;

      if ((m = p.match(/^\/2010-04-01\/Accounts\/(\w+)\/IncomingPhoneNumbers\.json$/)) && req.method === 'GET') {
        if (m[1] !== accountSid) return notFound();
        const wanted = url.searchParams.get('PhoneNumber');
        const rows = numbers.filter((n) => wanted === null || n.phone_number === wanted).map(numberJson);
        return send(200, { incoming_phone_numbers: rows, next_page_uri: null, previous_page_uri: null, page: 0, page_size: 50, uri: p });
      }
      if ((m = p.match(/^\/2010-04-01\/Accounts\/(\w+)\/IncomingPhoneNumbers\/(\w+)\.json$/)) && req.method === 'POST') {
        const n = numbers.find((x) => x.sid === m![2]);
        if (m[1] !== accountSid || n === undefined) return notFound();
        if ('VoiceUrl' in form) n.voice_url = form.VoiceUrl || null;
        if ('VoiceMethod' in form) n.voice_method = form.VoiceMethod ?? 'POST';
        if ('StatusCallback' in form) n.status_callback = form.StatusCallback || null;
        if ('StatusCallbackMethod' in form) n.status_callback_method = form.StatusCallbackMethod ?? 'POST';
        if ('VoiceFallbackUrl' in form) n.voice_fallback_url = form.VoiceFallbackUrl || null;
        if ('VoiceFallbackMethod' in form) n.voice_fallback_method = form.VoiceFallbackMethod ?? 'POST';
        if ('VoiceApplicationSid' in form) n.voice_application_sid = form.VoiceApplicationSid || null;
        if ('TrunkSid' in form) n.trunk_sid = form.TrunkSid || null;
        return send(200, numberJson(n));
      }
      if (p === '/v1/Trunks' && req.method === 'GET') return send(200, { trunks: trunks.map(trunkJson), meta: meta('trunks') });
      if (p === '/v1/Trunks' && req.method === 'POST') {
        const t: EmulatedTrunk = { sid: sid('TK'), friendly_name: form.FriendlyName ?? '', origination_urls: [] };
        trunks.push(t);
        return send(201, trunkJson(t));
      }
      if ((m = p.match(/^\/v1\/Trunks\/(\w+)\/OriginationUrls(?:\/(\w+))?$/))) {
        const t = trunks.find((x) => x.sid === m![1]);
        if (t === undefined) return notFound();
        if (m[2] === undefined && req.method === 'GET') return send(200, { origination_urls: t.origination_urls.map((u) => uriJson(t, u)), meta: meta('origination_urls') });
        const fields = {
          friendly_name: form.FriendlyName ?? '',
          sip_url: form.SipUrl ?? '',
          weight: Number(form.Weight),
          priority: Number(form.Priority),
          enabled: form.Enabled === 'true',
        };
        if (m[2] === undefined && req.method === 'POST') {
          const u = { sid: sid('OU'), ...fields };
          t.origination_urls.push(u);
          return send(201, uriJson(t, u));
        }
        const u = t.origination_urls.find((x) => x.sid === m![2]);
        if (u === undefined || req.method !== 'POST') return notFound();
        Object.assign(u, fields);
        return send(200, uriJson(t, u));
      }
      if ((m = p.match(/^\/v1\/Trunks\/(\w+)\/PhoneNumbers(?:\/(\w+))?$/))) {
        const t = trunks.find((x) => x.sid === m![1]);
        if (t === undefined) return notFound();
        if (m[2] === undefined && req.method === 'POST') {
          const n = numbers.find((x) => x.sid === form.PhoneNumberSid);
          if (n === undefined) return notFound();
          if (n.trunk_sid !== null) return send(400, { code: 21219, message: 'Phone number is already associated with a trunk', status: 400 });
          n.trunk_sid = t.sid;
          return send(201, trunkNumberJson(t, n));
        }
        const n = numbers.find((x) => x.sid === m![2] && x.trunk_sid === t.sid);
        if (n === undefined || req.method !== 'DELETE') return notFound();
        n.trunk_sid = null;
        return send(204, null);
      }
      return notFound();
    })().catch((error: unknown) => {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ code: 20500, message: String(error), status: 500 }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    accountSid,
    authToken,
    requests,
    numbers,
    trunks,
    writes: () => requests.filter((r) => r.method !== 'GET'),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
