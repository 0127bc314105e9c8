/**
 * The call's audio over RTP: a 20 ms media clock that sends queued audio frames and RFC 4733
 * DTMF events (or silence between them: livekit-sip ends calls whose RTP stops), and the
 * receiving side that decodes G.711 into the recorder and notes DTMF that comes back.
 */
import { randomInt } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { performance } from 'node:perf_hooks';
import alawmulaw from 'alawmulaw';
import { generateTone, readWavMono } from './audio.js';
import { phoneSampleRate, type Recorder } from './recorder.js';
import { decodeDtmfPayload, decodeRtp, dtmfEventCode, encodeDtmfPayload, encodeRtp } from './rtp.js';
import type { Answer } from './sdp.js';

const frameSamples = 160; // 20 ms at 8 kHz
const frameMs = 20;

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

interface DtmfState {
  startTs: number;
  sentMs: number;
  endsSent: number;
  gapLeftMs: number;
}

type Job =
  | { kind: 'audio'; frames: Int16Array[]; label: string; done: () => void; item?: SentItem }
  | { kind: 'dtmf'; digit: string; durationMs: number; gapMs: number; done: () => void; item?: SentItem; state?: DtmfState };

export class Media {
  private answer: Answer | undefined;
  private sending = false;
  private sendTimer: NodeJS.Timeout | undefined;
  private readonly queue: Job[] = [];
  private readonly ssrc = randomInt(1, 2 ** 31);
  private sequence = randomInt(0, 2 ** 15);
  private timestamp = randomInt(0, 2 ** 30);
  private readonly sentItems: SentItem[] = [];
  private readonly received: ReceivedPacket[] = [];
  private readonly dtmfIn: ReceivedDtmf[] = [];
  private lastDtmfInTs: number | undefined;

  private constructor(
    private readonly socket: Socket,
    private readonly recorder: Recorder,
    private readonly now: () => number,
  ) {
    socket.on('message', (data) => this.onRtp(data));
  }

  /** Binds the RTP socket (its port goes into the SDP offer) and starts recording what arrives. */
  static async open(localAddress: string, recorder: Recorder, now: () => number): Promise<Media> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind({ address: localAddress, port: 0 }, resolve));
    return new Media(socket, recorder, now);
  }

  get port(): number {
    return this.socket.address().port;
  }

  /** Starts the media clock towards the answered address and codec. */
  start(answer: Answer): void {
    this.answer = answer;
    this.sending = true;
    this.startClock(answer);
  }

  /** Stops sending, releases queued plays, closes the socket. */
  close(): void {
    this.stopSending();
    this.socket.close();
  }

  stopSending(): void {
    this.sending = false;
    clearTimeout(this.sendTimer);
    for (const job of this.queue.splice(0)) job.done();
  }

  // ---- out -------------------------------------------------------------------------

  playPcm(samples: Int16Array, label = 'pcm'): Promise<void> {
    if (!this.sending) return Promise.reject(new Error('call is not active'));
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

  async sendDtmf(digits: string, options: DtmfOptions = {}): Promise<void> {
    if (!this.sending) throw new Error('call is not active');
    const durationMs = Math.max(frameMs, Math.round((options.durationMs ?? 160) / frameMs) * frameMs);
    const gapMs = options.gapMs ?? 120;
    for (const digit of digits) dtmfEventCode(digit); // validate before queueing any
    const done = [...digits].map(
      (digit) => new Promise<void>((resolve) => this.queue.push({ kind: 'dtmf', digit, durationMs, gapMs, done: resolve })),
    );
    await Promise.all(done);
  }

  sent(): readonly SentItem[] {
    return this.sentItems;
  }

  private encode(answer: Answer, samples: Int16Array): Uint8Array {
    return answer.codec === 'PCMU' ? alawmulaw.mulaw.encode(samples) : alawmulaw.alaw.encode(samples);
  }

  private startClock(answer: Answer): void {
    const silence = this.encode(answer, new Int16Array(frameSamples));
    const startedAt = performance.now();
    let tick = 0;
    const step = (): void => {
      if (!this.sending) return;
      this.sendFrame(answer, silence);
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

  private sendPacket(answer: Answer, payloadType: number, marker: boolean, timestamp: number, payload: Uint8Array): void {
    const packet = encodeRtp({ payloadType, marker, sequence: this.sequence, timestamp, ssrc: this.ssrc, payload });
    this.sequence = (this.sequence + 1) & 0xffff;
    this.socket.send(packet, answer.port, answer.address);
  }

  /** One 20 ms slot: the head of the queue (audio frame or DTMF event packet) or silence. */
  private sendFrame(answer: Answer, silence: Uint8Array): void {
    const job = this.queue[0];
    const nowMs = this.now();
    if (job === undefined) {
      this.sendPacket(answer, answer.payloadType, false, this.timestamp, silence);
      return;
    }
    if (job.kind === 'audio') {
      job.item ??= this.logSent('audio', job.label, nowMs);
      const frame = job.frames.shift();
      this.sendPacket(answer, answer.payloadType, false, this.timestamp, frame === undefined ? silence : this.encode(answer, frame));
      job.item.endMs = nowMs + frameMs;
      if (job.frames.length === 0) {
        this.queue.shift();
        job.done();
      }
      return;
    }
    this.sendDtmfFrame(answer, job, nowMs, silence);
  }

  private sendDtmfFrame(answer: Answer, job: Extract<Job, { kind: 'dtmf' }>, nowMs: number, silence: Uint8Array): void {
    const pt = answer.telephoneEventPt;
    if (pt === undefined) throw new Error('the far end did not accept telephone-event; cannot send RFC 4733 DTMF');
    // RFC 4733 §2.5: one timestamp per event (the time it started), growing duration,
    // marker on the first packet, the final packet (E bit) sent three times.
    const state = (job.state ??= { startTs: this.timestamp, sentMs: 0, endsSent: 0, gapLeftMs: job.gapMs });
    const item = (job.item ??= this.logSent('dtmf', job.digit, nowMs));
    const event = dtmfEventCode(job.digit);
    if (state.sentMs < job.durationMs) {
      state.sentMs += frameMs;
      const duration = Math.min(state.sentMs, job.durationMs) * (phoneSampleRate / 1000);
      this.sendPacket(answer, pt, state.sentMs === frameMs, state.startTs, encodeDtmfPayload(event, false, 10, duration));
      return;
    }
    if (state.endsSent < 3) {
      state.endsSent += 1;
      this.sendPacket(answer, pt, false, state.startTs, encodeDtmfPayload(event, true, 10, job.durationMs * (phoneSampleRate / 1000)));
      item.endMs = nowMs;
      return;
    }
    this.sendPacket(answer, answer.payloadType, false, this.timestamp, silence);
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

  // ---- in --------------------------------------------------------------------------

  packets(): readonly ReceivedPacket[] {
    return this.received;
  }

  receivedDtmf(): readonly ReceivedDtmf[] {
    return this.dtmfIn;
  }

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
      this.recorder.record(pcm, arrivalMs);
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
}
