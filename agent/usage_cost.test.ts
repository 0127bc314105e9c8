import { describe, expect, it } from 'vitest';
import { DEFAULT_PRICES, estimateCostUsd, usageFromModelUsage } from './usage_cost.js';

describe('usageFromModelUsage', () => {
  it('sums the framework usage entries per kind', () => {
    const usage = usageFromModelUsage(
      [
        { type: 'llm_usage', inputTokens: 1200, outputTokens: 80 },
        { type: 'llm_usage', inputTokens: 300, outputTokens: 20 },
        { type: 'stt_usage', audioDurationMs: 12_345 },
        { type: 'tts_usage', charactersCount: 640 },
        { type: 'interruption_usage' },
      ],
      61.4,
    );
    expect(usage).toEqual({ sttAudioSeconds: 12.35, llmPromptTokens: 1500, llmCompletionTokens: 100, ttsCharacters: 640, callSeconds: 61 });
  });
});

describe('estimateCostUsd', () => {
  it('prices each component and rounds call minutes up', () => {
    const usage = { sttAudioSeconds: 3600, llmPromptTokens: 1_000_000, llmCompletionTokens: 1_000_000, ttsCharacters: 1000, callSeconds: 61 };
    const expected =
      DEFAULT_PRICES.sttPerAudioHourUsd +
      DEFAULT_PRICES.llmPerMillionPromptTokensUsd +
      DEFAULT_PRICES.llmPerMillionCompletionTokensUsd +
      DEFAULT_PRICES.ttsPerThousandCharactersUsd +
      2 * DEFAULT_PRICES.telephonyPerMinuteUsd;
    expect(estimateCostUsd(usage)).toBeCloseTo(expected, 4);
  });

  it('is zero for an empty call', () => {
    expect(estimateCostUsd({ sttAudioSeconds: 0, llmPromptTokens: 0, llmCompletionTokens: 0, ttsCharacters: 0, callSeconds: 0 })).toBe(0);
  });
});
