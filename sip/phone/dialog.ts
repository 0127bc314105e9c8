/**
 * One call's SIP dialog (RFC 3261 §12-15): the INVITE with its digest retry and CANCEL on
 * timeout, the ACK, BYE either way. The audio goes through `Media`, what comes back is kept
 * by `Recorder`; this class is the `PhoneCall` a caller of the phone holds.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Segment, VoicedOptions } from './audio.js';
import { digestAuthorization, parseDigestChallenge } from './digest.js';
import { cseqOf, header, headers as headerValues, tagOf, uriOf, type SipHeader, type SipRequest, type SipResponse } from './message.js';
import { Media, type DtmfOptions, type ReceivedDtmf, type ReceivedPacket, type SentItem } from './media.js';
import { Recorder, type WaitForQuietOptions, type WaitForVoiceOptions } from './recorder.js';
import { buildOffer, parseAnswer, type Answer, type G711Codec } from './sdp.js';
import type { Peer, SipTransport } from './transactions.js';

export interface DialOptions {
  /** Extra SIP headers on the INVITE (custom headers must start with X-). */
  headers?: Record<string, string>;
  /** Credentials for a 401/407 digest challenge. */
  auth?: { username: string; password: string };
  /** How long to wait for a final answer; default 30 s. CANCELs on timeout. */
  answerTimeoutMs?: number;
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
  waitForVoice(options?: WaitForVoiceOptions): Promise<Segment>;
  /** Resolves once the far end has been silent for `quietMs` (default 700): it finished speaking. */
  waitForQuiet(options?: WaitForQuietOptions): Promise<number>;
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

export interface Target {
  requestUri: string;
  user: string;
  host: string;
  port: number;
  uriHeaders: Record<string, string>;
}

/** Who this phone says it is on every call. */
export interface LocalParty {
  from: string;
  displayName: string | undefined;
  codecs: readonly G711Codec[];
}

export const newTag = (): string => randomBytes(6).toString('hex');
const newBranch = (): string => `z9hG4bK${randomBytes(8).toString('hex')}`;

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

export class Dialog implements PhoneCall {
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
  private open = false;
  private remoteTag = '';
  private remoteTarget = '';
  private routeSet: string[] = [];
  private cseq = 1;
  private inviteCseq = 1;
  private ackMessage: SipRequest | undefined;
  private media!: Media;
  private readonly recorder: Recorder;
  private readonly peer: Peer;

