// Users: admins manage everyone; a manager creates and edits reps under themself (domain/access.ts).
import { and, asc, eq, isNull, ne, or, sql, type SQL } from 'drizzle-orm';
import { createInsertSchema } from 'drizzle-zod';
import { z } from 'zod';
import { uniqueViolation } from '../adapters/db/pg_errors.js';
import { apiTokens, sessions, users } from '../adapters/db/schema.js';
import {
  assertStaff,
  canManageUser,
  canSeeUser,
  isAdmin,
  managerForNewUser,
  repManagerScope,
  systemActor,
  type Actor,
} from '../domain/access.js';
import { conflict, forbidden, invalidInput, notFound } from '../domain/errors.js';
import { recordAudit, auditCreated } from './audit.js';
import { type AppDeps, E164, type Executor, parseId, parseInput, type PageRequest, withPage, changedFields, booleanQuery } from './use_case.js';

export const idSchema = z.guid({ message: 'expected an id' });

const passwordSchema = z
  .string()
  .min(12, 'must be at least 12 characters')
  .max(200, 'must be at most 200 characters');

const userInsertSchema = createInsertSchema(users, {
  name: (schema) => schema.trim().min(1, 'required').max(200),
  // Normalise first: zod runs the email check before trim/lower-case checks on the same schema.
  email: () => z.string().trim().toLowerCase().pipe(z.email({ message: 'expected an email address' })),
  phoneNumbers: () => z.array(z.string().trim().regex(E164, 'expected an E.164 number such as +15550100001')).max(10),
  managerId: () => idSchema,
});

export const createUserInput = userInsertSchema
  .pick({ role: true, name: true, email: true, managerId: true, phoneNumbers: true })
  // drizzle-zod's types drop the optionality of refined nullable/defaulted columns; runtime keeps it.
  .partial({ managerId: true, phoneNumbers: true })
  .extend({
    /** Only admins and managers log in (web view); reps never have a password. */
    password: passwordSchema.optional(),
  });
export type CreateUserInput = z.input<typeof createUserInput>;

export const updateUserInput = userInsertSchema
  .pick({ name: true, email: true, managerId: true, phoneNumbers: true, active: true })
  .partial()
  .extend({
    id: idSchema,
    password: passwordSchema.optional(),
    /** Required when users change their own password or email: a stolen session or token alone cannot take the account over. */
    currentPassword: z.string().max(200).optional(),
  });
export type UpdateUserInput = z.input<typeof updateUserInput>;

/** What the edge knows that the input does not: the web session making the change, which survives it. */
export interface UpdateUserContext {
  keepSessionId?: string;
}

export const listUsersInput = z.object({
  role: z.enum(['admin', 'manager', 'rep']).optional(),
  managerId: idSchema.optional(),
  includeInactive: booleanQuery,
});
export type ListUsersInput = z.input<typeof listUsersInput>;

type UserRow = typeof users.$inferSelect;

/** What leaves the use cases: never the password hash. */
export type PublicUser = Omit<UserRow, 'passwordHash'> & { hasPassword: boolean };

export function toPublicUser(row: UserRow): PublicUser {
  const { passwordHash, ...rest } = row;
  return { ...rest, hasPassword: passwordHash !== null };
}

async function findUser(db: Executor, id: string): Promise<UserRow | undefined> {
  const [row] = await db.select().from(users).where(eq(users.id, id)).limit(1);
  return row;
}

/** Loads a user the actor may see; anything else is "not found", so ids of other teams do not leak. */
export async function loadVisibleUser(db: Executor, actor: Actor, id: string): Promise<UserRow> {
  const row = await findUser(db, id);
  if (!row || !canSeeUser(actor, row)) throw notFound('user');
  return row;
}

async function assertManager(db: Executor, managerId: string): Promise<void> {
  const manager = await findUser(db, managerId);
  if (!manager || manager.role !== 'manager' || !manager.active) {
    throw invalidInput('managerId must name an active manager', { managerId: 'no active manager with this id' });
  }
}

const PHONE_LOCK = 8145002;

