// What the caller hears while one persona puts them through to the next (decision 018): about two
// seconds of ringing, generated here rather than shipped as a clip. agents-js's built-in
// hold_music.ogg has no licence in its resources/NOTICE, so we do not play it.
import { AudioFrame } from '@livekit/rtc-node';

/** The UK ring cadence: 0.4 s on, 0.2 s off, 0.4 s on, then quiet until the next voice. */
const CADENCE_MS: readonly { tone: boolean; ms: number }[] = [
  { tone: true, ms: 400 },
  { tone: false, ms: 200 },
  { tone: true, ms: 400 },
  { tone: false, ms: 1000 },
];
const TONES_HZ = [400, 450] as const;
/** Each tone's peak, as a fraction of full scale: together about -17 dBFS RMS, a comfortable ringback level. */
const AMPLITUDE = 0.12;
const FRAME_MS = 20;

export const HOLD_RING_MS = CADENCE_MS.reduce((total, part) => total + part.ms, 0);

/** The ring as 20 ms mono frames at `sampleRate`. */
export function holdRingFrames(sampleRate: number): AudioFrame[] {
  const samples = new Int16Array((sampleRate * HOLD_RING_MS) / 1000);
  let offset = 0;
  for (const part of CADENCE_MS) {
    const length = (sampleRate * part.ms) / 1000;
    if (part.tone) {
      for (let i = 0; i < length; i++) {
        const t = i / sampleRate;
        // A 10 ms fade at each edge, so the bursts do not click.
        const edge = Math.min(1, i / (sampleRate / 100), (length - i) / (sampleRate / 100));
        const value = TONES_HZ.reduce((sum, hz) => sum + Math.sin(2 * Math.PI * hz * t), 0) * AMPLITUDE * edge;
        samples[offset + i] = Math.round(value * 32767);
      }
    }
    offset += length;
  }
  const perFrame = (sampleRate * FRAME_MS) / 1000;
  const frames: AudioFrame[] = [];
  for (let start = 0; start < samples.length; start += perFrame) {
    const chunk = samples.slice(start, start + perFrame);
    frames.push(new AudioFrame(chunk, sampleRate, 1, chunk.length));
  }
  return frames;
}
