// Every change leaves an audit row written in the same transaction as the change itself, so the
// log cannot claim a change that rolled back, nor miss one that landed.
import { and, desc, eq, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import { auditLog } from '../adapters/db/schema.js';
import { assertAdmin, type Actor } from '../domain/access.js';
import { notFound } from '../domain/errors.js';
import { parseInput, type AppDeps, type Executor, type PageRequest, withPage } from './use_case.js';

export interface AuditEntry {
  action: string;
  entityType: string;
  entityId: string | null;
  /** Never secrets: no PINs, passwords or tokens, not even hashed. */
  details?: Record<string, unknown>;
}

export async function recordAudit(tx: Executor, actor: Actor, entry: AuditEntry): Promise<void> {
  await tx.insert(auditLog).values({
    actorUserId: actor.userId,
    action: entry.action,
    entityType: entry.entityType,
    entityId: entry.entityId,
    details: { ...entry.details, actorRole: actor.role, ...(actor.userId === null ? { via: 'system' } : {}) },
  });
}

/**
 * The row an insert returned (`.returning()`), with its audit entry written in the same
 * transaction; `entry` names the action and details, the row's id is the entity id.
 */
export async function auditCreated<T extends { id: string }>(tx: Executor, actor: Actor, rows: T[], entry: (row: T) => Omit<AuditEntry, 'entityId'>): Promise<T> {
  const [row] = rows;
  if (!row) throw new Error('insert returned no row');
  await recordAudit(tx, actor, { ...entry(row), entityId: row.id });
  return row;
}

/** The row an update returned, audited as `${entityType}.updated`; no row means it is gone (not found). */
export async function auditUpdated<T extends { id: string }>(tx: Executor, actor: Actor, rows: T[], entityType: string, details: Record<string, unknown>): Promise<T> {
  const [row] = rows;
  if (!row) throw notFound(entityType);
  await recordAudit(tx, actor, { action: `${entityType}.updated`, entityType, entityId: row.id, details });
  return row;
}

export type AuditRow = typeof auditLog.$inferSelect;

export const listAuditInput = z.object({
  entityType: z.string().trim().min(1).max(50).optional(),
  entityId: z.string().trim().min(1).max(100).optional(),
  limit: z.coerce.number().int('expected a whole number').min(1, 'must be at least 1').max(500, 'must be at most 500').default(100),
});
export type ListAuditInput = z.input<typeof listAuditInput>;

/** The audit trail is for admins; newest first. */
export async function listAudit(deps: Pick<AppDeps, 'db'>, actor: Actor, raw: ListAuditInput = {}, paging?: PageRequest): Promise<AuditRow[]> {
  assertAdmin(actor);
  const filter = parseInput(listAuditInput, raw);
  const where: SQL[] = [];
  if (filter.entityType) where.push(eq(auditLog.entityType, filter.entityType));
  if (filter.entityId) where.push(eq(auditLog.entityId, filter.entityId));
  const query = deps.db
    .select()
    .from(auditLog)
    .where(and(...where))
    .orderBy(desc(auditLog.id))
    .$dynamic();
  // A page when the API asks for one; `limit` (the CLI's) otherwise.
  return paging ? withPage(query, paging) : query.limit(filter.limit);
}
