import { describe, expect, it } from 'vitest';
import {
  callerIdTrusted,
  countsTowardLockout,
  isFullAttestation,
  lockoutKey,
  lockoutRuleFromMinutes,
  lockoutState,
  normalisePhoneNumber,
  windowRuleFromMinutes,
  windowState,
} from './lockout.js';

const rule = lockoutRuleFromMinutes(5, 15, 15);
const t0 = new Date('2026-01-01T10:00:00Z');
const at = (minutes: number) => new Date(t0.getTime() + minutes * 60_000);

describe('PIN lock-out', () => {
  it('stays open below the limit and counts failures in the window', () => {
    const state = lockoutState([at(0), at(1), at(2), at(3)], at(4), rule);
    expect(state).toEqual({ locked: false, failuresInWindow: 4 });
  });

  it('locks on the fifth failure within 15 minutes, for 15 minutes from that failure', () => {
    const failures = [at(0), at(1), at(2), at(3), at(10)];
    expect(lockoutState(failures, at(10), rule)).toEqual({ locked: true, until: at(25) });
    expect(lockoutState(failures, at(24.9), rule).locked).toBe(true);
    expect(lockoutState(failures, at(25), rule)).toEqual({ locked: false, failuresInWindow: 0 });
  });

  it('does not lock when the failures are spread wider than the window', () => {
    const failures = [at(0), at(4), at(8), at(12), at(16)];
    expect(lockoutState(failures, at(16), rule)).toEqual({ locked: false, failuresInWindow: 4 });
  });

  it('ignores order and failures stamped in the future', () => {
    const failures = [at(3), at(1), at(4), at(0), at(2)];
    expect(lockoutState(failures, at(5), rule).locked).toBe(true);
    expect(lockoutState([at(0), at(1), at(2), at(3), at(30)], at(5), rule).locked).toBe(false);
  });

  it('follows the configured numbers', () => {
    const strict = lockoutRuleFromMinutes(2, 1, 60);
    expect(lockoutState([at(0), at(0.5)], at(59), strict).locked).toBe(true);
    expect(lockoutState([at(0), at(2)], at(2), strict).locked).toBe(false);
  });

  it('counts only guessing toward the lock and buckets withheld numbers together', () => {
    expect(countsTowardLockout('wrong_pin')).toBe(true);
    expect(countsTowardLockout('unknown_caller')).toBe(true);
    expect(countsTowardLockout('expired')).toBe(false);
    expect(countsTowardLockout('locked_out')).toBe(false);
    expect(countsTowardLockout(null)).toBe(false);
    expect(lockoutKey(undefined)).toBe('anonymous');
    expect(lockoutKey(' ')).toBe('anonymous');
    expect(lockoutKey('+15550100001')).toBe('+15550100001');
  });
});

describe('phone numbers as keys', () => {
  it('spells every form of one number the same E.164 way', () => {
    for (const spelling of ['+15550100001', '15550100001', ' +1 (555) 010-0001 ', 'sip:+15550100001@carrier.example;user=phone', 'tel:+1-555-010-0001', '0015550100001']) {
      expect(normalisePhoneNumber(spelling), spelling).toBe('+15550100001');
    }
    expect(lockoutKey('15550100001')).toBe(lockoutKey('+15550100001'));
  });

  it('has no number for withheld, anonymous or non-numeric caller IDs', () => {
    for (const value of [null, undefined, '', 'anonymous', 'Restricted', 'sip:alice@example.com', '12345', '+1234567890123456']) {
      expect(normalisePhoneNumber(value), String(value)).toBeNull();
    }
    expect(lockoutKey('Anonymous')).toBe('anonymous');
  });
});

describe('sliding-window limits', () => {
  const line = windowRuleFromMinutes(3, 10);
  it('locks while the window holds the limit and opens as the oldest failure ages out', () => {
    expect(windowState([at(0), at(1)], at(2), line)).toEqual({ locked: false, failuresInWindow: 2 });
    expect(windowState([at(0), at(1), at(2)], at(2), line)).toEqual({ locked: true, until: at(10), failuresInWindow: 3 });
    expect(windowState([at(0), at(1), at(2), at(3)], at(9), line)).toMatchObject({ locked: true, until: at(11) });
    expect(windowState([at(0), at(1), at(2)], at(10), line)).toEqual({ locked: false, failuresInWindow: 2 });
  });
});

describe('caller-ID trust', () => {
  it('takes only full STIR/SHAKEN attestation as verified, and never trusts the direct trunk unless restricted', () => {
    expect(isFullAttestation('TN-Validation-Passed-A')).toBe(true);
    for (const value of ['TN-Validation-Passed-B', 'TN-Validation-Passed-C', 'TN-Validation-Failed-A', 'No-TN-Validation', '', undefined]) expect(isFullAttestation(value)).toBe(false);
    expect(callerIdTrusted({ twilio: 'attested', sip: 'none' }, 'twilio', true)).toBe(true);
    expect(callerIdTrusted({ twilio: 'attested', sip: 'none' }, 'twilio', false)).toBe(false);
    expect(callerIdTrusted({ twilio: 'any', sip: 'none' }, 'twilio', false)).toBe(true);
    expect(callerIdTrusted({ twilio: 'none', sip: 'none' }, 'twilio', true)).toBe(false);
    expect(callerIdTrusted({ twilio: 'any', sip: 'none' }, 'sip', true)).toBe(false);
    expect(callerIdTrusted({ twilio: 'none', sip: 'carrier' }, 'sip', false)).toBe(true);
  });
});
