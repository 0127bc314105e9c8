import { describe, expect, it } from 'vitest';
import {
  firstNameOf,
  resolveCall,
  type AssignmentCandidate,
  type RepCandidate,
  type ResolverCandidates,
  type ScenarioCandidate,
} from './resolver.js';

const now = new Date('2026-03-01T12:00:00Z');
const persona = {
  id: 'p1',
  archived: false,
  name: 'Diane',
  role: 'CFO',
  company: 'Northwind',
  personality: 'Sceptical',
  objections: [],
  openingLine: 'Yes?',
  voiceId: 'v',
  language: 'en',
  llmModel: 'm',
  temperature: 0.7,
};
const scenario = (id: string, overrides: Partial<ScenarioCandidate> = {}): ScenarioCandidate => ({
  id,
  archived: false,
  persona,
  title: `Scenario ${id}`,
  objective: 'Book a meeting',
  context: '',
  difficulty: 'medium',
  rubric: [],
  timeLimitSeconds: 300,
  ...overrides,
});
const rep = (id: string, overrides: Partial<RepCandidate> = {}): RepCandidate => ({ id, name: `Rep ${id}`, role: 'rep', active: true, ...overrides });
const assignment = (overrides: Partial<AssignmentCandidate> = {}): AssignmentCandidate => ({
  id: 'a1',
  repId: 'r1',
  scenarioId: 's1',
  dueAt: null,
  enforceDueDate: false,
  maxAttempts: null,
  attemptsUsed: 0,
  revoked: false,
  ...overrides,
});
const none: ResolverCandidates = { pinMatch: null, extensionScenario: null, directLineScenario: null, callerUsers: [], callerAssignments: [] };

