import { describe, expect, it } from 'vitest';
import { bargeInDecision, voicedMs } from './barge_in.js';

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

describe('bargeInDecision', () => {
  const heard = (voicedMs: number, personaSpeaking = true, msSinceLastInterrupt = 60_000) => bargeInDecision({ voicedMs, minSpeechMs: 600, personaSpeaking, msSinceLastInterrupt });

  it('lets a short "yeah" over the persona pass as a backchannel', () => {
    expect(heard(350)).toBe('backchannel');
  });

  it('interrupts once the caller has voiced the minimum over the persona', () => {
    expect(heard(600)).toBe('interrupt');
    expect(heard(1800)).toBe('interrupt');
  });

  it('ignores speech while the persona is silent (an ordinary turn) and repeats within a second (both VAD streams report it)', () => {
    expect(heard(2000, false)).toBe('ignore');
    expect(heard(2000, true, 400)).toBe('ignore');
  });
});