/**
 * A rep who dials a scenario extension is found by caller ID, so one number must lead to one user.
 * No index can say that about array elements, so writers that set numbers take one transaction-scoped
 * advisory lock and check under it.
 */
async function assertPhonesFree(db: Executor, phoneNumbers: string[] | undefined, exceptUserId: string | null): Promise<void> {
  if (!phoneNumbers || phoneNumbers.length === 0) return;
  await db.execute(sql`select pg_advisory_xact_lock(${PHONE_LOCK})`);
  const taken = await db
    .select({ id: users.id, phoneNumbers: users.phoneNumbers })
    .from(users)
    .where(
      and(
        sql`${users.phoneNumbers} && ${sql.param(phoneNumbers, users.phoneNumbers)}`,
        exceptUserId === null ? undefined : sql`${users.id} <> ${exceptUserId}`,
      ),
    )
    .limit(1);
  const clash = taken[0]?.phoneNumbers.find((number) => phoneNumbers.includes(number));
  if (clash !== undefined) {
    const index = phoneNumbers.indexOf(clash);
    throw conflict('another user already calls from this number', { [`phoneNumbers.${index}`]: 'already used by another user' });
  }
}

function emailConflict(error: unknown): never {
  if (uniqueViolation(error) === 'users_email_unique') {
    throw conflict('a user with this email already exists', { email: 'already in use' });
  }
  throw error;
}

export async function createUser(deps: AppDeps, actor: Actor, raw: CreateUserInput): Promise<PublicUser> {
  assertStaff(actor);
  const input = parseInput(createUserInput, raw);
  const managerId = managerForNewUser(actor, input);
  if (input.role === 'rep' && input.password !== undefined) {
    throw invalidInput('reps do not log in', { password: 'reps have no password' });
  }
  if (managerId !== null && isAdmin(actor)) await assertManager(deps.db, managerId);
  const passwordHash = input.password === undefined ? null : await deps.hashPassword(input.password);

  return deps.db
    .transaction(async (tx) => {
      await assertPhonesFree(tx, input.phoneNumbers, null);
      const rows = await tx
        .insert(users)
        .values({
          role: input.role,
          name: input.name,
          email: input.email,
          managerId,
          phoneNumbers: input.phoneNumbers ?? [],
          passwordHash,
        })
        .returning();
      const row = await auditCreated(tx, actor, rows, (created) => ({
        action: 'user.created',
        entityType: 'user',
        details: { role: created.role, managerId, withPassword: passwordHash !== null },
      }));
      return toPublicUser(row);
    })
    .catch(emailConflict);
}

export async function listUsers(deps: Pick<AppDeps, 'db'>, actor: Actor, raw: ListUsersInput = {}, paging?: PageRequest): Promise<PublicUser[]> {
  const scope = repManagerScope(actor);
  const input = parseInput(listUsersInput, raw);
  const where: (SQL | undefined)[] = [];
  if (scope !== null) where.push(or(eq(users.id, scope), and(eq(users.role, 'rep'), eq(users.managerId, scope))));
  if (input.role) where.push(eq(users.role, input.role));
  if (input.managerId) where.push(eq(users.managerId, input.managerId));
  if (!input.includeInactive) where.push(eq(users.active, true));
  const query = deps.db
    .select()
    .from(users)
    .where(and(...where))
    .orderBy(sql`case ${users.role} when 'admin' then 0 when 'manager' then 1 else 2 end`, asc(users.name), asc(users.id))
    .$dynamic();
  return (await withPage(query, paging)).map(toPublicUser);
}

export async function getUser(deps: Pick<AppDeps, 'db'>, actor: Actor, id: string): Promise<PublicUser> {
  assertStaff(actor);
  return toPublicUser(await loadVisibleUser(deps.db, actor, parseId(id, 'user')));
}

/** Looks a user up by email for the CLI (`--rep riley@…`); same visibility rules as by id. */
export async function findUserByEmail(deps: Pick<AppDeps, 'db'>, actor: Actor, email: string): Promise<PublicUser> {
  assertStaff(actor);
  const [row] = await deps.db
    .select()
    .from(users)
    .where(sql`lower(${users.email}) = ${email.trim().toLowerCase()}`)
    .limit(1);
  if (!row || !canSeeUser(actor, row)) throw notFound('user');
  return toPublicUser(row);
}

