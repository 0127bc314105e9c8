/**
 * Audio helpers for telephony tests: mono 16-bit PCM in, out and measured.
 *
 *   const pcm8k = readWavMono('hello.wav', 8000);      // any WAV -> mono Int16 at 8 kHz
 *   const tone = generateTone({ frequencyHz: 1000, durationMs: 500, sampleRate: 8000 });
 *   writeWav('heard.wav', pcm, 8000);
 *   toneRatio(pcm, 8000, 600) > 0.5                      // energy share of one frequency
 *   findVoicedSegments(pcm, 8000)                        // [{ startMs, endMs }] above an energy floor
 *
 * WAV parsing and resampling use `wavefile` (sinc resampler with a low-pass, so a 16/24/48 kHz
 * file does not alias into the 8 kHz phone band); the measurements are small enough to write.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import wavefile from 'wavefile';

export interface Segment {
  startMs: number;
  endMs: number;
}

/** Reads a WAV file as mono signed 16-bit PCM at `sampleRate` (channels averaged). */
export function readWavMono(path: string, sampleRate: number): Int16Array {
  return decodeWavMono(readFileSync(path), sampleRate);
}

export function decodeWavMono(bytes: Uint8Array, sampleRate: number): Int16Array {
  const wav = new wavefile.WaveFile(bytes);
  wav.toBitDepth('32f');
  const fmt = wav.fmt as { sampleRate: number; numChannels: number };
  if (fmt.sampleRate !== sampleRate) wav.toSampleRate(sampleRate, { method: 'sinc', LPF: true });
  const raw = wav.getSamples(false, Float64Array) as unknown as Float64Array | Float64Array[];
  const channels: Float64Array[] = Array.isArray(raw) ? raw : [raw];
  const length = channels[0]?.length ?? 0;
  const out = new Int16Array(length);
  for (let i = 0; i < length; i += 1) {
    let sum = 0;
    for (const channel of channels) sum += channel[i] ?? 0;
    out[i] = clamp16((sum / channels.length) * 32767);
  }
  return out;
}

/** Writes mono 16-bit PCM as a WAV file. */
export function writeWav(path: string, samples: Int16Array, sampleRate: number): void {
  writeFileSync(path, encodeWav(samples, sampleRate));
}

export function encodeWav(samples: Int16Array, sampleRate: number): Uint8Array {
  const wav = new wavefile.WaveFile();
  wav.fromScratch(1, sampleRate, '16', samples);
  return wav.toBuffer();
}

export function clamp16(value: number): number {
  return Math.max(-32768, Math.min(32767, Math.round(value)));
}

export interface ToneOptions {
  frequencyHz: number;
  durationMs: number;
  sampleRate: number;
  /** Peak amplitude 0..1; default 0.3 (about -10 dBFS, loud but not clipping after G.711). */
  amplitude?: number;
}

export function generateTone(options: ToneOptions): Int16Array {
  const count = Math.round((options.durationMs / 1000) * options.sampleRate);
  const amplitude = (options.amplitude ?? 0.3) * 32767;
  const out = new Int16Array(count);
  for (let i = 0; i < count; i += 1) {
    out[i] = clamp16(amplitude * Math.sin((2 * Math.PI * options.frequencyHz * i) / options.sampleRate));
  }
  return out;
}

/** Root-mean-square level in dBFS (-Infinity for digital silence). */
export function rmsDbfs(samples: Int16Array, start = 0, end = samples.length): number {
  if (end <= start) return -Infinity;
  let sum = 0;
  for (let i = start; i < end; i += 1) {
    const v = (samples[i] ?? 0) / 32768;
    sum += v * v;
  }
  const rms = Math.sqrt(sum / (end - start));
  return rms === 0 ? -Infinity : 20 * Math.log10(rms);
}

