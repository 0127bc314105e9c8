// The scorecard LLM call through groq-sdk. Every failure becomes a ProviderError; retries are the
// caller's (score_transcript.ts), so one policy covers transport errors and bad answers alike.
import Groq, { APIError } from 'groq-sdk';
import { ProviderError, isRetryableStatus } from '../../domain/provider_error.js';
import type { ScorecardModel, ScorecardRequest } from '../../app/score_transcript.js';
import type { Config } from '../../config.js';

export interface GroqScorecardModelOptions {
  apiKey: string;
  /** The bare origin (https://api.groq.com); groq-sdk appends /openai/v1 itself. */
  baseUrl: string;
  model: string;
  timeoutMs?: number;
}

export function createGroqScorecardModel(options: GroqScorecardModelOptions): ScorecardModel {
  const client = new Groq({ apiKey: options.apiKey, baseURL: options.baseUrl.replace(/\/+$/, ''), maxRetries: 0, timeout: options.timeoutMs ?? 60_000 });
  return {
    model: options.model,
    async complete(request: ScorecardRequest) {
      try {
        const completion = await client.chat.completions.create({
          model: options.model,
          messages: request.messages,
          temperature: 0,
          response_format:
            request.format === 'json_schema'
              ? { type: 'json_schema', json_schema: { name: request.schemaName ?? 'scorecard', schema: request.jsonSchema, strict: false } }
              : { type: 'json_object' },
        });
        const content = completion.choices[0]?.message.content;
        if (typeof content !== 'string' || content === '') {
          throw new ProviderError('groq', 'the model returned no content', { retryable: true });
        }
        return content;
      } catch (error) {
        if (error instanceof ProviderError) throw error;
        if (error instanceof APIError) {
          const status = error.status;
          throw new ProviderError('groq', status === undefined ? `Groq unreachable: ${error.message}` : `Groq answered ${status}: ${error.message}`, {
            ...(status === undefined ? {} : { status }),
            retryable: isRetryableStatus(status),
            cause: error,
          });
        }
        // groq-sdk parses the body itself: a truncated or non-JSON 200 surfaces as a SyntaxError.
        throw new ProviderError('groq', `Groq answer unreadable: ${error instanceof Error ? error.message : String(error)}`, { retryable: true, cause: error });
      }
    },
  };
}

/** The scorecard model the config describes, or null (scorecards then say Groq is not configured). */
export function scorecardModelFromConfig(config: Pick<Config, 'GROQ_API_KEY' | 'GROQ_BASE_URL' | 'GROQ_SCORECARD_MODEL'>): ScorecardModel | null {
  if (!config.GROQ_API_KEY) return null;
  return createGroqScorecardModel({ apiKey: config.GROQ_API_KEY, baseUrl: config.GROQ_BASE_URL, model: config.GROQ_SCORECARD_MODEL });
}
