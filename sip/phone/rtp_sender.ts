/**
 * The phone's outgoing media clock: every 20 ms one RTP packet — the next frame of queued audio,
 * the next packet of an RFC 4733 DTMF event, or silence between them (livekit-sip ends calls
 * whose RTP stops). It runs on the media thread (media_thread.ts), so nothing else the process
 * does can hold a packet back; the messages it exchanges with the call are defined here too.
 */
import { randomInt } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import alawmulaw from 'alawmulaw';
import { phoneSampleRate } from './recorder.js';
import { dtmfEventCode, encodeDtmfPayload, encodeRtp } from './rtp.js';
import type { Answer } from './sdp.js';

export const frameSamples = 160; // 20 ms at 8 kHz
export const frameMs = 20;

/** Wall-clock milliseconds comparable across threads (each thread's performance.now() has its own origin). */
export const epochNow = (): number => performance.timeOrigin + performance.now();

/** What went out, on the epoch clock; the call converts it to its own. */
export interface SentEpochItem {
  kind: 'audio' | 'dtmf';
  /** For dtmf, the digit. */
  label: string;
  startEpochMs: number;
  endEpochMs: number;
}

export type ToMediaThread =
  | { type: 'start'; answer: Answer }
  | { type: 'play'; id: number; samples: Int16Array; label: string }
  | { type: 'dtmf'; id: number; digit: string; durationMs: number; gapMs: number }
  | { type: 'stop' };

export type FromMediaThread =
  | { type: 'bound'; port: number }
  | { type: 'sent'; id: number; item: SentEpochItem }
  | { type: 'done'; id: number }
  | { type: 'failed'; id: number; message: string }
  | { type: 'rtp'; data: Uint8Array; arrivalEpochMs: number };

interface DtmfState {
  startTs: number;
  sentMs: number;
  endsSent: number;
  gapLeftMs: number;
}

type Job =
  | { kind: 'audio'; id: number; frames: Int16Array[]; label: string; item?: SentEpochItem }
  | { kind: 'dtmf'; id: number; digit: string; durationMs: number; gapMs: number; item?: SentEpochItem; state?: DtmfState };

export class RtpSender {
  private timer: NodeJS.Timeout | undefined;
  private readonly queue: Job[] = [];
  private readonly ssrc = randomInt(1, 2 ** 31);
  private sequence = randomInt(0, 2 ** 15);
  private timestamp = randomInt(0, 2 ** 30);

  constructor(
    private readonly send: (packet: Buffer, answer: Answer) => void,
    private readonly report: (message: FromMediaThread) => void,
  ) {}

  start(answer: Answer): void {
    const silence = encode(answer, new Int16Array(frameSamples));
    const startedAt = performance.now();
    let tick = 0;
    const step = (): void => {
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
      this.timer = setTimeout(step, Math.max(0, due - performance.now()));
    };
    step();
  }

  /** Stops the clock; queued plays are dropped (the call settles their promises itself). */
  stop(): void {
    clearTimeout(this.timer);
    this.queue.splice(0);
  }

  play(id: number, samples: Int16Array, label: string): void {
    const frames: Int16Array[] = [];
    for (let i = 0; i < samples.length; i += frameSamples) {
      const frame = new Int16Array(frameSamples);
      frame.set(samples.subarray(i, Math.min(samples.length, i + frameSamples)));
      frames.push(frame);
    }
    if (frames.length === 0) this.report({ type: 'done', id });
    else this.queue.push({ kind: 'audio', id, frames, label });
  }

  dtmf(id: number, digit: string, durationMs: number, gapMs: number): void {
    this.queue.push({ kind: 'dtmf', id, digit, durationMs, gapMs });
  }

  /** One 20 ms slot: the head of the queue (audio frame or DTMF event packet) or silence. */
  private sendFrame(answer: Answer, silence: Uint8Array): void {
    const job = this.queue[0];
    if (job === undefined) {
      this.sendPacket(answer, answer.payloadType, false, this.timestamp, silence);
      return;
    }
    const nowMs = epochNow();
    if (job.kind === 'audio') {
      job.item ??= this.started(job.id, 'audio', job.label, nowMs);
      const frame = job.frames.shift();
      this.sendPacket(answer, answer.payloadType, false, this.timestamp, frame === undefined ? silence : encode(answer, frame));
      if (job.frames.length === 0) this.finish(job, nowMs + frameMs);
      return;
    }
    this.sendDtmfFrame(answer, job, nowMs, silence);
  }

  private sendDtmfFrame(answer: Answer, job: Extract<Job, { kind: 'dtmf' }>, nowMs: number, silence: Uint8Array): void {
    const pt = answer.telephoneEventPt;
    if (pt === undefined) {
      this.queue.shift();
      this.report({ type: 'failed', id: job.id, message: 'the far end did not accept telephone-event; cannot send RFC 4733 DTMF' });
      this.sendPacket(answer, answer.payloadType, false, this.timestamp, silence);
      return;
    }
    // RFC 4733 §2.5: one timestamp per event (the time it started), growing duration,
    // marker on the first packet, the final packet (E bit) sent three times.
    const state = (job.state ??= { startTs: this.timestamp, sentMs: 0, endsSent: 0, gapLeftMs: job.gapMs });
    const item = (job.item ??= this.started(job.id, 'dtmf', job.digit, nowMs));
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
      item.endEpochMs = nowMs;
      return;
    }
    this.sendPacket(answer, answer.payloadType, false, this.timestamp, silence);
    state.gapLeftMs -= frameMs;
    if (state.gapLeftMs <= 0) this.finish(job, item.endEpochMs);
  }

  private started(id: number, kind: SentEpochItem['kind'], label: string, startEpochMs: number): SentEpochItem {
    const item: SentEpochItem = { kind, label, startEpochMs, endEpochMs: startEpochMs };
    this.report({ type: 'sent', id, item });
    return item;
  }

  private finish(job: Job, endEpochMs: number): void {
    this.queue.shift();
    if (job.item) this.report({ type: 'sent', id: job.id, item: { ...job.item, endEpochMs } });
    this.report({ type: 'done', id: job.id });
  }

  private sendPacket(answer: Answer, payloadType: number, marker: boolean, timestamp: number, payload: Uint8Array): void {
    this.send(encodeRtp({ payloadType, marker, sequence: this.sequence, timestamp, ssrc: this.ssrc, payload }), answer);
    this.sequence = (this.sequence + 1) & 0xffff;
  }
}

function encode(answer: Answer, samples: Int16Array): Uint8Array {
  return answer.codec === 'PCMU' ? alawmulaw.mulaw.encode(samples) : alawmulaw.alaw.encode(samples);
}
