import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import wavefile from 'wavefile';
import { encodeWav, findVoicedSegments, generateTone, readWavMono, resampleLinear, rmsDbfs, toneRatio, writeWav } from './audio.js';

describe('audio helpers', () => {
  it('reads a 48 kHz stereo WAV as 8 kHz mono with the tone intact', () => {
    const tone = generateTone({ frequencyHz: 1000, durationMs: 500, sampleRate: 48000 });
    const stereo = new Int16Array(tone.length * 2);
    for (let i = 0; i < tone.length; i += 1) {
      stereo[2 * i] = tone[i]!;
      stereo[2 * i + 1] = tone[i]!;
    }
    const dir = mkdtempSync(join(tmpdir(), 'audio-test-'));
    const path = join(dir, 'stereo.wav');
    writeWav(join(dir, 'mono.wav'), tone, 48000);
    const wav = new wavefile.WaveFile();
    wav.fromScratch(2, 48000, '16', stereo); // interleaved samples
    writeFileSync(path, wav.toBuffer());

    const pcm = readWavMono(path, 8000);
    expect(pcm.length).toBeGreaterThan(3900);
    expect(pcm.length).toBeLessThan(4100);
    expect(toneRatio(pcm, 8000, 1000)).toBeGreaterThan(0.9);
    expect(toneRatio(readWavMono(join(dir, 'mono.wav'), 8000), 8000, 1000)).toBeGreaterThan(0.9);
  });

  it('scores a tone high at its frequency and low elsewhere', () => {
    const tone = generateTone({ frequencyHz: 600, durationMs: 300, sampleRate: 8000 });
    expect(toneRatio(tone, 8000, 600)).toBeGreaterThan(0.9);
    expect(toneRatio(tone, 8000, 1000)).toBeLessThan(0.05);
    expect(toneRatio(new Int16Array(8000), 8000, 600)).toBe(0);
    expect(rmsDbfs(tone)).toBeCloseTo(20 * Math.log10(0.3 / Math.SQRT2), 0);
  });

  it('finds voiced segments, bridging short pauses and dropping clicks', () => {
    const rate = 8000;
    const pcm = new Int16Array(rate * 3);
    pcm.set(generateTone({ frequencyHz: 440, durationMs: 500, sampleRate: rate }), rate * 0.5); // 500-1000 ms
    pcm.set(generateTone({ frequencyHz: 440, durationMs: 300, sampleRate: rate }), rate * 1.2); // 1200-1500 ms, 200 ms gap
    pcm.set(generateTone({ frequencyHz: 440, durationMs: 20, sampleRate: rate }), rate * 2.5); // a click
    expect(findVoicedSegments(pcm, rate)).toEqual([{ startMs: 500, endMs: 1500 }]);
    expect(findVoicedSegments(pcm, rate, { minGapMs: 100 })).toEqual([
      { startMs: 500, endMs: 1000 },
      { startMs: 1200, endMs: 1500 },
    ]);
  });

  it('resamples linearly and encodes a playable WAV', () => {
    const tone = generateTone({ frequencyHz: 500, durationMs: 200, sampleRate: 8000 });
    const up = resampleLinear(tone, 8000, 48000);
    expect(up.length).toBe(9600);
    expect(toneRatio(up, 48000, 500)).toBeGreaterThan(0.9);
    expect(new TextDecoder().decode(encodeWav(tone, 8000).subarray(0, 4))).toBe('RIFF');
  });
});
