/**
 * A test phone: a SIP user agent over UDP with G.711 RTP, for placing real calls into
 * livekit-sip (or anything else that speaks SIP) from a test.
 *
 *   const phone = await createTestPhone({ from: '+15550100' });
 *   const call = await phone.dial(stack.sipUri(roomName), {
 *     headers: { 'X-Practice-Call': callId },          // or put them in the URI: sip:r@h:p?X-A=1
 *     auth: { username: 'u', password: 'p' },          // answers a 401/407 digest challenge
 *   });
 *   await call.playWav('fixtures/hello.wav');          // resampled to 8 kHz, 20 ms frames
 *   await call.sendDtmf('1234#');                      // RFC 4733 events
 *   call.recording();                                  // Int16Array, 8 kHz, sample i = i/8 ms after call.t0
 *   call.voicedSegments();                             // [{ startMs, endMs }] on the same clock
 *   await call.waitForVoice({ afterMs: call.now() });  // first voiced audio heard from now on
 *   call.sent();                                       // what the phone sent, same clock
 *   await call.waitForBye();                           // the far end hung up
 *   await call.hangup();                               // we hang up (BYE)
 *   await phone.close();
 *
 * Between utterances the phone keeps sending silence: livekit-sip ends calls whose RTP stops.
 * Every timestamp the call reports (sent, received packets, recording position, answeredAtMs)
 * is milliseconds since `call.t0`, taken just before the first INVITE, so latencies can be
 * read straight off: first voiced audio heard minus the end of the last utterance sent.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { performance } from 'node:perf_hooks';
import alawmulaw from 'alawmulaw';
import { findVoicedSegments, generateTone, readWavMono, writeWav, type Segment, type VoicedOptions } from '../audio.js';
import { digestAuthorization, parseDigestChallenge } from './digest.js';
import {
  cseqOf,
  header,
  headers as headerValues,
  parseSipMessage,
  serializeSipMessage,
  tagOf,
  uriOf,
  type SipHeader,
  type SipMessage,
  type SipRequest,
  type SipResponse,
} from './message.js';
import { decodeDtmfPayload, decodeRtp, dtmfEventCode, encodeDtmfPayload, encodeRtp } from './rtp.js';
import { buildOffer, parseAnswer, type Answer, type G711Codec } from './sdp.js';

export const phoneSampleRate = 8000;
const frameSamples = 160; // 20 ms at 8 kHz
const frameMs = 20;
const t1Ms = 500; // RFC 3261 timer T1
const t2Ms = 4000; // RFC 3261 timer T2

export interface TestPhoneOptions {
  /** User part of From and Contact (the caller's number); default '+15550100'. */
  from?: string;
  displayName?: string;
  /** Codecs offered, in order; default PCMU, PCMA. */
  codecs?: readonly G711Codec[];
  /** Called with every SIP message sent or received (for debugging). */
  onTrace?: (line: string) => void;
}

export interface DialOptions {
  /** Extra SIP headers on the INVITE (custom headers must start with X-). */
  headers?: Record<string, string>;
  /** Credentials for a 401/407 digest challenge. */
  auth?: { username: string; password: string };
  /** How long to wait for a final answer; default 30 s. CANCELs on timeout. */
  answerTimeoutMs?: number;
}

export interface DtmfOptions {
  /** Tone length per digit; default 160 ms. */
  durationMs?: number;
  /** Silence between digits; default 120 ms. */
  gapMs?: number;
}

export interface SentItem {
  kind: 'audio' | 'dtmf';
  /** For dtmf, the digit. */
  label: string;
  startMs: number;
  endMs: number;
}

export interface ReceivedPacket {
  arrivalMs: number;
  sequence: number;
  timestamp: number;
  payloadType: number;
  marker: boolean;
  bytes: number;
}

export interface ReceivedDtmf {
  digit: string;
  arrivalMs: number;
}

export interface CallEnd {
  by: 'local' | 'remote';
  atMs: number;
}

