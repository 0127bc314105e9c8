/**
 * The call's audio over RTP. Sending — a 20 ms media clock with queued audio frames and RFC 4733
 * DTMF events — runs on the media thread (media_thread.ts, rtp_sender.ts) with the socket; here
 * the call queues what to play and decodes what arrives (G.711 into the recorder, DTMF that comes
 * back), on the arrival times the thread stamped.
 */
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import alawmulaw from 'alawmulaw';
import { generateTone, readWavMono } from './audio.js';
import { phoneSampleRate, type Recorder } from './recorder.js';
import { decodeDtmfPayload, decodeRtp, dtmfEventCode } from './rtp.js';
import { frameMs, type FromMediaThread, type SentEpochItem, type ToMediaThread } from './rtp_sender.js';
import type { Answer } from './sdp.js';

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

interface Pending {
  resolve: () => void;
  reject: (error: Error) => void;
}

export class Media {
  private answer: Answer | undefined;
  private sending = false;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly sentById = new Map<number, SentItem>();
  private readonly sentItems: SentItem[] = [];
  private readonly received: ReceivedPacket[] = [];
  private readonly dtmfIn: ReceivedDtmf[] = [];
  private lastDtmfInTs: number | undefined;

  private constructor(
    private readonly thread: Worker,
    readonly port: number,
    private readonly recorder: Recorder,
    private readonly now: () => number,
  ) {
    thread.on('message', (message: FromMediaThread) => this.onThreadMessage(message));
    thread.on('error', (error) => {
      for (const { reject } of this.pending.values()) reject(error);
      this.pending.clear();
    });
  }

  /** Binds the RTP socket on the media thread (its port goes into the SDP offer) and starts recording what arrives. */
  static async open(localAddress: string, recorder: Recorder, now: () => number): Promise<Media> {
    const thread = startMediaThread(localAddress);
    const port = await new Promise<number>((resolve, reject) => {
      thread.once('error', reject);
      thread.on('message', (message: FromMediaThread) => {
        if (message.type === 'bound') resolve(message.port);
      });
    });
    // A call left open must not keep a CLI alive; the SIP side decides when the call is over.
    thread.unref();
    return new Media(thread, port, recorder, now);
  }

  /** Starts the media clock towards the answered address and codec. */
  start(answer: Answer): void {
    this.answer = answer;
    this.sending = true;
    this.post({ type: 'start', answer });
  }

  /** Stops sending, releases queued plays, closes the socket. */
  close(): void {
    this.stopSending();
    void this.thread.terminate();
  }

  stopSending(): void {
    this.sending = false;
    this.post({ type: 'stop' });
    for (const { resolve } of this.pending.values()) resolve();
    this.pending.clear();
  }

  // ---- out -------------------------------------------------------------------------

  playPcm(samples: Int16Array, label = 'pcm'): Promise<void> {
    if (!this.sending) return Promise.reject(new Error('call is not active'));
    if (samples.length === 0) return Promise.resolve();
    return this.queue((id) => ({ type: 'play', id, samples, label }));
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
    await Promise.all([...digits].map((digit) => this.queue((id) => ({ type: 'dtmf', id, digit, durationMs, gapMs }))));
  }

  sent(): readonly SentItem[] {
    return this.sentItems;
  }

  private queue(message: (id: number) => ToMediaThread): Promise<void> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.post(message(id));
    });
  }

  private post(message: ToMediaThread): void {
    this.thread.postMessage(message);
  }

  private onThreadMessage(message: FromMediaThread): void {
    if (message.type === 'rtp') this.onRtp(message.data, this.callTime(message.arrivalEpochMs));
    else if (message.type === 'sent') this.noteSent(message.id, message.item);
    else if (message.type === 'done' || message.type === 'failed') {
      const job = this.pending.get(message.id);
      this.pending.delete(message.id);
      if (message.type === 'done') job?.resolve();
      else job?.reject(new Error(message.message));
    }
  }

  private noteSent(id: number, item: SentEpochItem): void {
    const startMs = this.callTime(item.startEpochMs);
    const endMs = this.callTime(item.endEpochMs);
    const known = this.sentById.get(id);
    if (known) {
      known.endMs = endMs;
      return;
    }
    const sent: SentItem = { kind: item.kind, label: item.label, startMs, endMs };
    this.sentById.set(id, sent);
    this.sentItems.push(sent);
  }

  /** An epoch time from the media thread on the call's clock (ms since its t0). */
  private callTime(epochMs: number): number {
    return this.now() - (performance.timeOrigin + performance.now() - epochMs);
  }

  // ---- in --------------------------------------------------------------------------

  packets(): readonly ReceivedPacket[] {
    return this.received;
  }

  receivedDtmf(): readonly ReceivedDtmf[] {
    return this.dtmfIn;
  }

  private onRtp(data: Uint8Array, arrivalMs: number): void {
    const packet = decodeRtp(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
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

/** The thread runs media_thread.ts from source, like the rest of the project (tsx, no build step). */
function startMediaThread(localAddress: string): Worker {
  return new Worker(new URL('./media_thread.boot.mjs', import.meta.url), { workerData: { localAddress } });
}
