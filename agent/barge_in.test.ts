import { describe, expect, it } from 'vitest';
import { voicedMs } from './barge_in.js';

describe('voicedMs', () => {
  it('does not count the trailing silence the VAD is still waiting out', () => {
    // A 350 ms "yeah" followed by 400 ms of silence: still "speaking" for the VAD, 750 ms long.
    expect(voicedMs({ speaking: true, speechDuration: 750, rawAccumulatedSilence: 400 })).toBe(350);
  });

  it('grows while the caller keeps talking', () => {
    expect(voicedMs({ speaking: true, speechDuration: 900, rawAccumulatedSilence: 0 })).toBe(900);
  });

  it('is zero outside speech', () => {
    expect(voicedMs({ speaking: false, speechDuration: 0, rawAccumulatedSilence: 1200 })).toBe(0);
  });
});
