// What every management use case shares: its dependencies, input parsing into domain errors, and
// the translation of the database's unique violations into `conflict`.
import { z } from 'zod';
import type { PgSelect } from 'drizzle-orm/pg-core';
import type { Database } from '../adapters/db/client.js';
import { invalidInput, notFound } from '../domain/errors.js';
import type { ObjectStorage } from './object_storage.js';

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
  /** Where call recordings are kept (src/adapters/storage); absent, no recording can be played or deleted. */
  storage?: ObjectStorage;
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

/** `?page=&pageSize=` of a list endpoint (pageSize at most 200, default 50). */
export const pageInput = z.object({
  page: z.coerce.number({ message: 'expected a page number' }).int('expected a whole number').min(1, 'pages start at 1').max(100_000, 'too far').default(1),
  pageSize: z.coerce.number({ message: 'expected a number' }).int('expected a whole number').min(1, 'at least 1').max(200, 'at most 200').default(50),
});
export type PageRequest = z.output<typeof pageInput>;

export function parsePage(query: Record<string, unknown>): PageRequest {
  return parseInput(pageInput, { page: query.page, pageSize: query.pageSize });
}

/**
 * One page of a list query: one row more than the page is read, so the answer says whether
 * another page follows without counting the whole table. Without `paging` every row is returned
 * (the web view and the CLI).
 */
export function withPage<Q extends PgSelect>(query: Q, paging: PageRequest | undefined): Q {
  return paging ? query.limit(paging.pageSize + 1).offset((paging.page - 1) * paging.pageSize) : query;
}

export interface Page<T> {
  items: T[];
  page: number;
  pageSize: number;
  hasMore: boolean;
}

export function pageOf<T>(rows: T[], paging: PageRequest): Page<T> {
  return { items: rows.slice(0, paging.pageSize), page: paging.page, pageSize: paging.pageSize, hasMore: rows.length > paging.pageSize };
}
