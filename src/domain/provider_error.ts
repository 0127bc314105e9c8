// The one error adapters raise for any vendor failure (LiveKit, Twilio, Groq, ElevenLabs, SMTP), so
// callers decide on `retryable` and never on a vendor's own error classes.

export type Provider = 'livekit' | 'twilio' | 'groq' | 'elevenlabs' | 'smtp';

export class ProviderError extends Error {
  readonly code = 'provider_error';
  readonly provider: Provider;
  readonly status: number | undefined;
  readonly retryable: boolean;

  constructor(provider: Provider, message: string, options: { status?: number; retryable: boolean; cause?: unknown }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ProviderError';
    this.provider = provider;
    this.status = options.status;
    this.retryable = options.retryable;
  }
}

export const isProviderError = (error: unknown): error is ProviderError => error instanceof ProviderError;

/** Transport failures, throttling and 5xx are worth another try; other 4xx are not. */
export function isRetryableStatus(status: number | undefined): boolean {
  return status === undefined || status === 408 || status === 429 || status >= 500;
}