export interface PhoneCall {
  readonly callId: string;
  /** performance.now() at the first INVITE; the origin of every *Ms value of this call. */
  readonly t0: number;
  readonly answeredAtMs: number;
  readonly answer: Answer;
  /** Status codes received for the INVITE(s), in order (e.g. 100, 407, 100, 180, 200). */
  readonly statuses: readonly number[];
  /** Headers of the 200 OK. */
  readonly okHeaders: readonly SipHeader[];
  /** Milliseconds since t0, now. */
  now(): number;
  /** Queues 8 kHz mono PCM; resolves once its last frame is on the wire. */
  playPcm(samples: Int16Array, label?: string): Promise<void>;
  /** Reads any WAV, resamples to 8 kHz mono, and plays it. */
  playWav(path: string): Promise<void>;
  playTone(frequencyHz: number, durationMs: number, amplitude?: number): Promise<void>;
  /** RFC 4733 events for each digit in order; resolves after the last end packet. */
  sendDtmf(digits: string, options?: DtmfOptions): Promise<void>;
  /** Everything received so far as 8 kHz PCM, placed by arrival time (gaps are silence). */
  recording(): Int16Array;
  saveRecording(path: string): void;
  voicedSegments(options?: VoicedOptions): Segment[];
  /**
   * Resolves with the first voiced segment starting at or after `afterMs` (default now) once it
   * has lasted `minDurationMs` (default 100); e.g. the greeting, or the reply to what was just said.
   */
  waitForVoice(options?: { afterMs?: number; minDurationMs?: number; timeoutMs?: number } & VoicedOptions): Promise<Segment>;
  packets(): readonly ReceivedPacket[];
  receivedDtmf(): readonly ReceivedDtmf[];
  sent(): readonly SentItem[];
  /** Resolves when the call ends either way. */
  readonly ended: Promise<CallEnd>;
  isActive(): boolean;
  /** Resolves when the far end sends BYE; rejects after the timeout (default 30 s). */
  waitForBye(timeoutMs?: number): Promise<CallEnd>;
  /** Sends BYE and waits for its answer (or 5 s). */
  hangup(): Promise<void>;
}

export interface TestPhone {
  readonly sipPort: number;
  dial(uri: string, options?: DialOptions): Promise<PhoneCall>;
  /** Full SIP trace of this phone, for failure messages. */
  trace(): string;
  /** Hangs up active calls and closes the sockets. */
  close(): Promise<void>;
}

interface Target {
  requestUri: string;
  user: string;
  host: string;
  port: number;
  uriHeaders: Record<string, string>;
}

/** Splits `sip:user@host:port;params?X-A=1&X-B=2` into what the phone needs. */
export function parseSipUri(uri: string): Target {
  const match = /^sips?:(?:([^@]+)@)?([^:;?]+)(?::(\d+))?([^?]*)(?:\?(.*))?$/.exec(uri.trim());
  if (match === null) throw new Error(`not a SIP URI: ${uri}`);
  const user = decodeURIComponent(match[1] ?? '');
  const host = match[2] ?? '';
  const port = match[3] === undefined ? 5060 : Number(match[3]);
  const uriHeaders: Record<string, string> = {};
  for (const pair of (match[5] ?? '').split('&')) {
    if (pair === '') continue;
    const [name, value] = pair.split('=');
    if (name !== undefined) uriHeaders[decodeURIComponent(name)] = decodeURIComponent(value ?? '');
  }
  // The phone speaks UDP only; a ;transport=tcp (as Twilio's <Sip> URIs carry) is dropped
  // from the Request-URI. livekit-sip listens on UDP and TCP with the same port.
  const params = (match[4] ?? '').split(';').filter((p) => p !== '' && !/^transport=/i.test(p));
  const userPart = match[1] === undefined ? '' : `${match[1]}@`;
  const portPart = match[3] === undefined ? '' : `:${match[3]}`;
  const requestUri = `sip:${userPart}${host}${portPart}${params.map((p) => `;${p}`).join('')}`;
  return { requestUri, user, host, port, uriHeaders };
}

const newTag = (): string => randomBytes(6).toString('hex');
const newBranch = (): string => `z9hG4bK${randomBytes(8).toString('hex')}`;

interface Pending {
  resolve: (response: SipResponse) => void;
  onProvisional?: (response: SipResponse) => void;
}

