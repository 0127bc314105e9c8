// Per-account login throttling, beside the per-address limit of the web edge. Stored in Postgres
// so every replica sees the same count, and keyed by the account (the typed email), so neither a
// rotating X-Forwarded-For nor a botnet gets more guesses at one password. A locked account is
// refused before its password is checked, so guesses during the lock tell nothing.
import { createHash } from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import type { Database } from '../adapters/db/client.js';
import { loginThrottle } from '../adapters/db/schema.js';

/** The pg-boss schedule that prunes finished windows (hourly). */
export const LOGIN_THROTTLE_PRUNE_JOB = 'login-throttle-prune';

export interface LoginThrottleRule {
  maxFailures: number;
  /** Failures count within this window; the lock lasts as long. */
  lockMs: number;
}

export const accountKey = (email: string) => createHash('sha256').update(email.trim().toLowerCase()).digest('hex');

export async function accountLockedUntil(db: Database, email: string, now: Date): Promise<Date | null> {
  const [row] = await db.select({ lockedUntil: loginThrottle.lockedUntil }).from(loginThrottle).where(eq(loginThrottle.accountKey, accountKey(email)));
  return row?.lockedUntil && row.lockedUntil > now ? row.lockedUntil : null;
}

/** Counts a failure in one statement (concurrent failures on several replicas all count). */
export async function recordLoginFailure(db: Database, email: string, rule: LoginThrottleRule, now: Date): Promise<void> {
  const windowStart = new Date(now.getTime() - rule.lockMs);
  const lockUntil = new Date(now.getTime() + rule.lockMs);
  const fresh = sql`${loginThrottle.windowStartedAt} < ${windowStart.toISOString()}::timestamptz`;
  const failures = sql`case when ${fresh} then 1 else ${loginThrottle.failures} + 1 end`;
  await db
    .insert(loginThrottle)
    .values({ accountKey: accountKey(email), failures: 1, windowStartedAt: now, lockedUntil: rule.maxFailures <= 1 ? lockUntil : null })
    .onConflictDoUpdate({
      target: loginThrottle.accountKey,
      set: {
        failures,
        windowStartedAt: sql`case when ${fresh} then ${now.toISOString()}::timestamptz else ${loginThrottle.windowStartedAt} end`,
        lockedUntil: sql`case when ${failures} >= ${rule.maxFailures} then ${lockUntil.toISOString()}::timestamptz else ${loginThrottle.lockedUntil} end`,
      },
    });
}

export async function clearLoginFailures(db: Database, email: string): Promise<void> {
  await db.delete(loginThrottle).where(eq(loginThrottle.accountKey, accountKey(email)));
}

/** Drops rows whose window and lock are over; failed logins with made-up emails would otherwise pile up. */
export async function pruneLoginThrottle(db: Database, rule: LoginThrottleRule, now: Date): Promise<number> {
  const cutoff = new Date(now.getTime() - rule.lockMs).toISOString();
  const deleted = await db
    .delete(loginThrottle)
    .where(sql`${loginThrottle.windowStartedAt} < ${cutoff}::timestamptz and (${loginThrottle.lockedUntil} is null or ${loginThrottle.lockedUntil} < ${now.toISOString()}::timestamptz)`)
    .returning({ key: loginThrottle.accountKey });
  return deleted.length;
}
