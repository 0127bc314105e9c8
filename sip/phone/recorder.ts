/**
 * What the phone heard: decoded G.711 placed on the call's clock, so sample i of the recording
 * is i/8 ms after the call's t0 and a latency can be read straight off the recording.
 */
import { performance } from 'node:perf_hooks';
import { findVoicedSegments, writeWav, type Segment, type VoicedOptions } from './audio.js';

export const phoneSampleRate = 8000;

export interface WaitForVoiceOptions extends VoicedOptions {
  /** Only audio heard at or after this time counts (ms since t0); default now. */
  afterMs?: number;
  /** The segment must last this long before it counts; default 100 ms. */
  minDurationMs?: number;
  timeoutMs?: number;
}

export interface WaitForQuietOptions extends Pick<VoicedOptions, 'thresholdDbfs'> {
  /**
   * How long the line must have been silent; default 700 ms, longer than the pause between two
   * sentences of one reply (~400 ms from the TTS), so a reply between sentences is not "done".
   */
  quietMs?: number;
  timeoutMs?: number;
}

export class Recorder {
  private readonly chunks: Int16Array[] = [];
  private recordedSamples = 0;

  constructor(private readonly now: () => number) {}

  /**
   * Appends in arrival order; when a packet arrives more than 60 ms later than the audio so
   * far accounts for, the gap is filled with silence, so sample positions track wall time.
   */
  record(pcm: Int16Array, arrivalMs: number): void {
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
    return this.samplesFrom(0);
  }

  /** The recording from sample `from` on, copying only those chunks. */
  private samplesFrom(from: number): Int16Array {
    const start = Math.min(Math.max(0, from), this.recordedSamples);
    const out = new Int16Array(this.recordedSamples - start);
    let chunkStart = 0;
    for (const chunk of this.chunks) {
      const chunkEnd = chunkStart + chunk.length;
      if (chunkEnd > start) out.set(chunk.subarray(Math.max(0, start - chunkStart)), Math.max(0, chunkStart - start));
      chunkStart = chunkEnd;
    }
    return out;
  }

  save(path: string): void {
    writeWav(path, this.recording(), phoneSampleRate);
  }

  voicedSegments(options?: VoicedOptions): Segment[] {
    return findVoicedSegments(this.recording(), phoneSampleRate, options);
  }

  async waitForVoice(options: WaitForVoiceOptions = {}): Promise<Segment> {
    const { afterMs = this.now(), minDurationMs = 100, timeoutMs = 30_000, ...voiced } = options;
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      // Only the part after `afterMs` is analysed; sample i of the recording is i/8 ms after t0.
      const from = Math.max(0, Math.floor(afterMs * (phoneSampleRate / 1000)));
      const tail = this.samplesFrom(from);
      const offsetMs = (from / phoneSampleRate) * 1000;
      const found = findVoicedSegments(tail, phoneSampleRate, { ...voiced, minDurationMs })[0];
      if (found !== undefined) return { startMs: found.startMs + offsetMs, endMs: found.endMs + offsetMs };
      if (performance.now() > deadline) throw new Error(`no voiced audio after ${afterMs.toFixed(0)} ms within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /**
   * Resolves (with the time, ms since t0) once nothing voiced was heard for `quietMs`: the far end
   * has finished what it was saying. Time without packets counts as silence.
   */
  async waitForQuiet(options: WaitForQuietOptions = {}): Promise<number> {
    const { quietMs = 700, timeoutMs = 30_000, ...voiced } = options;
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const now = this.now();
      const tail = this.samplesFrom(Math.floor((now - quietMs) * (phoneSampleRate / 1000)));
      // Any voiced frame breaks the quiet, however short (the window may hold only a word's tail).
      if (now >= quietMs && findVoicedSegments(tail, phoneSampleRate, { ...voiced, minDurationMs: 0 }).length === 0) return now;
      if (performance.now() > deadline) throw new Error(`the line was not quiet for ${quietMs} ms within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}
