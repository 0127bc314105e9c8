// The PIN-guessing rule (DESIGN.md, "One call, end to end", step 2): after `maxFailures` wrong
// entries from one caller number within `windowMs`, that number is locked out for `lockoutMs`,
// counted from the failure that completed the run. A 6-digit PIN space is small, so this is what
// makes guessing impractical.

export interface LockoutRule {
  maxFailures: number;
  windowMs: number;
  lockoutMs: number;
}

export const lockoutRuleFromMinutes = (maxFailures: number, windowMinutes: number, lockoutMinutes: number): LockoutRule => ({
  maxFailures,
  windowMs: windowMinutes * 60_000,
  lockoutMs: lockoutMinutes * 60_000,
});

/** Reasons that look like guessing. A right PIN that is expired or used up is not a guess. */
export const GUESS_REASONS = ['wrong_pin', 'unknown_caller'] as const;
export type GuessReason = (typeof GUESS_REASONS)[number];
export const countsTowardLockout = (reason: string | null): reason is GuessReason =>
  (GUESS_REASONS as readonly string[]).includes(reason ?? '');

/** How far back a caller's failures can still matter: a run that started this long ago may still lock. */
export const lockoutLookbackMs = (rule: LockoutRule): number => rule.windowMs + rule.lockoutMs;

/** Callers without caller ID share one bucket, so withholding the number does not escape the rule. */
export const lockoutKey = (callerNumber: string | null | undefined): string => {
  const trimmed = callerNumber?.trim() ?? '';
  return trimmed === '' ? 'anonymous' : trimmed;
};

export type LockoutState = { locked: false; failuresInWindow: number } | { locked: true; until: Date };

/**
 * `failures`: times of the caller's guessing failures (any order) within `lockoutLookbackMs`.
 * Failures recorded while locked are not passed in (they are recorded as `locked_out`), so
 * hammering the line does not extend the lock forever.
 */
export function lockoutState(failures: readonly Date[], now: Date, rule: LockoutRule): LockoutState {
  const times = failures.map((date) => date.getTime()).filter((time) => time <= now.getTime()).sort((a, b) => a - b);
  let until: number | undefined;
  for (let end = rule.maxFailures - 1; end < times.length; end += 1) {
    const first = times[end - rule.maxFailures + 1]!;
    const last = times[end]!;
    if (last - first <= rule.windowMs) {
      const candidate = last + rule.lockoutMs;
      if (until === undefined || candidate > until) until = candidate;
    }
  }
  if (until !== undefined && until > now.getTime()) return { locked: true, until: new Date(until) };
  const windowStart = now.getTime() - rule.windowMs;
  const lockEnded = until ?? -Infinity;
  // After a lock expires the slate is clean: only failures since then count toward the next one.
  return { locked: false, failuresInWindow: times.filter((time) => time >= windowStart && time > lockEnded).length };
}