export async function createTestPhone(options: TestPhoneOptions = {}): Promise<TestPhone> {
  const localAddress = '127.0.0.1';
  const from = options.from ?? '+15550100';
  const codecs = options.codecs ?? ['PCMU', 'PCMA'];
  const traceLines: string[] = [];
  const origin = performance.now();
  const socket = createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind({ address: localAddress, port: 0 }, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  const sipPort = socket.address().port;
  const pending = new Map<string, Pending>(); // `${callId}|${cseq}|${method}` -> client transaction
  const dialogs = new Map<string, CallImpl>(); // Call-ID -> call

  const trace = (direction: '>' | '<', message: string, peer: string): void => {
    const line = `[${(performance.now() - origin).toFixed(0)}ms] ${direction} ${peer}\n${message}`;
    traceLines.push(line);
    options.onTrace?.(line);
  };

  const sendRaw = (message: SipMessage, host: string, port: number): void => {
    const text = serializeSipMessage(message);
    trace('>', text, `${host}:${port}`);
    socket.send(text, port, host);
  };

  const respond = (request: SipRequest, status: number, reason: string, peer: RemoteInfo, extra: SipHeader[] = [], body = ''): void => {
    const copied = request.headers.filter((h) => ['via', 'from', 'to', 'call-id', 'cseq'].includes(h.name.toLowerCase()));
    const dialog = dialogs.get(header(request, 'Call-ID') ?? '');
    const response: SipResponse = {
      kind: 'response',
      status,
      reason,
      headers: copied.map((h) =>
        h.name.toLowerCase() === 'to' && tagOf(h.value) === undefined && dialog !== undefined
          ? { name: 'To', value: `${h.value};tag=${dialog.localTag}` }
          : h,
      ),
      body,
    };
    response.headers.push(...extra);
    sendRaw(response, peer.address, peer.port);
  };

  socket.on('message', (data, peer) => {
    const text = data.toString('utf8');
    trace('<', text, `${peer.address}:${peer.port}`);
    let message: SipMessage;
    try {
      message = parseSipMessage(text);
    } catch {
      return; // not SIP (e.g. a stray keep-alive)
    }
    const callId = header(message, 'Call-ID') ?? '';
    const { seq, method } = cseqOf(message);
    if (message.kind === 'response') {
      const key = `${callId}|${seq}|${method}`;
      const transaction = pending.get(key);
      if (message.status < 200) {
        transaction?.onProvisional?.(message);
        return;
      }
      if (transaction !== undefined) {
        pending.delete(key);
        transaction.resolve(message);
        return;
      }
      // A retransmitted 2xx to an INVITE: our ACK was lost or is in flight; ACK again.
      if (method === 'INVITE' && message.status >= 200 && message.status < 300) dialogs.get(callId)?.resendAck();
      return;
    }
    const dialog = dialogs.get(callId);
    switch (message.method) {
      case 'ACK':
        return;
      case 'BYE':
        respond(message, dialog === undefined ? 481 : 200, dialog === undefined ? 'Call/Transaction Does Not Exist' : 'OK', peer);
        dialog?.remoteBye();
        return;
      case 'INVITE':
        // A re-INVITE (session refresh): keep the media as it is and answer with our offer again.
        if (dialog === undefined) {
          respond(message, 481, 'Call/Transaction Does Not Exist', peer);
          return;
        }
        respond(message, 200, 'OK', peer, [
          { name: 'Contact', value: `<sip:${from}@${localAddress}:${sipPort}>` },
          { name: 'Content-Type', value: 'application/sdp' },
        ], dialog.localSdp);
        return;
      default:
        // OPTIONS keep-alives, INFO, NOTIFY, CANCEL: acknowledge so the far end stays happy.
        respond(message, 200, 'OK', peer);
    }
  });

  /** Sends a request and retransmits it (timer A / E) until a final response or 32 s. */
  const request = (message: SipRequest, host: string, port: number, onProvisional?: (r: SipResponse) => void): Promise<SipResponse> => {
    const callId = header(message, 'Call-ID') ?? '';
    const { seq, method } = cseqOf(message);
    const key = `${callId}|${seq}|${method}`;
    return new Promise<SipResponse>((resolve, reject) => {
      let interval = t1Ms;
      let timer: NodeJS.Timeout | undefined;
      let provisional = false;
      const started = Date.now();
      const retransmit = (): void => {
        if (Date.now() - started > 64 * t1Ms) {
          pending.delete(key);
          reject(new Error(`no final response to ${method} after ${64 * t1Ms} ms`));
          return;
        }
        // After a provisional response an INVITE is neither retransmitted nor timed out: it
        // rings until answered or cancelled (RFC 3261 §17.1.1.2, Proceeding state).
        if (method === 'INVITE' && provisional) return;
        sendRaw(message, host, port);
        interval = method === 'INVITE' ? interval * 2 : Math.min(interval * 2, t2Ms);
        timer = setTimeout(retransmit, interval);
      };
      const pendingEntry: Pending = {
        resolve: (response) => {
          clearTimeout(timer);
          resolve(response);
        },
        onProvisional: (response) => {
          provisional = true;
          onProvisional?.(response);
        },
      };
      pending.set(key, pendingEntry);
      retransmit();
    });
  };

  class CallImpl implements PhoneCall {
    readonly callId: string;
    readonly t0: number;
    answeredAtMs = 0;
    answer!: Answer;
    readonly statuses: number[] = [];
    okHeaders: SipHeader[] = [];
    readonly localTag = newTag();
    localSdp = '';
    readonly ended: Promise<CallEnd>;
    private resolveEnded!: (end: CallEnd) => void;
    private active = false;
    private remoteTag = '';
    private remoteTarget = '';
    private routeSet: string[] = [];
    private cseq = 1;
    private inviteCseq = 1;
    private ackMessage: SipRequest | undefined;
    private rtp!: Socket;
    private sendTimer: NodeJS.Timeout | undefined;
    private readonly queue: Array<
      | { kind: 'audio'; frames: Int16Array[]; label: string; done: () => void; item?: SentItem }
      | { kind: 'dtmf'; digit: string; durationMs: number; gapMs: number; done: () => void; item?: SentItem; state?: { startTs: number; sentMs: number; endsSent: number; gapLeftMs: number } }
    > = [];
    private readonly ssrc = randomInt(1, 2 ** 31);
    private sequence = randomInt(0, 2 ** 15);
    private timestamp = randomInt(0, 2 ** 30);
    private readonly sentItems: SentItem[] = [];
    private readonly received: ReceivedPacket[] = [];
    private readonly dtmfIn: ReceivedDtmf[] = [];
    private lastDtmfInTs: number | undefined;
    private readonly chunks: Int16Array[] = [];
    private recordedSamples = 0;

    constructor(
      private readonly target: Target,
      private readonly dialOptions: DialOptions,
    ) {
      this.callId = `${randomBytes(10).toString('hex')}@${localAddress}`;
      this.t0 = performance.now();
      this.ended = new Promise<CallEnd>((resolve) => {
        this.resolveEnded = resolve;
      });
    }

    now(): number {
      return performance.now() - this.t0;
    }

    isActive(): boolean {
      return this.active;
    }

    private fromHeader(): string {
      const name = options.displayName === undefined ? '' : `"${options.displayName}" `;
      return `${name}<sip:${from}@${localAddress}>;tag=${this.localTag}`;
    }

    private toHeader(withTag: boolean): string {
      const base = `<${this.target.requestUri}>`;
      return withTag && this.remoteTag !== '' ? `${base};tag=${this.remoteTag}` : base;
    }

    private baseHeaders(branch: string, cseq: number, method: string, withToTag: boolean): SipHeader[] {
      return [
        { name: 'Via', value: `SIP/2.0/UDP ${localAddress}:${sipPort};branch=${branch};rport` },
        { name: 'Max-Forwards', value: '70' },
        { name: 'From', value: this.fromHeader() },
        { name: 'To', value: this.toHeader(withToTag) },
        { name: 'Call-ID', value: this.callId },
        { name: 'CSeq', value: `${cseq} ${method}` },
      ];
    }

    async start(): Promise<void> {
      this.rtp = createSocket('udp4');
      await new Promise<void>((resolve) => this.rtp.bind({ address: localAddress, port: 0 }, resolve));
      this.rtp.on('message', (data) => this.onRtp(data));
      this.localSdp = buildOffer({ address: localAddress, rtpPort: this.rtp.address().port, codecs });
      dialogs.set(this.callId, this);

      const extraHeaders: SipHeader[] = Object.entries({ ...this.target.uriHeaders, ...this.dialOptions.headers }).map(
        ([name, value]) => ({ name, value }),
      );
      const timeoutMs = this.dialOptions.answerTimeoutMs ?? 30_000;
      let authTried = false;
      let authorization: SipHeader | undefined;
      for (;;) {
        const branch = newBranch();
        this.inviteCseq = this.cseq;
        const invite: SipRequest = {
          kind: 'request',
          method: 'INVITE',
          uri: this.target.requestUri,
          headers: [
            ...this.baseHeaders(branch, this.cseq, 'INVITE', false),
            { name: 'Contact', value: `<sip:${from}@${localAddress}:${sipPort}>` },
            { name: 'Allow', value: 'INVITE, ACK, BYE, CANCEL, OPTIONS' },
            { name: 'User-Agent', value: 'practice-line-test-phone' },
            ...(authorization === undefined ? [] : [authorization]),
            ...extraHeaders,
            { name: 'Content-Type', value: 'application/sdp' },
          ],
          body: this.localSdp,
        };
        this.cseq += 1;
        const answered = this.request(invite, (r) => this.statuses.push(r.status));
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<'timeout'>((resolve) => {
          timer = setTimeout(() => resolve('timeout'), timeoutMs);
        });
        const response = await Promise.race([answered, timeout]).finally(() => clearTimeout(timer));
        if (response === 'timeout') {
          await this.cancel(invite, branch, answered);
          throw new Error(`no answer to INVITE ${this.target.requestUri} within ${timeoutMs} ms (statuses ${this.statuses.join(',')})`);
        }
        this.statuses.push(response.status);
        if (response.status >= 200 && response.status < 300) {
          this.onOk(response);
          return;
        }
        this.ackNon2xx(invite, branch, response);
        const challengeHeader = response.status === 407 ? 'Proxy-Authenticate' : 'WWW-Authenticate';
        const challengeValue = header(response, challengeHeader);
        if ((response.status === 401 || response.status === 407) && challengeValue !== undefined && !authTried && this.dialOptions.auth !== undefined) {
          authTried = true;
          const value = digestAuthorization({
            challenge: parseDigestChallenge(challengeValue),
            method: 'INVITE',
            uri: this.target.requestUri,
            username: this.dialOptions.auth.username,
            password: this.dialOptions.auth.password,
          });
          authorization = { name: response.status === 407 ? 'Proxy-Authorization' : 'Authorization', value };
          continue;
        }
        this.finish('remote');
        throw new Error(`INVITE ${this.target.requestUri} failed: ${response.status} ${response.reason}`);
      }
    }

    private request(message: SipRequest, onProvisional?: (r: SipResponse) => void): Promise<SipResponse> {
      return request(message, this.target.host, this.target.port, onProvisional);
    }

    private ackNon2xx(invite: SipRequest, branch: string, response: SipResponse): void {
      // RFC 3261 §17.1.1.3: same branch as the INVITE, To with the response's tag.
      const ack: SipRequest = {
        kind: 'request',
        method: 'ACK',
        uri: invite.uri,
        headers: [
          { name: 'Via', value: `SIP/2.0/UDP ${localAddress}:${sipPort};branch=${branch};rport` },
          { name: 'Max-Forwards', value: '70' },
          { name: 'From', value: this.fromHeader() },
          { name: 'To', value: header(response, 'To') ?? this.toHeader(false) },
          { name: 'Call-ID', value: this.callId },
          { name: 'CSeq', value: `${cseqOf(invite).seq} ACK` },
        ],
        body: '',
      };
      sendRaw(ack, this.target.host, this.target.port);
    }

    /** CANCELs a ringing INVITE, then ACKs its final answer (487, or a 200 that crossed: BYE). */
    private async cancel(invite: SipRequest, branch: string, answered: Promise<SipResponse>): Promise<void> {
      const cancel: SipRequest = {
        kind: 'request',
        method: 'CANCEL',
        uri: invite.uri,
        headers: [
          { name: 'Via', value: `SIP/2.0/UDP ${localAddress}:${sipPort};branch=${branch};rport` },
          { name: 'Max-Forwards', value: '70' },
          { name: 'From', value: this.fromHeader() },
          { name: 'To', value: this.toHeader(false) },
          { name: 'Call-ID', value: this.callId },
          { name: 'CSeq', value: `${cseqOf(invite).seq} CANCEL` },
        ],
        body: '',
      };
      await Promise.race([this.request(cancel), new Promise((r) => setTimeout(r, 2000).unref())]).catch(() => undefined);
      const final = await Promise.race([answered, new Promise<undefined>((r) => setTimeout(() => r(undefined), 4000).unref())]).catch(() => undefined);
      if (final !== undefined && final.status >= 200 && final.status < 300) {
        this.onOk(final);
        await this.hangup();
        return;
      }
      if (final !== undefined) this.ackNon2xx(invite, branch, final);
      this.finish('local');
    }

    private onOk(response: SipResponse): void {
      this.answeredAtMs = this.now();
      this.okHeaders = response.headers;
      this.remoteTag = tagOf(header(response, 'To')) ?? '';
      const contact = header(response, 'Contact');
      this.remoteTarget = contact === undefined ? this.target.requestUri : uriOf(contact);
      this.routeSet = headerValues(response, 'Record-Route').reverse();
      this.answer = parseAnswer(response.body);
      this.ackMessage = {
        kind: 'request',
        method: 'ACK',
        uri: this.remoteTarget,
        headers: [
          ...this.baseHeaders(newBranch(), this.inviteCseq, 'ACK', true),
          ...this.routeSet.map((value) => ({ name: 'Route', value })),
        ],
        body: '',
      };
      this.resendAck();
      this.active = true;
      this.startSending();
    }

    resendAck(): void {
      if (this.ackMessage !== undefined) sendRaw(this.ackMessage, this.target.host, this.target.port);
    }

    // ---- RTP out -------------------------------------------------------------------

    private encode(samples: Int16Array): Uint8Array {
      return this.answer.codec === 'PCMU' ? alawmulaw.mulaw.encode(samples) : alawmulaw.alaw.encode(samples);
    }

    private startSending(): void {
      const silence = this.encode(new Int16Array(frameSamples));
      const startedAt = performance.now();
      let tick = 0;
      const step = (): void => {
        if (!this.active) return;
        this.sendFrame(silence);
        tick += 1;
        this.timestamp = (this.timestamp + frameSamples) >>> 0;
        // Schedule against the start time, not the last tick, so timer lateness does not
        // accumulate into a slow media clock. After a long stall, skip ahead instead of bursting.
        let due = startedAt + tick * frameMs;
        const now = performance.now();
        if (now - due > 200) {
          const skipped = Math.floor((now - due) / frameMs);
          tick += skipped;
          this.timestamp = (this.timestamp + skipped * frameSamples) >>> 0;
          due = startedAt + tick * frameMs;
        }
        this.sendTimer = setTimeout(step, Math.max(0, due - performance.now()));
      };
      step();
    }

    private sendPacket(payloadType: number, marker: boolean, timestamp: number, payload: Uint8Array): void {
      const packet = encodeRtp({ payloadType, marker, sequence: this.sequence, timestamp, ssrc: this.ssrc, payload });
      this.sequence = (this.sequence + 1) & 0xffff;
      this.rtp.send(packet, this.answer.port, this.answer.address);
    }

    /** One 20 ms slot: the head of the queue (audio frame or DTMF event packet) or silence. */
    private sendFrame(silence: Uint8Array): void {
      const job = this.queue[0];
      const nowMs = this.now();
      if (job === undefined) {
        this.sendPacket(this.answer.payloadType, false, this.timestamp, silence);
        return;
      }
      if (job.kind === 'audio') {
        job.item ??= this.logSent('audio', job.label, nowMs);
        const frame = job.frames.shift();
        if (frame !== undefined) this.sendPacket(this.answer.payloadType, false, this.timestamp, this.encode(frame));
        else this.sendPacket(this.answer.payloadType, false, this.timestamp, silence);
        job.item.endMs = nowMs + frameMs;
        if (job.frames.length === 0) {
          this.queue.shift();
          job.done();
        }
        return;
      }
      const pt = this.answer.telephoneEventPt;
      if (pt === undefined) throw new Error('the far end did not accept telephone-event; cannot send RFC 4733 DTMF');
      // RFC 4733 §2.5: one timestamp per event (the time it started), growing duration,
      // marker on the first packet, the final packet (E bit) sent three times.
      const state = (job.state ??= { startTs: this.timestamp, sentMs: 0, endsSent: 0, gapLeftMs: job.gapMs });
      job.item ??= this.logSent('dtmf', job.digit, nowMs);
      const event = dtmfEventCode(job.digit);
      if (state.sentMs < job.durationMs) {
        state.sentMs += frameMs;
        const duration = Math.min(state.sentMs, job.durationMs) * (phoneSampleRate / 1000);
        this.sendPacket(pt, state.sentMs === frameMs, state.startTs, encodeDtmfPayload(event, false, 10, duration));
        return;
      }
      if (state.endsSent < 3) {
        state.endsSent += 1;
        this.sendPacket(pt, false, state.startTs, encodeDtmfPayload(event, true, 10, job.durationMs * (phoneSampleRate / 1000)));
        job.item.endMs = nowMs;
        return;
      }
      this.sendPacket(this.answer.payloadType, false, this.timestamp, silence);
      state.gapLeftMs -= frameMs;
      if (state.gapLeftMs <= 0) {
        this.queue.shift();
        job.done();
      }
    }

    private logSent(kind: SentItem['kind'], label: string, startMs: number): SentItem {
      const item: SentItem = { kind, label, startMs, endMs: startMs };
      this.sentItems.push(item);
      return item;
    }

    playPcm(samples: Int16Array, label = 'pcm'): Promise<void> {
      if (!this.active) return Promise.reject(new Error('call is not active'));
      const frames: Int16Array[] = [];
      for (let i = 0; i < samples.length; i += frameSamples) {
        const frame = new Int16Array(frameSamples);
        frame.set(samples.subarray(i, Math.min(samples.length, i + frameSamples)));
        frames.push(frame);
      }
      if (frames.length === 0) return Promise.resolve();
      return new Promise((resolve) => this.queue.push({ kind: 'audio', frames, label, done: resolve }));
    }

    playWav(path: string): Promise<void> {
      return this.playPcm(readWavMono(path, phoneSampleRate), path);
    }

    playTone(frequencyHz: number, durationMs: number, amplitude = 0.3): Promise<void> {
      return this.playPcm(generateTone({ frequencyHz, durationMs, sampleRate: phoneSampleRate, amplitude }), `tone ${frequencyHz} Hz`);
    }

    async sendDtmf(digits: string, dtmfOptions: DtmfOptions = {}): Promise<void> {
      if (!this.active) throw new Error('call is not active');
      const durationMs = Math.max(frameMs, Math.round((dtmfOptions.durationMs ?? 160) / frameMs) * frameMs);
      const gapMs = dtmfOptions.gapMs ?? 120;
      for (const digit of digits) dtmfEventCode(digit); // validate before queueing any
      const done = [...digits].map(
        (digit) => new Promise<void>((resolve) => this.queue.push({ kind: 'dtmf', digit, durationMs, gapMs, done: resolve })),
      );
      await Promise.all(done);
    }

    // ---- RTP in --------------------------------------------------------------------

    private onRtp(data: Buffer): void {
      const arrivalMs = this.now();
      const packet = decodeRtp(data);
      if (packet === undefined) return;
      this.received.push({
        arrivalMs,
        sequence: packet.sequence,
        timestamp: packet.timestamp,
        payloadType: packet.payloadType,
        marker: packet.marker,
        bytes: packet.payload.length,
      });
      if (packet.payloadType === 0 || packet.payloadType === 8) {
        const pcm = packet.payloadType === 0 ? alawmulaw.mulaw.decode(packet.payload) : alawmulaw.alaw.decode(packet.payload);
        this.record(pcm, arrivalMs);
        return;
      }
      if (this.answer !== undefined && packet.payloadType === this.answer.telephoneEventPt) {
        const event = decodeDtmfPayload(packet.payload);
        if (event.end && this.lastDtmfInTs !== packet.timestamp) {
          this.lastDtmfInTs = packet.timestamp;
          this.dtmfIn.push({ digit: '0123456789*#ABCD'[event.event] ?? '?', arrivalMs });
        }
      }
    }

    /**
     * Appends in arrival order; when a packet arrives more than 60 ms later than the audio so
     * far accounts for, the gap is filled with silence, so sample positions track wall time.
     */
    private record(pcm: Int16Array, arrivalMs: number): void {
      const startIndex = Math.round(arrivalMs * (phoneSampleRate / 1000)) - pcm.length;
      const gap = startIndex - this.recordedSamples;
      if (gap > 60 * (phoneSampleRate / 1000)) {
        this.chunks.push(new Int16Array(gap));
        this.recordedSamples += gap;
      }
      this.chunks.push(pcm);
      this.recordedSamples += pcm.length;
    }

    recording(): Int16Array {
      const out = new Int16Array(this.recordedSamples);
      let offset = 0;
      for (const chunk of this.chunks) {
        out.set(chunk, offset);
        offset += chunk.length;
      }
      return out;
    }

    saveRecording(path: string): void {
      writeWav(path, this.recording(), phoneSampleRate);
    }

    voicedSegments(voicedOptions?: VoicedOptions): Segment[] {
      return findVoicedSegments(this.recording(), phoneSampleRate, voicedOptions);
    }

    async waitForVoice(
      waitOptions: { afterMs?: number; minDurationMs?: number; timeoutMs?: number } & VoicedOptions = {},
    ): Promise<Segment> {
      const { afterMs = this.now(), minDurationMs = 100, timeoutMs = 30_000, ...voiced } = waitOptions;
      const deadline = performance.now() + timeoutMs;
      for (;;) {
        // Only the part after `afterMs` is analysed; sample i of the recording is i/8 ms after t0.
        const from = Math.max(0, Math.floor(afterMs * (phoneSampleRate / 1000)));
        const tail = this.recording().subarray(from);
        const offsetMs = (from / phoneSampleRate) * 1000;
        const found = findVoicedSegments(tail, phoneSampleRate, { ...voiced, minDurationMs })[0];
        if (found !== undefined) return { startMs: found.startMs + offsetMs, endMs: found.endMs + offsetMs };
        if (performance.now() > deadline) throw new Error(`no voiced audio after ${afterMs.toFixed(0)} ms within ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }

    packets(): readonly ReceivedPacket[] {
      return this.received;
    }

    receivedDtmf(): readonly ReceivedDtmf[] {
      return this.dtmfIn;
    }

    sent(): readonly SentItem[] {
      return this.sentItems;
    }

    // ---- ending ----------------------------------------------------------------------

    private finish(by: CallEnd['by']): void {
      const wasOpen = dialogs.get(this.callId) === this;
      this.active = false;
      clearTimeout(this.sendTimer);
      for (const job of this.queue.splice(0)) job.done();
      if (wasOpen) {
        dialogs.delete(this.callId);
        this.rtp.close();
        this.resolveEnded({ by, atMs: this.now() });
      }
    }

    remoteBye(): void {
      this.finish('remote');
    }

    async waitForBye(timeoutMs = 30_000): Promise<CallEnd> {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no BYE from the far end within ${timeoutMs} ms`)), timeoutMs);
      });
      try {
        const end = await Promise.race([this.ended, timeout]);
        if (end.by !== 'remote') throw new Error('the call was ended by this phone, not the far end');
        return end;
      } finally {
        clearTimeout(timer);
      }
    }

    async hangup(): Promise<void> {
      if (!this.active) return;
      const bye: SipRequest = {
        kind: 'request',
        method: 'BYE',
        uri: this.remoteTarget,
        headers: [
          ...this.baseHeaders(newBranch(), this.cseq, 'BYE', true),
          ...this.routeSet.map((value) => ({ name: 'Route', value })),
        ],
        body: '',
      };
      this.cseq += 1;
      this.active = false;
      clearTimeout(this.sendTimer);
      await Promise.race([this.request(bye), new Promise((r) => setTimeout(r, 5000).unref())]).catch(() => undefined);
      this.finish('local');
    }
  }

  return {
    sipPort,
    async dial(uri, dialOptions = {}) {
      const target = parseSipUri(uri);
      if (isIP(target.host) === 0) target.host = (await lookup(target.host, { family: 4 })).address;
      const call = new CallImpl(target, dialOptions);
      await call.start();
      return call;
    },
    trace: () => traceLines.join('\n'),
    async close() {
      await Promise.all([...dialogs.values()].map((call) => call.hangup()));
      pending.clear();
      await new Promise<void>((resolve) => socket.close(() => resolve()));
    },
  };
}
