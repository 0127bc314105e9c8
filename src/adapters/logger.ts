import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * Phone numbers, transcripts and prompts go under `pii.*` (STYLE.md) so one redaction rule covers
 * them all in production. PINs are never logged at all.
 */
export function createLogger(options: { level: string; redactPii: boolean; name?: string }): Logger {
  return pino({
    name: options.name ?? 'practice-line',
    level: options.level,
    redact: options.redactPii ? { paths: ['pii', '*.pii'], censor: '[redacted]' } : { paths: [] },
  });
}