const SELF_EDITABLE = new Set(['name', 'email', 'phoneNumbers', 'password']);

export async function updateUser(deps: AppDeps, actor: Actor, raw: UpdateUserInput, context: UpdateUserContext = {}): Promise<PublicUser> {
  assertStaff(actor);
  const { id, password, currentPassword, ...patch } = parseInput(updateUserInput, raw);
  const target = await loadVisibleUser(deps.db, actor, id);
  const changed = changedFields(patch, { password });

  // Staff may edit their own profile and password, but not their role, team or whether they are active.
  const self = target.id === actor.userId;
  if (!canManageUser(actor, target) && !(self && changed.every((key) => SELF_EDITABLE.has(key)))) {
    throw forbidden('you may not change this user');
  }
  if (patch.managerId !== undefined) {
    if (!isAdmin(actor)) throw forbidden('only an admin moves a rep to another manager');
    if (target.role !== 'rep') throw invalidInput('only reps have a manager', { managerId: 'only reps have a manager' });
    if (patch.managerId !== null) await assertManager(deps.db, patch.managerId);
  }
  if (password !== undefined && target.role === 'rep') {
    throw invalidInput('reps do not log in', { password: 'reps have no password' });
  }
  if (self && (password !== undefined || (patch.email !== undefined && patch.email !== target.email.toLowerCase()))) {
    await assertCurrentPassword(deps, id, currentPassword);
  }
  const passwordHash = password === undefined ? undefined : await deps.hashPassword(password);

  return deps.db
    .transaction(async (tx) => {
      await assertPhonesFree(tx, patch.phoneNumbers, id);
      const [row] = await tx
        .update(users)
        .set({ ...patch, ...(passwordHash === undefined ? {} : { passwordHash }) })
        .where(eq(users.id, id))
        .returning();
      if (!row) throw notFound('user');
      // A new password ends every way in that the old one opened: other sessions, API tokens.
      if (passwordHash !== undefined) await endOtherAccess(tx, id, context.keepSessionId);
      await recordAudit(tx, actor, { action: 'user.updated', entityType: 'user', entityId: id, details: { changed } });
      return toPublicUser(row);
    })
    .catch(emailConflict);
}

async function assertCurrentPassword(deps: AppDeps, userId: string, currentPassword: string | undefined): Promise<void> {
  const required = { currentPassword: 'your current password is required to change your password or email' };
  if (!currentPassword) throw invalidInput('current password required', required);
  if (!deps.verifyPassword) throw forbidden('the current password cannot be checked here');
  const [row] = await deps.db.select({ passwordHash: users.passwordHash }).from(users).where(eq(users.id, userId));
  if (!row?.passwordHash || !(await deps.verifyPassword(row.passwordHash, currentPassword))) {
    throw invalidInput('current password is not right', { currentPassword: 'not your current password' });
  }
}

/** Revokes the user's API tokens and deletes their web sessions (except the one making the change). */
async function endOtherAccess(tx: Executor, userId: string, keepSessionId: string | undefined): Promise<void> {
  await tx.update(apiTokens).set({ revokedAt: new Date() }).where(and(eq(apiTokens.userId, userId), isNull(apiTokens.revokedAt)));
  await tx
    .delete(sessions)
    .where(and(sql`${sessions.sess}->>'userId' = ${userId}`, keepSessionId === undefined ? undefined : ne(sessions.sid, keepSessionId)));
}

/**
 * The installation's first admin (`npm run cli -- init-admin`, production seeds nothing). Refused
 * once any admin exists, active or not, so it cannot quietly add another: that is `users create`.
 */
export async function initAdmin(deps: AppDeps, raw: { name: string; email: string; password: string }): Promise<PublicUser> {
  const admins = await deps.db.select({ id: users.id }).from(users).where(eq(users.role, 'admin')).limit(1);
  if (admins.length > 0) throw conflict('an admin already exists; use `users create --role admin` or `users set-password`');
  return createUser(deps, systemActor, { role: 'admin', ...raw });
}