  constructor(
    private readonly transport: SipTransport,
    private readonly local: LocalParty,
    private readonly target: Target,
    private readonly dialOptions: DialOptions,
    private readonly onClosed: (dialog: Dialog) => void,
  ) {
    this.callId = `${randomBytes(10).toString('hex')}@${transport.localAddress}`;
    this.t0 = performance.now();
    this.peer = { host: target.host, port: target.port };
    this.recorder = new Recorder(() => this.now());
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

  /** The Contact this phone puts on its INVITE and its answers to re-INVITEs. */
  contact(): SipHeader {
    return { name: 'Contact', value: `<sip:${this.local.from}@${this.transport.localAddress}:${this.transport.port}>` };
  }

  private fromHeader(): string {
    const name = this.local.displayName === undefined ? '' : `"${this.local.displayName}" `;
    return `${name}<sip:${this.local.from}@${this.transport.localAddress}>;tag=${this.localTag}`;
  }

  private toHeader(withTag: boolean): string {
    const base = `<${this.target.requestUri}>`;
    return withTag && this.remoteTag !== '' ? `${base};tag=${this.remoteTag}` : base;
  }

  private baseHeaders(branch: string, cseq: number, method: string, withToTag: boolean): SipHeader[] {
    return [
      { name: 'Via', value: `SIP/2.0/UDP ${this.transport.localAddress}:${this.transport.port};branch=${branch};rport` },
      { name: 'Max-Forwards', value: '70' },
      { name: 'From', value: this.fromHeader() },
      { name: 'To', value: this.toHeader(withToTag) },
      { name: 'Call-ID', value: this.callId },
      { name: 'CSeq', value: `${cseq} ${method}` },
    ];
  }

  /** Sends the INVITE (again with credentials after a 401/407) until answered, refused or timed out. */
  async start(): Promise<void> {
    this.media = await Media.open(this.transport.localAddress, this.recorder, () => this.now());
    this.localSdp = buildOffer({ address: this.transport.localAddress, rtpPort: this.media.port, codecs: this.local.codecs });
    this.open = true;
    const extraHeaders: SipHeader[] = Object.entries({ ...this.target.uriHeaders, ...this.dialOptions.headers }).map(
      ([name, value]) => ({ name, value }),
    );
    let authorization: SipHeader | undefined;
    for (;;) {
      const branch = newBranch();
      const invite = this.buildInvite(branch, [...(authorization === undefined ? [] : [authorization]), ...extraHeaders]);
      const response = await this.sendInvite(invite, branch);
      if (response.status >= 200 && response.status < 300) {
        this.onOk(response);
        return;
      }
      this.ackNon2xx(invite, branch, response);
      const retry = authorization === undefined ? this.answerChallenge(response) : undefined;
      if (retry === undefined) {
        this.finish('remote');
        throw new Error(`INVITE ${this.target.requestUri} failed: ${response.status} ${response.reason}`);
      }
      authorization = retry;
    }
  }

  private buildInvite(branch: string, extra: SipHeader[]): SipRequest {
    this.inviteCseq = this.cseq;
    const invite: SipRequest = {
      kind: 'request',
      method: 'INVITE',
      uri: this.target.requestUri,
      headers: [
        ...this.baseHeaders(branch, this.cseq, 'INVITE', false),
        this.contact(),
        { name: 'Allow', value: 'INVITE, ACK, BYE, CANCEL, OPTIONS' },
        { name: 'User-Agent', value: 'practice-line-phone' },
        ...extra,
        { name: 'Content-Type', value: 'application/sdp' },
      ],
      body: this.localSdp,
    };
    this.cseq += 1;
    return invite;
  }

  /** The final response to `invite`, or CANCEL and throw after the answer timeout. */
  private async sendInvite(invite: SipRequest, branch: string): Promise<SipResponse> {
    const timeoutMs = this.dialOptions.answerTimeoutMs ?? 30_000;
    const answered = this.transport.request(invite, this.peer, (r) => this.statuses.push(r.status));
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
    return response;
  }

  /** The Authorization header answering a 401/407, if we have credentials for it. */
  private answerChallenge(response: SipResponse): SipHeader | undefined {
    const auth = this.dialOptions.auth;
    const challenge = header(response, response.status === 407 ? 'Proxy-Authenticate' : 'WWW-Authenticate');
    if ((response.status !== 401 && response.status !== 407) || challenge === undefined || auth === undefined) return undefined;
    const value = digestAuthorization({
      challenge: parseDigestChallenge(challenge),
      method: 'INVITE',
      uri: this.target.requestUri,
      username: auth.username,
      password: auth.password,
    });
    return { name: response.status === 407 ? 'Proxy-Authorization' : 'Authorization', value };
  }

  /** A request outside the INVITE transaction that shares its branch and CSeq number (ACK for non-2xx, CANCEL). */
  private inviteSibling(method: 'ACK' | 'CANCEL', invite: SipRequest, branch: string, to: string): SipRequest {
    return {
      kind: 'request',
      method,
      uri: invite.uri,
      headers: [
        { name: 'Via', value: `SIP/2.0/UDP ${this.transport.localAddress}:${this.transport.port};branch=${branch};rport` },
        { name: 'Max-Forwards', value: '70' },
        { name: 'From', value: this.fromHeader() },
        { name: 'To', value: to },
        { name: 'Call-ID', value: this.callId },
        { name: 'CSeq', value: `${cseqOf(invite).seq} ${method}` },
      ],
      body: '',
    };
  }

  private ackNon2xx(invite: SipRequest, branch: string, response: SipResponse): void {
    // RFC 3261 §17.1.1.3: same branch as the INVITE, To with the response's tag.
    this.transport.send(this.inviteSibling('ACK', invite, branch, header(response, 'To') ?? this.toHeader(false)), this.peer);
  }

  /** CANCELs a ringing INVITE, then ACKs its final answer (487, or a 200 that crossed: BYE). */
  private async cancel(invite: SipRequest, branch: string, answered: Promise<SipResponse>): Promise<void> {
    const cancel = this.inviteSibling('CANCEL', invite, branch, this.toHeader(false));
    await Promise.race([this.transport.request(cancel, this.peer), new Promise((r) => setTimeout(r, 2000).unref())]).catch(() => undefined);
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
    this.media.start(this.answer);
  }

  /** A retransmitted 2xx means our ACK was lost or is in flight: ACK again. */
  resendAck(): void {
    if (this.ackMessage !== undefined) this.transport.send(this.ackMessage, this.peer);
  }

  // ---- media, delegated ---------------------------------------------------------------

  playPcm(samples: Int16Array, label?: string): Promise<void> {
    return this.media.playPcm(samples, label);
  }

  playWav(path: string): Promise<void> {
    return this.media.playWav(path);
  }

  playTone(frequencyHz: number, durationMs: number, amplitude?: number): Promise<void> {
    return this.media.playTone(frequencyHz, durationMs, amplitude);
  }

  sendDtmf(digits: string, options?: DtmfOptions): Promise<void> {
    return this.media.sendDtmf(digits, options);
  }

  packets(): readonly ReceivedPacket[] {
    return this.media.packets();
  }

  receivedDtmf(): readonly ReceivedDtmf[] {
    return this.media.receivedDtmf();
  }

  sent(): readonly SentItem[] {
    return this.media.sent();
  }

  recording(): Int16Array {
    return this.recorder.recording();
  }

  saveRecording(path: string): void {
    this.recorder.save(path);
  }

  voicedSegments(options?: VoicedOptions): Segment[] {
    return this.recorder.voicedSegments(options);
  }

  waitForVoice(options?: WaitForVoiceOptions): Promise<Segment> {
    return this.recorder.waitForVoice(options);
  }

  waitForQuiet(options?: WaitForQuietOptions): Promise<number> {
    return this.recorder.waitForQuiet(options);
  }

  // ---- ending ----------------------------------------------------------------------

  private finish(by: CallEnd['by']): void {
    this.active = false;
    if (!this.open) return;
    this.open = false;
    this.media.close();
    this.onClosed(this);
    this.resolveEnded({ by, atMs: this.now() });
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
    this.media.stopSending();
    await Promise.race([this.transport.request(bye, this.peer), new Promise((r) => setTimeout(r, 5000).unref())]).catch(() => undefined);
    this.finish('local');
  }
}
