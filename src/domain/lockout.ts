// The PIN-guessing rule (docs/architecture.md, "One call, end to end", step 2): after `maxFailures` wrong
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

/**
 * Reasons that look like guessing. A right PIN that is expired or used up is not a guess, nor is an
 * extension or direct line refused because caller ID is not trusted on the call (`caller_unverified`):
 * no number was looked at, so nothing was learned.
 */
export const GUESS_REASONS = ['wrong_pin', 'unknown_caller'] as const;
export type GuessReason = (typeof GUESS_REASONS)[number];
export const countsTowardLockout = (reason: string | null): reason is GuessReason =>
  (GUESS_REASONS as readonly string[]).includes(reason ?? '');

/** How far back a caller's failures can still matter: a run that started this long ago may still lock. */
export const lockoutLookbackMs = (rule: LockoutRule): number => rule.windowMs + rule.lockoutMs;

/**
 * The caller's bucket: the number in E.164, so `+1555…` and `1555…` are one caller. Callers
 * without a usable number share one bucket, so withholding the number does not escape the rule.
 */
export const lockoutKey = (callerNumber: string | null | undefined): string => normalisePhoneNumber(callerNumber) ?? 'anonymous';

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

/**
 * A phone number as one key, whatever spelling the carrier used: `+1 (555) 010-0000`,
 * `15550100000`, `sip:+15550100000@carrier` and `tel:+1-555-010-0000` are all `+15550100000`.
 * A number without '+' is taken to carry its country code already (SIP providers that drop the
 * '+' still send it); `00` is the international prefix. Anything that is not 6-15 digits after
 * that (withheld, "anonymous", a SIP user name) is null: it has no number to key on.
 */
export function normalisePhoneNumber(raw: string | null | undefined): string | null {
  let value = (raw ?? '').trim();
  value = value.replace(/^(sips?|tel):/i, '').replace(/[@;].*$/, '');
  value = value.replace(/[\s().\-/]/g, '');
  if (value.startsWith('00')) value = `+${value.slice(2)}`;
  const digits = value.replace(/^\+/, '');
  if (!/^[0-9]{6,15}$/.test(digits)) return null;
  return `+${digits}`;
}

/** A sliding window: at most `maxFailures` guessing failures in any `windowMs`. */
export interface WindowRule {
  maxFailures: number;
  windowMs: number;
}

export const windowRuleFromMinutes = (maxFailures: number, windowMinutes: number): WindowRule => ({ maxFailures, windowMs: windowMinutes * 60_000 });

/**
 * Limits that hold whoever the caller claims to be (decision 012): per called number (one line or
 * trunk number) and for the whole service. A real line of 50 reps mistyping now and then stays far
 * below them; a script changing its caller ID on every guess does not.
 */
export interface GuessingLimits {
  caller: LockoutRule;
  line: WindowRule;
  global: WindowRule;
}

export const DEFAULT_LINE_LIMIT = { maxFailures: 20, windowMinutes: 10 } as const;
export const DEFAULT_GLOBAL_LIMIT = { maxFailures: 60, windowMinutes: 60 } as const;

export type GuessScope = 'caller' | 'line' | 'global';

export type WindowState = { locked: false; failuresInWindow: number } | { locked: true; until: Date; failuresInWindow: number };

/**
 * Locked while the window holds `maxFailures` or more; it opens again as soon as enough of them
 * age out. Attempts refused while locked are recorded as `locked_out` and not passed in, so
 * hammering a locked line does not keep it locked.
 */
export function windowState(failures: readonly Date[], now: Date, rule: WindowRule): WindowState {
  const start = now.getTime() - rule.windowMs;
  const times = failures
    .map((date) => date.getTime())
    .filter((time) => time > start && time <= now.getTime())
    .sort((a, b) => a - b);
  if (times.length < rule.maxFailures) return { locked: false, failuresInWindow: times.length };
  // Once the failure at this index leaves the window, fewer than maxFailures remain.
  return { locked: true, until: new Date(times[times.length - rule.maxFailures]! + rule.windowMs), failuresInWindow: times.length };
}

/** How much a caller ID is worth on one call (decision 012). */
export type CallerIdStanding = 'verified' | 'unverified';

/**
 * Twilio's StirVerstat: only full attestation (A) says the originating carrier knows the caller
 * may use this number. B, C, failed and absent values do not.
 * https://www.twilio.com/docs/voice/trusted-calling-with-shakenstir
 */
export const isFullAttestation = (stirVerstat: string | null | undefined): boolean => (stirVerstat ?? '').trim() === 'TN-Validation-Passed-A';

/** Per path: how far caller ID alone may identify a rep (extensions, direct lines). */
export interface CallerIdTrust {
  /** attested: only with StirVerstat TN-Validation-Passed-A; any: always; none: never (always a PIN). */
  twilio: 'attested' | 'any' | 'none';
  /** carrier: the direct trunk accepts only the carrier's addresses, so its From is the carrier's; none: always a PIN. */
  sip: 'carrier' | 'none';
}

export const DEFAULT_CALLER_ID_TRUST: CallerIdTrust = { twilio: 'attested', sip: 'none' };

/** Whether this call's caller ID may stand in for a PIN. */
export function callerIdTrusted(trust: CallerIdTrust, path: 'twilio' | 'sip', attested: boolean): boolean {
  if (path === 'sip') return trust.sip === 'carrier';
  return trust.twilio === 'any' || (trust.twilio === 'attested' && attested);
}
