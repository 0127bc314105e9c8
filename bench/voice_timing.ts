// When speech starts and stops in a recording, on the test phone's clock. Shared by bench:turn and
// bench:capacity so both measure a turn the same way: last voiced sample the phone sends -> first
// voiced sample it hears back.
import { rmsDbfs } from '../sip/phone/audio.js';
import { phoneSampleRate, type PhoneCall } from '../sip/phone/phone.js';

export const VOICED_DBFS = -40;
const WINDOW_MS = 10;

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export const percentile = (values: readonly number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
};

/** A recording on the phone's clock: sample i was heard at originMs + i / rate. */
export interface Track {
  samples: Int16Array;
  rate: number;
  originMs: number;
}

const voicedAt = (track: Track, index: number) => rmsDbfs(track.samples, index, index + (track.rate * WINDOW_MS) / 1000) > VOICED_DBFS;

/** Start of the first voiced 10 ms window at or after `fromMs`. */
export function firstVoiced(track: Track, fromMs: number): number | undefined {
  const window = (track.rate * WINDOW_MS) / 1000;
  for (let i = Math.max(0, Math.floor(((fromMs - track.originMs) / 1000) * track.rate)); i + window <= track.samples.length; i += window) {
    if (voicedAt(track, i)) return track.originMs + (i / track.rate) * 1000;
  }
  return undefined;
}

/** End of the last voiced 10 ms window inside [fromMs, toMs]. */
export function lastVoiced(track: Track, fromMs: number, toMs: number): number | undefined {
  const window = (track.rate * WINDOW_MS) / 1000;
  const first = Math.max(0, Math.floor(((fromMs - track.originMs) / 1000) * track.rate));
  for (let end = Math.min(track.samples.length, Math.floor(((toMs - track.originMs) / 1000) * track.rate)); end - window >= first; end -= window) {
    if (voicedAt(track, end - window)) return track.originMs + (end / track.rate) * 1000;
  }
  return undefined;
}

export const pcmTrack = (samples: Int16Array, rate: number): Track => ({ samples, rate, originMs: 0 });
export const phoneTrack = (call: PhoneCall): Track => ({ samples: call.recording(), rate: phoneSampleRate, originMs: 0 });

/** Waits until the phone has heard `quietMs` of silence. */
export async function waitForQuiet(call: PhoneCall, quietMs: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const recording = call.recording();
    const from = recording.length - Math.floor((quietMs / 1000) * phoneSampleRate);
    if (from > 0 && rmsDbfs(recording, from, recording.length) < VOICED_DBFS - 5) return;
    await sleep(100);
  }
}

/** First voiced audio the phone hears at or after `fromMs`, or undefined after the timeout. */
export async function waitForHeard(call: PhoneCall, fromMs: number, timeoutMs: number): Promise<number | undefined> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const heard = firstVoiced(phoneTrack(call), fromMs);
    if (heard !== undefined) return heard;
    await sleep(20);
  }
  return undefined;
}
