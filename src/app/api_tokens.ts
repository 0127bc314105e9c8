// Bearer tokens for the JSON API. The token is shown once; only its SHA-256 is stored. A token is
// 32 random bytes, so an unsalted fast hash is enough: there is nothing to brute-force.
import { createHash, randomBytes } from 'node:crypto';
import { and, desc, eq, gt, isNull } from 'drizzle-orm';
import { createInsertSchema } from 'drizzle-zod';
import { z } from 'zod';
import { apiTokens, users } from '../adapters/db/schema.js';
import { assertStaff, canIssueTokenFor, isAdmin, type Actor } from '../domain/access.js';
import { forbidden, notFound } from '../domain/errors.js';
import { recordAudit, auditCreated } from './audit.js';
import { type AppDeps, parseId, parseInput, type PageRequest, withPage } from './use_case.js';
import { nowOf } from './ports.js';
import { idSchema, loadVisibleUser } from './users.js';

const TOKEN_PREFIX = 'pl_';

export const hashApiToken = (token: string): string => createHash('sha256').update(token).digest('hex');

export const createApiTokenInput = createInsertSchema(apiTokens, {
  name: (schema) => schema.trim().min(1, 'required').max(100),
  userId: () => idSchema,
})
  .pick({ name: true, userId: true })
  .partial({ userId: true })
  .extend({
    /** Lifetime in days (default 90): a leaked token stops working by itself. */
    expiresInDays: z.coerce.number({ message: 'expected a number of days' }).int('expected whole days').min(1, 'at least 1 day').max(365, 'at most 365 days').optional(),
  });

export const DEFAULT_TOKEN_DAYS = 90;
export type CreateApiTokenInput = z.input<typeof createApiTokenInput>;

export type ApiTokenView = Omit<typeof apiTokens.$inferSelect, 'tokenHash'>;

export interface IssuedToken {
  apiToken: ApiTokenView;
  /** Shown once. */
  token: string;
}

const toView = ({ tokenHash: _tokenHash, ...rest }: typeof apiTokens.$inferSelect): ApiTokenView => rest;

/** Issues a token for `userId` (default: the actor themself). */
export async function createApiToken(deps: Pick<AppDeps, 'db' | 'now'>, actor: Actor, raw: CreateApiTokenInput): Promise<IssuedToken> {
  assertStaff(actor);
  const input = parseInput(createApiTokenInput, raw);
  const userId = input.userId ?? actor.userId;
  if (userId === null) throw forbidden('name the user the token is for');
  const user = await loadVisibleUser(deps.db, actor, userId);
  if (!canIssueTokenFor(actor, user) || !user.active) throw forbidden('API tokens are for active admins and managers, issued by themselves or an admin');

  const token = TOKEN_PREFIX + randomBytes(32).toString('base64url');
  return deps.db.transaction(async (tx) => {
    const expiresAt = new Date(nowOf(deps).getTime() + (input.expiresInDays ?? DEFAULT_TOKEN_DAYS) * 86_400_000);
    const rows = await tx.insert(apiTokens).values({ userId, name: input.name, tokenHash: hashApiToken(token), expiresAt }).returning();
    const row = await auditCreated(tx, actor, rows, (created) => ({ action: 'api_token.created', entityType: 'api_token', details: { userId, name: created.name, expiresAt: expiresAt.toISOString() } }));
    return { apiToken: toView(row), token };
  });
}

export async function listApiTokens(deps: Pick<AppDeps, 'db'>, actor: Actor, paging?: PageRequest): Promise<ApiTokenView[]> {
  assertStaff(actor);
  const query = deps.db
    .select()
    .from(apiTokens)
    .where(isAdmin(actor) ? undefined : eq(apiTokens.userId, actor.userId ?? ''))
    .orderBy(desc(apiTokens.createdAt), desc(apiTokens.id))
    .$dynamic();
  return (await withPage(query, paging)).map(toView);
}

export async function revokeApiToken(deps: Pick<AppDeps, 'db' | 'now'>, actor: Actor, id: string): Promise<ApiTokenView> {
  assertStaff(actor);
  const tokenId = parseId(id, 'API token');
  return deps.db.transaction(async (tx) => {
    const [row] = await tx.select().from(apiTokens).where(eq(apiTokens.id, tokenId));
    if (!row || (!isAdmin(actor) && row.userId !== actor.userId)) throw notFound('API token');
    if (row.revokedAt) return toView(row);
    const [revoked] = await tx.update(apiTokens).set({ revokedAt: nowOf(deps) }).where(eq(apiTokens.id, tokenId)).returning();
    await recordAudit(tx, actor, { action: 'api_token.revoked', entityType: 'api_token', entityId: tokenId });
    return toView(revoked ?? row);
  });
}

/**
 * The actor behind a bearer token, or null when the token is unknown, revoked, expired, or its user is
 * inactive or a rep. lastUsedAt is refreshed at most once a minute to keep reads cheap.
 */
export async function authenticateApiToken(deps: Pick<AppDeps, 'db' | 'now'>, token: string): Promise<Actor | null> {
  if (!token.startsWith(TOKEN_PREFIX) || token.length > 200) return null;
  const now = nowOf(deps);
  const [row] = await deps.db
    .select({ id: apiTokens.id, lastUsedAt: apiTokens.lastUsedAt, userId: users.id, role: users.role, active: users.active })
    .from(apiTokens)
    .innerJoin(users, eq(users.id, apiTokens.userId))
    .where(and(eq(apiTokens.tokenHash, hashApiToken(token)), isNull(apiTokens.revokedAt), gt(apiTokens.expiresAt, now)))
    .limit(1);
  if (!row || !row.active || row.role === 'rep') return null;
  if (!row.lastUsedAt || now.getTime() - row.lastUsedAt.getTime() > 60_000) {
    await deps.db.update(apiTokens).set({ lastUsedAt: now }).where(eq(apiTokens.id, row.id));
  }
  return { userId: row.userId, role: row.role };
}
