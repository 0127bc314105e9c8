// Who may see and change what (docs/architecture.md, "Who uses it"). Pure rules over ids and roles; the use
// cases load the rows and ask these questions, so the rules can be tested without a database.
import { forbidden } from './errors.js';

export type Role = 'admin' | 'manager' | 'rep';

/**
 * The user on whose behalf a use case runs. `userId` is null only for the operator's own admin CLI,
 * which acts as the installation itself rather than as a stored user.
 */
export interface Actor {
  userId: string | null;
  role: Role;
}

export const systemActor: Actor = Object.freeze({ userId: null, role: 'admin' });

/** The fields of a user row these rules need. */
export interface UserRef {
  id: string;
  role: Role;
  managerId: string | null;
}

export const isAdmin = (actor: Actor): boolean => actor.role === 'admin';

const isManagerOf = (actor: Actor, user: UserRef): boolean =>
  actor.role === 'manager' && actor.userId !== null && user.role === 'rep' && user.managerId === actor.userId;

/** Reps practise on the phone; the management surface (API, CLI, web view) is for staff only. */
export function assertStaff(actor: Actor): void {
  if (actor.role !== 'admin' && actor.role !== 'manager') throw forbidden('reps have no access to management');
}

export function assertAdmin(actor: Actor): void {
  if (!isAdmin(actor)) throw forbidden('only an admin may do this');
}

/** Admins see everyone; a manager sees themself and their own reps. */
export function canSeeUser(actor: Actor, user: UserRef): boolean {
  if (isAdmin(actor)) return true;
  if (actor.role !== 'manager') return false;
  return user.id === actor.userId || isManagerOf(actor, user);
}

/** Admins change anyone; a manager changes only their own reps (not themself, not other staff). */
export function canManageUser(actor: Actor, user: UserRef): boolean {
  return isAdmin(actor) || isManagerOf(actor, user);
}

/**
 * Creating a user: admins create any role; a manager creates reps, always under themself.
 * Returns the manager the new user reports to.
 */
export function managerForNewUser(actor: Actor, requested: { role: Role; managerId?: string | null | undefined }): string | null {
  if (isAdmin(actor)) return requested.role === 'rep' ? (requested.managerId ?? null) : null;
  if (actor.role === 'manager' && requested.role === 'rep') {
    if (requested.managerId !== undefined && requested.managerId !== null && requested.managerId !== actor.userId) {
      throw forbidden('a manager creates reps only under themself');
    }
    return actor.userId;
  }
  throw forbidden('only an admin may create managers and admins');
}

/** Assigning a scenario: the assignee must be a rep the actor manages (any rep for an admin). */
export function canAssignTo(actor: Actor, user: UserRef): boolean {
  return user.role === 'rep' && (isAdmin(actor) || isManagerOf(actor, user));
}

/**
 * A call is visible to admins, to the manager of the rep who made it, and to the person who made it
 * (a rep's own practice, a manager's own test call). Anyone else's call does not exist for them.
 */
export function canSeeCallOf(actor: Actor, rep: UserRef | null): boolean {
  if (isAdmin(actor)) return true;
  if (rep === null) return false;
  return isSelf(actor, rep) || isManagerOf(actor, rep);
}

const isSelf = (actor: Actor, user: UserRef): boolean => actor.userId !== null && user.id === actor.userId;

/** A rep's own pages (assignments, calls, progress, practice) are for that signed-in rep alone. */
export function assertRep(actor: Actor): string {
  if (actor.role !== 'rep' || actor.userId === null) throw forbidden('only a rep has practice pages');
  return actor.userId;
}

/** Practising on an assignment in the browser: only the rep it was given to. */
export const canPractiseOn = (actor: Actor, assignment: { repId: string }): boolean =>
  actor.role === 'rep' && actor.userId !== null && assignment.repId === actor.userId;

/**
 * Which calls a list shows: staff see their scope (repManagerScope) plus their own test calls; a rep
 * sees only their own.
 */
export type CallListScope = { kind: 'all' } | { kind: 'team'; managerId: string } | { kind: 'own'; userId: string };

export function callListScope(actor: Actor): CallListScope {
  if (actor.role === 'rep') return { kind: 'own', userId: assertRep(actor) };
  const managerId = repManagerScope(actor);
  return managerId === null ? { kind: 'all' } : { kind: 'team', managerId };
}

/** Signing in by emailed link is for reps; staff keep their passwords (and their stronger login). */
export const mayUseSignInLink = (user: { role: Role; active: boolean }): boolean => user.role === 'rep' && user.active;

/**
 * The filter list queries apply: null means "everything" (admins); otherwise only rows belonging to
 * reps whose manager is this id.
 */
export function repManagerScope(actor: Actor): string | null {
  assertStaff(actor);
  if (isAdmin(actor)) return null;
  if (actor.userId === null) throw forbidden('a manager must be a stored user');
  return actor.userId;
}

/** Only staff hold API tokens; an admin may issue one for any staff member, a manager only for themself. */
export function canIssueTokenFor(actor: Actor, user: UserRef): boolean {
  if (user.role === 'rep') return false;
  return isAdmin(actor) || (actor.role === 'manager' && user.id === actor.userId);
}

/**
 * Personas and scenarios belong to a team (its manager's id) or to the whole organisation (null).
 * Every staff member sees and may use them; only the owning manager edits or archives their
 * team's, and admins everything.
 */
export function canEditTeamContent(actor: Actor, teamManagerId: string | null): boolean {
  return isAdmin(actor) || (actor.role === 'manager' && teamManagerId !== null && teamManagerId === actor.userId);
}

/** The team new content belongs to: the creating manager's; an admin's is the organisation's. */
export const teamOfNewContent = (actor: Actor): string | null => (actor.role === 'manager' ? actor.userId : null);