/** Goertzel power at one frequency, normalised so a full-block sine of amplitude A gives A²/2. */
export function goertzelPower(samples: Int16Array, sampleRate: number, frequencyHz: number, start = 0, end = samples.length): number {
  const n = end - start;
  if (n <= 0) return 0;
  const coefficient = 2 * Math.cos((2 * Math.PI * frequencyHz) / sampleRate);
  let s1 = 0;
  let s2 = 0;
  for (let i = start; i < end; i += 1) {
    const s0 = (samples[i] ?? 0) / 32768 + coefficient * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  const power = s1 * s1 + s2 * s2 - coefficient * s1 * s2;
  return (2 * power) / (n * n);
}

/**
 * Share of the signal's energy that sits at `frequencyHz` (0..1), over the loudest stretch:
 * the ratio is computed per 100 ms window and the best window wins, so leading silence or a
 * gap does not dilute it. A clean tone through G.711 scores about 0.9; speech or noise < 0.2.
 */
export function toneRatio(samples: Int16Array, sampleRate: number, frequencyHz: number): number {
  const window = Math.round(sampleRate / 10);
  let best = 0;
  for (let start = 0; start + window <= samples.length; start += Math.round(window / 2)) {
    let energy = 0;
    for (let i = start; i < start + window; i += 1) {
      const v = (samples[i] ?? 0) / 32768;
      energy += v * v;
    }
    const meanPower = energy / window;
    if (meanPower < 1e-6) continue; // below about -60 dBFS: silence, no meaningful ratio
    best = Math.max(best, goertzelPower(samples, sampleRate, frequencyHz, start, start + window) / meanPower);
  }
  return Math.min(1, best);
}

export interface VoicedOptions {
  /** Frame energy floor; default -45 dBFS. */
  thresholdDbfs?: number;
  /** Analysis frame; default 20 ms. */
  frameMs?: number;
  /** Gaps shorter than this are bridged (pauses inside an utterance); default 300 ms. */
  minGapMs?: number;
  /** Segments shorter than this are dropped (clicks); default 60 ms. */
  minDurationMs?: number;
}

/**
 * Voiced stretches of `samples`, by frame energy. Times are from the start of the buffer, which
 * for a phone recording is the moment recording started (arrival-aligned, see the phone).
 */
export function findVoicedSegments(samples: Int16Array, sampleRate: number, options: VoicedOptions = {}): Segment[] {
  const threshold = options.thresholdDbfs ?? -45;
  const frameMs = options.frameMs ?? 20;
  const minGapMs = options.minGapMs ?? 300;
  const minDurationMs = options.minDurationMs ?? 60;
  const frame = Math.max(1, Math.round((frameMs / 1000) * sampleRate));
  const segments: Segment[] = [];
  let current: Segment | undefined;
  for (let start = 0; start < samples.length; start += frame) {
    const end = Math.min(samples.length, start + frame);
    const voiced = rmsDbfs(samples, start, end) > threshold;
    const startMs = (start / sampleRate) * 1000;
    const endMs = (end / sampleRate) * 1000;
    if (voiced) {
      if (current !== undefined && startMs - current.endMs <= minGapMs) current.endMs = endMs;
      else {
        if (current !== undefined) segments.push(current);
        current = { startMs, endMs };
      }
    }
  }
  if (current !== undefined) segments.push(current);
  return segments.filter((s) => s.endMs - s.startMs >= minDurationMs);
}

/** Linear-interpolation resampler for tone-grade signals (probe side, 48 kHz <-> 8 kHz checks). */
export function resampleLinear(samples: Int16Array, fromRate: number, toRate: number): Int16Array {
  if (fromRate === toRate) return samples;
  const length = Math.floor((samples.length * toRate) / fromRate);
  const out = new Int16Array(length);
  for (let i = 0; i < length; i += 1) {
    const position = (i * fromRate) / toRate;
    const index = Math.floor(position);
    const fraction = position - index;
    const a = samples[index] ?? 0;
    const b = samples[index + 1] ?? a;
    out[i] = clamp16(a + (b - a) * fraction);
  }
  return out;
}
