// What every management use case shares: its dependencies, input parsing into domain errors, and
// the translation of the database's unique violations into `conflict`.
import type { z } from 'zod';
import type { Database } from '../adapters/db/client.js';
import { invalidInput, notFound } from '../domain/errors.js';

export interface AppDeps {
  db: Database;
  /** HMAC key for PINs (DATA_DIR/secrets.json or PIN_SECRET); never stored in the database. */
  pinSecret: string;
  hashPassword(password: string): Promise<string>;
  /** Checks a user's current password before they change their own password or email. */
  verifyPassword?(hash: string, password: string): Promise<boolean>;
  now?: () => Date;
  /** Defaults to domain/pin.ts's generatePin; tests pass a scripted one to force a collision. */
  generatePin?: () => string;
}

/** A transaction handle; the same query API as the database, so helpers accept either. */
export type Tx = Parameters<Parameters<Database['transaction']>[0]>[0];
export type Executor = Database | Tx;

export const nowOf = (deps: { now?: () => Date }): Date => (deps.now ? deps.now() : new Date());

/** Turns zod issues into `{ 'rubric.1.weight': 'message' }`; the first message per path wins. */
export function fieldsOf(error: z.ZodError): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const issue of error.issues) {
    const path = issue.path.map(String).join('.') || '(body)';
    fields[path] ??= issue.message;
  }
  return fields;
}

/** Every use case validates its own input, so the API, the web view and the CLI cannot drift apart. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const fields = fieldsOf(parsed.error);
  throw invalidInput(`invalid input: ${Object.keys(fields).join(', ')}`, fields);
}

/** The name of the unique constraint a failed insert/update hit, when that is why it failed. */
export function uniqueViolation(error: unknown): string | null {
  for (let current: unknown = error, depth = 0; current && depth < 4; depth += 1) {
    const candidate = current as { code?: unknown; constraint?: unknown; cause?: unknown };
    if (candidate.code === '23505') return typeof candidate.constraint === 'string' ? candidate.constraint : '';
    current = candidate.cause;
  }
  return null;
}

const ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** An id from a URL or argument: a malformed one cannot name anything, so it is simply not found. */
export function parseId(value: unknown, what: string): string {
  if (typeof value !== 'string' || !ID.test(value)) throw notFound(what);
  return value.toLowerCase();
}

export const E164 = /^\+[1-9]\d{6,14}$/;
