// What every management use case shares: its dependencies, input parsing into domain errors, and
// paging. Unique violations are recognised by adapters/db/pg_errors.ts.
import { z } from 'zod';
import type { PgSelect } from 'drizzle-orm/pg-core';
import type { Database } from '../adapters/db/client.js';
import { canEditTeamContent, type Actor } from '../domain/access.js';
import { fieldsOf, forbidden, invalidInput, notFound } from '../domain/errors.js';
import type { Clock } from './ports.js';
import type { ObjectStorage } from './object_storage.js';

export interface AppDeps {
  db: Database;
  /** HMAC key for PINs (DATA_DIR/secrets.json or PIN_SECRET); never stored in the database. */
  pinSecret: string;
  hashPassword(password: string): Promise<string>;
  /** Checks a user's current password before they change their own password or email. */
  verifyPassword?(hash: string, password: string): Promise<boolean>;
  now?: Clock;
  /** Defaults to domain/pin.ts's generatePin; tests pass a scripted one to force a collision. */
  generatePin?: () => string;
  /** Where call recordings are kept (src/adapters/storage); absent, no recording can be played or deleted. */
  storage?: ObjectStorage;
}

/** A transaction handle; the same query API as the database, so helpers accept either. */
export type Tx = Parameters<Parameters<Database['transaction']>[0]>[0];
export type Executor = Database | Tx;

/** Every use case validates its own input, so the API, the web view and the CLI cannot drift apart. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const fields = fieldsOf(parsed.error);
  throw invalidInput(`invalid input: ${Object.keys(fields).join(', ')}`, fields);
}


const ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** An id from a URL or argument: a malformed one cannot name anything, so it is simply not found. */
export function parseId(value: unknown, what: string): string {
  if (typeof value !== 'string' || !ID.test(value)) throw notFound(what);
  return value.toLowerCase();
}

export const E164 = /^\+[1-9]\d{6,14}$/;

/**
 * A persona or scenario row locked for an update: it must exist and belong to the actor's team
 * (or the actor is an admin); anyone on staff may use another team's, but not change it.
 */
export function assertTeamEditable(actor: Actor, what: 'persona' | 'scenario', current: { teamManagerId: string | null } | undefined): void {
  if (!current) throw notFound(what);
  if (!canEditTeamContent(actor, current.teamManagerId)) throw forbidden(`this ${what} belongs to another team: you may use it but not change it`);
}

/** The archivedAt change an `archived` flag asks for (none when the flag is absent). */
export const archivedAtOf = (archived: boolean | undefined, now: Date): { archivedAt?: Date | null } =>
  archived === undefined ? {} : { archivedAt: archived ? now : null };

/** A yes/no query parameter: a boolean from JSON or 'true'/'false' from a query string; default no. */
export const booleanQuery = z.union([z.boolean(), z.enum(['true', 'false']).transform((value) => value === 'true')]).default(false);

/**
 * The names of the fields an update changes (those given, plus `also` for flags kept apart from
 * the patch, such as `archived` or `password`); an update that changes nothing is invalid input.
 */
export function changedFields(patch: Record<string, unknown>, also: Record<string, unknown> = {}): string[] {
  const changed = [...Object.entries(patch), ...Object.entries(also)].filter(([, value]) => value !== undefined).map(([key]) => key);
  if (changed.length === 0) throw invalidInput('nothing to change', { '(body)': 'name at least one field to change' });
  return changed;
}

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
