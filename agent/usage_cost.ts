// Usage per call and its estimated cost (docs/architecture.md, "The agent"). Pure, so the figures a manager
// reads can be checked by hand.
import type { CallUsage } from '../src/adapters/db/schema.js';

/** The slice of @livekit/agents' ModelUsage entries this module reads (session.usage.modelUsage). */
export type ModelUsageEntry =
  | { type?: 'llm_usage'; inputTokens?: number; outputTokens?: number }
  | { type?: 'stt_usage'; audioDurationMs?: number }
  | { type?: 'tts_usage'; charactersCount?: number }
  | { type?: string };

export function usageFromModelUsage(entries: readonly ModelUsageEntry[], callSeconds: number): CallUsage {
  const usage: CallUsage = { sttAudioSeconds: 0, llmPromptTokens: 0, llmCompletionTokens: 0, ttsCharacters: 0, callSeconds: Math.max(0, Math.round(callSeconds)) };
  for (const entry of entries) {
    if (entry.type === 'llm_usage' && 'inputTokens' in entry) {
      usage.llmPromptTokens += entry.inputTokens ?? 0;
      usage.llmCompletionTokens += ('outputTokens' in entry ? entry.outputTokens : 0) ?? 0;
    } else if (entry.type === 'stt_usage' && 'audioDurationMs' in entry) {
      usage.sttAudioSeconds += (entry.audioDurationMs ?? 0) / 1000;
    } else if (entry.type === 'tts_usage' && 'charactersCount' in entry) {
      usage.ttsCharacters += entry.charactersCount ?? 0;
    }
  }
  usage.sttAudioSeconds = Math.round(usage.sttAudioSeconds * 100) / 100;
  return usage;
}

export interface Prices {
  sttPerAudioHourUsd: number;
  llmPerMillionPromptTokensUsd: number;
  llmPerMillionCompletionTokensUsd: number;
  ttsPerThousandCharactersUsd: number;
  telephonyPerMinuteUsd: number;
}

/**
 * Published list prices when this was written (Groq whisper-large-v3-turbo and
 * llama-3.3-70b-versatile, ElevenLabs Flash v2.5 API, Twilio inbound voice + SIP). An estimate for
 * comparing calls, not an invoice.
 */
export const DEFAULT_PRICES: Readonly<Prices> = Object.freeze({
  sttPerAudioHourUsd: 0.04,
  llmPerMillionPromptTokensUsd: 0.59,
  llmPerMillionCompletionTokensUsd: 0.79,
  ttsPerThousandCharactersUsd: 0.05,
  telephonyPerMinuteUsd: 0.0125,
});

/** Estimated cost in USD, rounded to the 4 decimals the calls table stores. */
export function estimateCostUsd(usage: CallUsage, prices: Prices = DEFAULT_PRICES): number {
  const cost =
    (usage.sttAudioSeconds / 3600) * prices.sttPerAudioHourUsd +
    (usage.llmPromptTokens / 1e6) * prices.llmPerMillionPromptTokensUsd +
    (usage.llmCompletionTokens / 1e6) * prices.llmPerMillionCompletionTokensUsd +
    (usage.ttsCharacters / 1000) * prices.ttsPerThousandCharactersUsd +
    (Math.ceil(usage.callSeconds / 60) * prices.telephonyPerMinuteUsd);
  return Math.round(cost * 10_000) / 10_000;
}
