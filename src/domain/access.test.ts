import { describe, expect, it } from 'vitest';
import {
  assertAdmin,
  assertRep,
  assertStaff,
  callListScope,
  canPractiseOn,
  mayUseSignInLink,
  canAssignTo,
  canIssueTokenFor,
  canManageUser,
  canSeeCallOf,
  canSeeUser,
  managerForNewUser,
  repManagerScope,
  systemActor,
  type Actor,
  type UserRef,
} from './access.js';
import { DomainError } from './errors.js';

const admin: Actor = { userId: 'a1', role: 'admin' };
const morgan: Actor = { userId: 'm1', role: 'manager' };
const otherManager: Actor = { userId: 'm2', role: 'manager' };
const repActor: Actor = { userId: 'r1', role: 'rep' };

const riley: UserRef = { id: 'r1', role: 'rep', managerId: 'm1' };
const pat: UserRef = { id: 'r2', role: 'rep', managerId: 'm2' };
const orphan: UserRef = { id: 'r3', role: 'rep', managerId: null };
const morganRow: UserRef = { id: 'm1', role: 'manager', managerId: null };
const otherManagerRow: UserRef = { id: 'm2', role: 'manager', managerId: null };

const codeOf = (fn: () => unknown) => {
  try {
    fn();
    return 'ok';
  } catch (error) {
    return error instanceof DomainError ? error.code : 'other';
  }
};

describe('access rules', () => {
  it('keeps reps out of management entirely', () => {
    expect(codeOf(() => assertStaff(repActor))).toBe('forbidden');
    expect(codeOf(() => repManagerScope(repActor))).toBe('forbidden');
    expect(canSeeUser(repActor, riley)).toBe(false);
    expect(canSeeCallOf(repActor, pat)).toBe(false);
    expect(codeOf(() => assertStaff(morgan))).toBe('ok');
  });

  it('lets admins see, manage and assign everyone', () => {
    for (const user of [riley, pat, orphan, morganRow]) {
      expect(canSeeUser(admin, user)).toBe(true);
      expect(canManageUser(admin, user)).toBe(true);
    }
    expect(canAssignTo(admin, pat)).toBe(true);
    expect(canSeeCallOf(admin, null)).toBe(true);
    expect(repManagerScope(admin)).toBeNull();
    expect(repManagerScope(systemActor)).toBeNull();
  });

  it('limits a manager to their own reps', () => {
    expect(canSeeUser(morgan, riley)).toBe(true);
    expect(canSeeUser(morgan, morganRow)).toBe(true);
    expect(canSeeUser(morgan, pat)).toBe(false);
    expect(canSeeUser(morgan, orphan)).toBe(false);
    expect(canSeeUser(morgan, otherManagerRow)).toBe(false);
    expect(canManageUser(morgan, riley)).toBe(true);
    expect(canManageUser(morgan, morganRow)).toBe(false);
    expect(canManageUser(morgan, pat)).toBe(false);
    expect(canAssignTo(morgan, riley)).toBe(true);
    expect(canAssignTo(morgan, pat)).toBe(false);
    expect(canAssignTo(admin, morganRow)).toBe(false);
    expect(canSeeCallOf(morgan, riley)).toBe(true);
    expect(canSeeCallOf(morgan, pat)).toBe(false);
    expect(canSeeCallOf(morgan, null)).toBe(false);
    expect(repManagerScope(morgan)).toBe('m1');
  });

  it('decides who a new user reports to', () => {
    expect(managerForNewUser(admin, { role: 'rep', managerId: 'm2' })).toBe('m2');
    expect(managerForNewUser(admin, { role: 'manager', managerId: 'm2' })).toBeNull();
    expect(managerForNewUser(morgan, { role: 'rep' })).toBe('m1');
    expect(managerForNewUser(morgan, { role: 'rep', managerId: 'm1' })).toBe('m1');
    expect(codeOf(() => managerForNewUser(morgan, { role: 'rep', managerId: 'm2' }))).toBe('forbidden');
    expect(codeOf(() => managerForNewUser(morgan, { role: 'manager' }))).toBe('forbidden');
    expect(codeOf(() => managerForNewUser(otherManager, { role: 'admin' }))).toBe('forbidden');
  });

  it('issues API tokens to staff only', () => {
    expect(canIssueTokenFor(admin, otherManagerRow)).toBe(true);
    expect(canIssueTokenFor(morgan, morganRow)).toBe(true);
    expect(canIssueTokenFor(morgan, otherManagerRow)).toBe(false);
    expect(canIssueTokenFor(admin, riley)).toBe(false);
    expect(codeOf(() => assertAdmin(morgan))).toBe('forbidden');
  });

  it('lets a rep see only their own calls and practise only their own assignments', () => {
    expect(canSeeCallOf(repActor, riley)).toBe(true);
    expect(canSeeCallOf(repActor, pat)).toBe(false);
    expect(canSeeCallOf(repActor, orphan)).toBe(false);
    expect(canSeeCallOf(repActor, morganRow)).toBe(false);
    expect(canSeeCallOf(repActor, null)).toBe(false);
    expect(canPractiseOn(repActor, { repId: 'r1' })).toBe(true);
    expect(canPractiseOn(repActor, { repId: 'r2' })).toBe(false);
    // Staff practise with "Try this scenario", never on a rep's assignment (it would use the rep's attempt).
    expect(canPractiseOn(morgan, { repId: 'r1' })).toBe(false);
    expect(canPractiseOn(admin, { repId: 'r1' })).toBe(false);
    expect(callListScope(repActor)).toEqual({ kind: 'own', userId: 'r1' });
    expect(callListScope(morgan)).toEqual({ kind: 'team', managerId: 'm1' });
    expect(callListScope(admin)).toEqual({ kind: 'all' });
    expect(assertRep(repActor)).toBe('r1');
    expect(codeOf(() => assertRep(morgan))).toBe('forbidden');
    expect(codeOf(() => assertRep({ userId: null, role: 'rep' }))).toBe('forbidden');
  });

  it('lets a manager see their own test calls but not another manager\'s', () => {
    expect(canSeeCallOf(morgan, morganRow)).toBe(true);
    expect(canSeeCallOf(morgan, otherManagerRow)).toBe(false);
    expect(canSeeCallOf(otherManager, riley)).toBe(false);
  });

  it('gives sign-in links to active reps only', () => {
    expect(mayUseSignInLink({ role: 'rep', active: true })).toBe(true);
    expect(mayUseSignInLink({ role: 'rep', active: false })).toBe(false);
    expect(mayUseSignInLink({ role: 'manager', active: true })).toBe(false);
    expect(mayUseSignInLink({ role: 'admin', active: true })).toBe(false);
  });
});
