// The one place Postgres (and node-postgres connection) error codes are read. drizzle wraps the
// driver's error in its own, so every helper walks the `cause` chain (and AggregateError members).

/** SQLSTATE 23505: a unique constraint or index refused the row. */
const UNIQUE_VIOLATION = '23505';
const UNAVAILABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EPIPE', '57P01', '57P02', '57P03']);
const UNAVAILABLE_MESSAGES = /timeout exceeded when trying to connect|Connection terminated|Query read timeout|Client has encountered a connection error/;

/** The error and its causes, outermost first (a handful at most). */
function* causesOf(error: unknown): Generator<Record<string, unknown>> {
  for (let current: unknown = error, depth = 0; current && typeof current === 'object' && depth < 5; depth += 1) {
    yield current as Record<string, unknown>;
    current = (current as { cause?: unknown }).cause;
  }
}

/** The name of the unique constraint a failed insert/update hit ('' when unnamed), or null when that is not why it failed. */
export function uniqueViolation(error: unknown): string | null {
  for (const candidate of causesOf(error)) {
    if (candidate.code === UNIQUE_VIOLATION) return typeof candidate.constraint === 'string' ? candidate.constraint : '';
  }
  return null;
}

export const isUniqueViolation = (error: unknown): boolean => uniqueViolation(error) !== null;

/**
 * True when an error (or one of its causes) says the database could not be reached or went away,
 * rather than that a statement was wrong: edges answer those with "try again shortly" (503).
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (const current of causesOf(error)) {
    if (!(current instanceof Error)) return false;
    const { code } = current as { code?: unknown };
    if (typeof code === 'string' && (UNAVAILABLE_CODES.has(code) || code.startsWith('08'))) return true;
    if (UNAVAILABLE_MESSAGES.test(current.message)) return true;
    if (current instanceof AggregateError && current.errors.some((inner) => isDatabaseUnavailable(inner))) return true;
  }
  return false;
}
