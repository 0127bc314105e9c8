// Reps sign in without a password: an emailed single-use link (decision 015). Only a SHA-256 of
// the token is stored; a link is good once, for a short while, and only for an active rep. Staff
// keep their password login. Asking for a link says the same thing whether or not the address
// belongs to anyone, and the email goes out through the same Mailer as the post-call emails.
import { createHash, randomBytes } from 'node:crypto';
import { and, eq, gt, isNotNull, isNull, lt, or, sql } from 'drizzle-orm';
import type { Database } from '../adapters/db/client.js';
import { signInTokens, users } from '../adapters/db/schema.js';
import { canManageUser, mayUseSignInLink, type Actor } from '../domain/access.js';
import { invalidInput, notFound } from '../domain/errors.js';
import { recordAudit } from './audit.js';
import { html } from './call_email.js';
import { type AppLogger, nowOf, type Clock } from './ports.js';
import type { Mailer } from './post_call.js';
import { parseId } from './use_case.js';

export const SIGN_IN_LINK_TTL_MS = 15 * 60_000;
/** An invite waits for a rep who may not read their email today. */
export const INVITE_LINK_TTL_MS = 3 * 24 * 60 * 60_000;

export interface SignInDeps {
  db: Database;
  /** Null when SMTP is not configured: no link can be sent (logged; the answer to the asker is unchanged). */
  mailer: Mailer | null;
  publicBaseUrl: string;
  logger: AppLogger;
  now?: Clock;
}

export const hashSignInToken = (token: string): string => createHash('sha256').update(token).digest('hex');

type Purpose = 'sign_in' | 'invite';

async function issue(deps: SignInDeps, user: { id: string; name: string; email: string }, purpose: Purpose): Promise<void> {
  if (!deps.mailer) throw new Error('no mailer configured: sign-in links cannot be sent');
  const token = randomBytes(32).toString('base64url');
  const now = nowOf(deps);
  const ttl = purpose === 'invite' ? INVITE_LINK_TTL_MS : SIGN_IN_LINK_TTL_MS;
  // The user's dead links (used or expired) go as a new one is made, so the table stays small.
  await deps.db
    .delete(signInTokens)
    .where(and(eq(signInTokens.userId, user.id), or(lt(signInTokens.expiresAt, now), isNotNull(signInTokens.usedAt))));
  const [row] = await deps.db
    .insert(signInTokens)
    .values({ userId: user.id, tokenHash: hashSignInToken(token), purpose, expiresAt: new Date(now.getTime() + ttl), createdAt: now })
    .returning({ id: signInTokens.id });
  const link = `${deps.publicBaseUrl}/login/link/${token}`;
  const domain = /@([^>\s]+)>?\s*$/.exec(deps.mailer.from)?.[1] ?? 'practice-line.local';
  const email = purpose === 'invite' ? inviteEmail(user.name, link) : signInEmail(user.name, link);
  await deps.mailer.send({ to: user.email, ...email, messageId: `<sign-in-${row!.id}@${domain}>` });
}

function signInEmail(name: string, link: string) {
  const text = `Hello ${name},\n\nSign in to Practice Line with this link. It works once, within 15 minutes:\n\n${link}\n\nIf you did not ask for it, ignore this email.\n`;
  return {
    subject: 'Your Practice Line sign-in link',
    text,
    html: html`<p>Hello ${name},</p><p>Sign in to Practice Line with this link. It works once, within 15 minutes:</p><p><a href="${link}">Sign in</a></p><p>If you did not ask for it, ignore this email.</p>`.toString(),
  };
}

function inviteEmail(name: string, link: string) {
  const text = `Hello ${name},\n\nYour manager invited you to Practice Line: your assignments, your practice calls and their scorecards, and a button to practise in your browser.\n\nSign in with this link (it works once, within 3 days):\n\n${link}\n\nLater, ask for a new link on the sign-in page with this email address.\n`;
  return {
    subject: 'You are invited to Practice Line',
    text,
    html: html`<p>Hello ${name},</p><p>Your manager invited you to Practice Line: your assignments, your practice calls and their scorecards, and a button to practise in your browser.</p><p><a href="${link}">Sign in</a> (the link works once, within 3 days).</p><p>Later, ask for a new link on the sign-in page with this email address.</p>`.toString(),
  };
}

/**
 * "Email me a sign-in link". Resolves without saying whether a link went out: the edge answers the
 * same either way and does not wait for this (so timing does not tell either).
 */
export async function requestSignInLink(deps: SignInDeps, rawEmail: string): Promise<void> {
  const email = rawEmail.trim().toLowerCase();
  if (email === '' || email.length > 320) return;
  const [user] = await deps.db.select().from(users).where(sql`lower(${users.email}) = ${email}`).limit(1);
  if (!user || !mayUseSignInLink(user)) {
    deps.logger.info({ pii: { email } }, 'sign-in link not sent: no active rep with this address');
    return;
  }
  await issue(deps, user, 'sign_in');
  deps.logger.info({ userId: user.id }, 'sign-in link sent');
}

/** A manager (of this rep) or an admin sends the rep an invite link. */
export async function inviteRep(deps: SignInDeps, actor: Actor, id: string): Promise<{ email: string }> {
  const [user] = await deps.db.select().from(users).where(eq(users.id, parseId(id, 'user'))).limit(1);
  if (!user || !canManageUser(actor, user)) throw notFound('user');
  if (!mayUseSignInLink(user)) throw invalidInput('only an active rep can be invited', { id: 'not an active rep' });
  await issue(deps, user, 'invite');
  await recordAudit(deps.db, actor, { action: 'user.invite', entityType: 'user', entityId: user.id });
  return { email: user.email };
}

/**
 * Spends a link: the one update that marks it used also checks it is unused and unexpired, so two
 * clicks cannot both sign in. Returns the rep, or null for any link that does not work (no detail).
 */
export async function consumeSignInLink(deps: Pick<SignInDeps, 'db' | 'now'>, token: string): Promise<{ userId: string } | null> {
  if (!/^[A-Za-z0-9_-]{20,100}$/.test(token)) return null;
  const now = nowOf(deps);
  const [used] = await deps.db
    .update(signInTokens)
    .set({ usedAt: now })
    .where(and(eq(signInTokens.tokenHash, hashSignInToken(token)), isNull(signInTokens.usedAt), gt(signInTokens.expiresAt, now)))
    .returning({ userId: signInTokens.userId });
  if (!used) return null;
  const [user] = await deps.db.select().from(users).where(eq(users.id, used.userId)).limit(1);
  return user && mayUseSignInLink(user) ? { userId: user.id } : null;
}
