import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

/**
 * What an error may say in a log line. Anything else an error carries is dropped, above all a
 * query's parameters: drizzle puts them in `params` and at the end of its message, and pg's
 * `detail` repeats the offending values ("Key (email)=(…) already exists"). PINs' digits, turn text,
 * emails and password hashes travel as parameters.
 */
const SAFE_ERROR_FIELDS = ['code', 'errno', 'syscall', 'address', 'port', 'severity', 'constraint', 'table', 'column', 'routine', 'status', 'provider', 'retryable'] as const;

/** drizzle: "Failed query: <sql>\nparams: <values>"; a data exception (class 22) quotes the bad input. */
function safeMessage(message: string, code: unknown): string {
  const withoutParams = message.replace(/\nparams:[\s\S]*$/, '\nparams: [dropped]');
  if (typeof code === 'string' && code.startsWith('22')) return withoutParams.replace(/: ".*"$/s, ': [dropped]');
  return withoutParams;
}

export interface SerializedError {
  type: string;
  message: string;
  stack?: string;
  cause?: SerializedError | string;
  [field: string]: unknown;
}

/** The one error serializer of every logger in the codebase (`err` and `error` fields). */
export function serializeError(value: unknown, depth = 0): SerializedError | unknown {
  if (!(value instanceof Error)) {
    // A thrown non-error is logged by its kind only: it may be anything, including a parameter.
    return value === null || value === undefined ? value : { type: typeof value, message: '[non-error value dropped]' };
  }
  const raw = value as Error & Record<string, unknown>;
  const message = safeMessage(raw.message, raw.code);
  const frames = (raw.stack ?? '').split('\n').filter((line) => /^\s+at /.test(line));
  const out: SerializedError = { type: raw.constructor?.name ?? raw.name, message, stack: [`${raw.name}: ${message}`, ...frames].join('\n') };
  for (const field of SAFE_ERROR_FIELDS) {
    const v = raw[field];
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out[field] = v;
  }
  if (raw.cause !== undefined) out.cause = depth < 4 ? (serializeError(raw.cause, depth + 1) as SerializedError) : '[deeper causes dropped]';
  if (raw instanceof AggregateError) out.errors = raw.errors.slice(0, 5).map((inner: unknown) => serializeError(inner, depth + 1));
  return out;
}

const errorSerializer = (value: unknown) => serializeError(value);

/** An error's stack for a terminal, through the same filter (start-up failures print one). */
export function safeStack(error: unknown): string {
  const serialized = serializeError(error) as SerializedError | null | undefined;
  return serialized?.stack ?? serialized?.message ?? String(error);
}
/** For loggers built elsewhere (pino-http's child logger replaces the parent's `err` serializer). */
export const errorSerializers = Object.freeze({ err: errorSerializer, error: errorSerializer });

/**
 * Phone numbers, transcripts and prompts go under `pii.*` (docs/architecture.md, "Layers and house style") so one redaction rule covers
 * them all in production. PINs are never logged at all; errors go through serializeError.
 */
export function createLogger(options: { level: string; redactPii: boolean; name?: string; destination?: DestinationStream }): Logger {
  const settings = {
    name: options.name ?? 'practice-line',
    level: options.level,
    serializers: errorSerializers,
    redact: options.redactPii ? { paths: ['pii', '*.pii'], censor: '[redacted]' } : { paths: [] },
  };
  return options.destination ? pino(settings, options.destination) : pino(settings);
}
