import { describe, expect, it } from 'vitest';
import { speculativeLeadMs, turnFromChatItem } from './turns.js';

describe('turnFromChatItem', () => {
  it('maps a user message to a rep turn with its spoken times', () => {
    const turn = turnFromChatItem(
      { role: 'user', text: ' Hi Diane, do you have a minute? ', interrupted: false, createdAt: 1_700_000_003_000, metrics: { startedSpeakingAt: 1_700_000_000.5, stoppedSpeakingAt: 1_700_000_002.25 } },
      undefined,
    );
    expect(turn).toEqual({ speaker: 'rep', text: 'Hi Diane, do you have a minute?', startedAt: new Date(1_700_000_000_500), endedAt: new Date(1_700_000_002_250), interrupted: false });
  });

  it('gives a persona reply the latency breakdown in milliseconds, endpointing and the STT request from the rep turn', () => {
    const turn = turnFromChatItem(
      { role: 'assistant', text: 'Make it quick.', interrupted: true, createdAt: 1_700_000_003_000, metrics: { startedSpeakingAt: 1_700_000_003.1, stoppedSpeakingAt: 1_700_000_004, llmNodeTtft: 0.2104, ttsNodeTtfb: 0.15, e2eLatency: 0.85 } },
      { transcriptionDelay: 0.7, endOfTurnDelay: 0.55, sttRequestMs: 182.44 },
    );
    expect(turn?.speaker).toBe('persona');
    expect(turn?.interrupted).toBe(true);
    expect(turn?.metrics).toEqual({ endOfUtteranceDelayMs: 550, sttMs: 182.4, llmTtftMs: 210.4, ttsTtfbMs: 150, endToEndMs: 850, speculativeLeadMs: null });
  });

  it('leaves unknown figures null (the greeting answers nobody)', () => {
    const turn = turnFromChatItem({ role: 'assistant', text: 'Diane speaking.', interrupted: false, createdAt: 1000, metrics: {} }, undefined, 2500);
    expect(turn?.metrics).toEqual({ endOfUtteranceDelayMs: null, sttMs: null, llmTtftMs: null, ttsTtfbMs: null, endToEndMs: null, speculativeLeadMs: null });
    expect(turn?.startedAt).toEqual(new Date(1000));
    expect(turn?.endedAt).toEqual(new Date(2500));
  });

  it('skips empty and non-spoken items', () => {
    expect(turnFromChatItem({ role: 'assistant', text: '  ', interrupted: false, createdAt: 1, metrics: {} }, undefined)).toBeUndefined();
    expect(turnFromChatItem({ role: 'system', text: 'x', interrupted: false, createdAt: 1, metrics: {} }, undefined)).toBeUndefined();
  });
  it('a reply generated before the rep turn committed records how far ahead it started', () => {
    expect(speculativeLeadMs(1_000, 1_320)).toBe(320);
    expect(speculativeLeadMs(1_400, 1_320), 'generated after the commit').toBeNull();
    expect(speculativeLeadMs(undefined, 1_320)).toBeNull();
    expect(speculativeLeadMs(1_000, undefined), 'no rep turn yet (greeting)').toBeNull();
  });
});
