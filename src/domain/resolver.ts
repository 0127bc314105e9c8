// Who is calling and what do they practise? (docs/architecture.md, "One call, end to end", steps 1-2, and
// "Second path"). Pure rules over rows the use case has already loaded; no I/O here.
//
// Three ways in, tried in this order:
//   1. a direct line: the called number belongs to a scenario; the rep is found by caller ID and
//      no digits are needed;
//   2. a personal PIN: the digits hash to a live assignment (scenario x rep);
//   3. a scenario extension: the digits are a scenario's extension; the rep is found by caller ID.
// An assignment, when there is one, must be live, not past an enforced due date, and have attempts
// left. A rep dialling an extension of a scenario they are assigned goes through that assignment's
// checks too, so an extension never bypasses a used-up assignment.
import type { RoomPersona, RoomScenario } from './room_metadata.js';

export interface PersonaCandidate extends RoomPersona {
  id: string;
  archived: boolean;
}

export interface StageCandidate {
  persona: PersonaCandidate;
  advanceRule: string;
}

export interface ScenarioCandidate extends RoomScenario {
  id: string;
  archived: boolean;
  persona: PersonaCandidate;
  /** The personas after the one who answers (decision 018); absent or empty: a single-persona scenario. */
  stages?: StageCandidate[];
}

export interface RepCandidate {
  id: string;
  name: string;
  role: 'admin' | 'manager' | 'rep';
  active: boolean;
}

export interface AssignmentCandidate {
  id: string;
  repId: string;
  scenarioId: string;
  dueAt: Date | null;
  enforceDueDate: boolean;
  maxAttempts: number | null;
  attemptsUsed: number;
  revoked: boolean;
}

/** Rows the use case loaded for this call; each lookup is by exact key, so each is at most a handful. */
export interface ResolverCandidates {
  /** The live assignment whose PIN hash equals the hash of the digits, with its scenario and rep. */
  pinMatch: { assignment: AssignmentCandidate; scenario: ScenarioCandidate; rep: RepCandidate } | null;
  /** The scenario whose extension equals the digits. */
  extensionScenario: ScenarioCandidate | null;
  /** The scenario whose direct-line number equals the called number. */
  directLineScenario: ScenarioCandidate | null;
  /** Users whose phone numbers include the caller number. */
  callerUsers: RepCandidate[];
  /** Live assignments of the caller's users (any scenario), for the extension and direct-line checks. */
  callerAssignments: AssignmentCandidate[];
}

export interface ResolveRequest {
  /** What the caller keyed, '#' already stripped; '' when nothing (or a direct line). */
  digits: string;
  now: Date;
  /**
   * Whether this call's caller ID may identify the rep (decision 012: attested on Twilio, or a
   * direct trunk restricted to the carrier). When not, extensions and direct lines need a PIN.
   */
  callerIdTrusted: boolean;
}

export type ResolvedVia = 'pin' | 'extension' | 'direct_line' | 'web';

export type ResolveOutcome =
  | {
      kind: 'ok';
      via: ResolvedVia;
      scenario: ScenarioCandidate;
      rep: RepCandidate;
      /** Null for free practice through an extension or direct line the rep is not assigned. */
      assignment: AssignmentCandidate | null;
    }
  /** Nothing keyed at all. */
  | { kind: 'no_digits' }
  /** The digits are neither a live PIN nor an extension. */
  | { kind: 'wrong_pin' }
  /** An extension or direct line, but the caller number belongs to no active user (or to several). */
  | { kind: 'unknown_caller'; via: 'extension' | 'direct_line' }
  /** An extension or direct line, but this call's caller ID is not trusted to name the rep. */
  | { kind: 'caller_unverified'; via: 'extension' | 'direct_line' }
  | { kind: 'expired'; dueAt: Date }
  | { kind: 'exhausted'; maxAttempts: number }
  /** The scenario or persona was archived, or the rep deactivated, since the PIN was issued. */
  | { kind: 'inactive' };

export type ResolveFailure = Exclude<ResolveOutcome, { kind: 'ok' }>;

export function resolveCall(request: ResolveRequest, candidates: ResolverCandidates): ResolveOutcome {
  const digits = request.digits.trim();

  if (candidates.directLineScenario && digits === '') {
    return resolveByCaller('direct_line', candidates.directLineScenario, request, candidates);
  }
  if (digits === '') return { kind: 'no_digits' };

  if (candidates.pinMatch) {
    const { assignment, scenario, rep } = candidates.pinMatch;
    return checkAssignment('pin', scenario, rep, assignment, request.now);
  }
  if (candidates.extensionScenario) {
    return resolveByCaller('extension', candidates.extensionScenario, request, candidates);
  }
  return { kind: 'wrong_pin' };
}

function resolveByCaller(
  via: 'extension' | 'direct_line',
  scenario: ScenarioCandidate,
  request: ResolveRequest,
  candidates: ResolverCandidates,
): ResolveOutcome {
  // Checked before the numbers are looked at, so the answer says nothing about who is registered.
  if (!request.callerIdTrusted) return { kind: 'caller_unverified', via };
  const active = candidates.callerUsers.filter((user) => user.active);
  // Two people sharing a number cannot be told apart by caller ID; they need their PINs.
  if (active.length !== 1) return { kind: 'unknown_caller', via };
  const rep = active[0]!;
  const assignment =
    candidates.callerAssignments
      .filter((candidate) => candidate.repId === rep.id && candidate.scenarioId === scenario.id && !candidate.revoked)
      // With several, the one that is still usable wins; then the oldest, which is the one the rep was told about first.
      .sort((a, b) => usableRank(a, request.now) - usableRank(b, request.now))[0] ?? null;
  if (assignment) return checkAssignment(via, scenario, rep, assignment, request.now);
  if (scenario.archived || scenario.persona.archived) return { kind: 'inactive' };
  return { kind: 'ok', via, scenario, rep, assignment: null };
}

const usableRank = (assignment: AssignmentCandidate, now: Date): number =>
  (isExpired(assignment, now) ? 1 : 0) + (isExhausted(assignment) ? 2 : 0);

const isExpired = (assignment: AssignmentCandidate, now: Date): boolean =>
  assignment.enforceDueDate && assignment.dueAt !== null && now.getTime() > assignment.dueAt.getTime();

const isExhausted = (assignment: AssignmentCandidate): boolean =>
  assignment.maxAttempts !== null && assignment.attemptsUsed >= assignment.maxAttempts;

/** The rules every way in applies to an assignment (the browser's "Practise now" too). */
export function checkAssignment(
  via: ResolvedVia,
  scenario: ScenarioCandidate,
  rep: RepCandidate,
  assignment: AssignmentCandidate,
  now: Date,
): ResolveOutcome {
  if (assignment.revoked) return { kind: 'wrong_pin' };
  if (!rep.active || scenario.archived || scenario.persona.archived) return { kind: 'inactive' };
  if (isExpired(assignment, now)) return { kind: 'expired', dueAt: assignment.dueAt! };
  if (isExhausted(assignment)) return { kind: 'exhausted', maxAttempts: assignment.maxAttempts! };
  return { kind: 'ok', via, scenario, rep, assignment };
}

/** The first name the persona may use: the first word of the rep's display name. */
export const firstNameOf = (name: string): string => name.trim().split(/\s+/)[0] || name.trim() || 'there';