describe('resolver', () => {
  it('resolves a personal PIN to its assignment, scenario and rep', () => {
    const outcome = resolveCall({ digits: '123456', now, callerIdTrusted: true }, { ...none, pinMatch: { assignment: assignment(), scenario: scenario('s1'), rep: rep('r1') } });
    expect(outcome).toMatchObject({ kind: 'ok', via: 'pin', scenario: { id: 's1' }, rep: { id: 'r1' }, assignment: { id: 'a1' } });
  });

  it('says wrong_pin for digits that match nothing and no_digits for nothing keyed', () => {
    expect(resolveCall({ digits: '999999', now, callerIdTrusted: true }, none)).toEqual({ kind: 'wrong_pin' });
    expect(resolveCall({ digits: '  ', now, callerIdTrusted: true }, none)).toEqual({ kind: 'no_digits' });
  });

  it('refuses an assignment past its enforced due date but not a merely late one', () => {
    const dueAt = new Date('2026-02-28T00:00:00Z');
    const late = { ...none, pinMatch: { assignment: assignment({ dueAt }), scenario: scenario('s1'), rep: rep('r1') } };
    expect(resolveCall({ digits: '1', now, callerIdTrusted: true }, late).kind).toBe('ok');
    const enforced = { ...none, pinMatch: { assignment: assignment({ dueAt, enforceDueDate: true }), scenario: scenario('s1'), rep: rep('r1') } };
    expect(resolveCall({ digits: '1', now, callerIdTrusted: true }, enforced)).toEqual({ kind: 'expired', dueAt });
    const notYet = { ...none, pinMatch: { assignment: assignment({ dueAt: new Date('2026-03-02T00:00:00Z'), enforceDueDate: true }), scenario: scenario('s1'), rep: rep('r1') } };
    expect(resolveCall({ digits: '1', now, callerIdTrusted: true }, notYet).kind).toBe('ok');
  });

  it('refuses an assignment with no attempts left', () => {
    const used = { ...none, pinMatch: { assignment: assignment({ maxAttempts: 3, attemptsUsed: 3 }), scenario: scenario('s1'), rep: rep('r1') } };
    expect(resolveCall({ digits: '1', now, callerIdTrusted: true }, used)).toEqual({ kind: 'exhausted', maxAttempts: 3 });
    const left = { ...none, pinMatch: { assignment: assignment({ maxAttempts: 3, attemptsUsed: 2 }), scenario: scenario('s1'), rep: rep('r1') } };
    expect(resolveCall({ digits: '1', now, callerIdTrusted: true }, left).kind).toBe('ok');
  });

  it('treats revoked assignments as wrong PINs and archived scenarios or inactive reps as inactive', () => {
    expect(resolveCall({ digits: '1', now, callerIdTrusted: true }, { ...none, pinMatch: { assignment: assignment({ revoked: true }), scenario: scenario('s1'), rep: rep('r1') } })).toEqual({ kind: 'wrong_pin' });
    expect(resolveCall({ digits: '1', now, callerIdTrusted: true }, { ...none, pinMatch: { assignment: assignment(), scenario: scenario('s1', { archived: true }), rep: rep('r1') } })).toEqual({ kind: 'inactive' });
    expect(resolveCall({ digits: '1', now, callerIdTrusted: true }, { ...none, pinMatch: { assignment: assignment(), scenario: scenario('s1'), rep: rep('r1', { active: false }) } })).toEqual({ kind: 'inactive' });
  });

  it('resolves an extension by caller ID, as free practice or through the rep’s assignment', () => {
    const free = resolveCall({ digits: '101', now, callerIdTrusted: true }, { ...none, extensionScenario: scenario('s1'), callerUsers: [rep('r1')] });
    expect(free).toMatchObject({ kind: 'ok', via: 'extension', rep: { id: 'r1' }, assignment: null });

    const assigned = resolveCall({ digits: '101', now, callerIdTrusted: true }, { ...none, extensionScenario: scenario('s1'), callerUsers: [rep('r1')], callerAssignments: [assignment()] });
    expect(assigned).toMatchObject({ kind: 'ok', via: 'extension', assignment: { id: 'a1' } });

    const usedUp = resolveCall(
      { digits: '101', now, callerIdTrusted: true },
      { ...none, extensionScenario: scenario('s1'), callerUsers: [rep('r1')], callerAssignments: [assignment({ maxAttempts: 1, attemptsUsed: 1 })] },
    );
    expect(usedUp).toEqual({ kind: 'exhausted', maxAttempts: 1 });
  });

  it('prefers a usable assignment when the rep has several for the scenario', () => {
    const outcome = resolveCall(
      { digits: '101', now, callerIdTrusted: true },
      {
        ...none,
        extensionScenario: scenario('s1'),
        callerUsers: [rep('r1')],
        callerAssignments: [assignment({ id: 'old', maxAttempts: 1, attemptsUsed: 1 }), assignment({ id: 'new' })],
      },
    );
    expect(outcome).toMatchObject({ kind: 'ok', assignment: { id: 'new' } });
  });

  it('refuses an extension from an unknown, inactive or shared caller number', () => {
    expect(resolveCall({ digits: '101', now, callerIdTrusted: true }, { ...none, extensionScenario: scenario('s1') })).toEqual({ kind: 'unknown_caller', via: 'extension' });
    expect(resolveCall({ digits: '101', now, callerIdTrusted: true }, { ...none, extensionScenario: scenario('s1'), callerUsers: [rep('r1', { active: false })] })).toEqual({
      kind: 'unknown_caller',
      via: 'extension',
    });
    expect(resolveCall({ digits: '101', now, callerIdTrusted: true }, { ...none, extensionScenario: scenario('s1'), callerUsers: [rep('r1'), rep('r2')] })).toEqual({
      kind: 'unknown_caller',
      via: 'extension',
    });
  });

  it('does not let an untrusted caller ID name the rep: extension and direct line ask for the PIN, a PIN still works', () => {
    const known = { ...none, extensionScenario: scenario('s1'), directLineScenario: scenario('s9'), callerUsers: [rep('r1')] };
    expect(resolveCall({ digits: '101', now, callerIdTrusted: false }, { ...known, directLineScenario: null })).toEqual({ kind: 'caller_unverified', via: 'extension' });
    expect(resolveCall({ digits: '', now, callerIdTrusted: false }, known)).toEqual({ kind: 'caller_unverified', via: 'direct_line' });
    // Registered or not, the answer is the same.
    expect(resolveCall({ digits: '', now, callerIdTrusted: false }, { ...known, callerUsers: [] })).toEqual({ kind: 'caller_unverified', via: 'direct_line' });
    const withPin = resolveCall({ digits: '123456', now, callerIdTrusted: false }, { ...known, pinMatch: { assignment: assignment(), scenario: scenario('s1'), rep: rep('r1') } });
    expect(withPin).toMatchObject({ kind: 'ok', via: 'pin' });
  });

  it('resolves a direct line by the called number without digits, and lets a PIN win when one is keyed', () => {
    const direct = resolveCall({ digits: '', now, callerIdTrusted: true }, { ...none, directLineScenario: scenario('s9'), callerUsers: [rep('r1')] });
    expect(direct).toMatchObject({ kind: 'ok', via: 'direct_line', scenario: { id: 's9' } });
    expect(resolveCall({ digits: '', now, callerIdTrusted: true }, { ...none, directLineScenario: scenario('s9') })).toEqual({ kind: 'unknown_caller', via: 'direct_line' });
    const withPin = resolveCall(
      { digits: '123456', now, callerIdTrusted: true },
      { ...none, directLineScenario: scenario('s9'), pinMatch: { assignment: assignment(), scenario: scenario('s1'), rep: rep('r1') } },
    );
    expect(withPin).toMatchObject({ kind: 'ok', via: 'pin', scenario: { id: 's1' } });
  });

  it('takes the first word of a name as the first name', () => {
    expect(firstNameOf('Riley Rep')).toBe('Riley');
    expect(firstNameOf('  Cher ')).toBe('Cher');
  });
});
