// Staged calls (decision 018): where a transcript moves from one persona to the next. Turns carry
// the persona who spoke (turns.persona_id); a persona turn by someone other than the persona who
// spoke before marks the moment the caller was put through. Single-persona calls carry no ids and
// never show a handoff.

export interface PersonaTurn {
  speaker: 'rep' | 'persona';
  personaId?: string | null;
}

/** Indexes of the turns at which the caller had just been put through to a new persona. */
export function putThroughAt(turns: readonly PersonaTurn[]): Set<number> {
  const at = new Set<number>();
  let last: string | undefined;
  turns.forEach((turn, index) => {
    if (turn.speaker !== 'persona' || !turn.personaId) return;
    if (last !== undefined && turn.personaId !== last) at.add(index);
    last = turn.personaId;
  });
  return at;
}

/** The line shown between turns where the caller was put through. */
export const putThroughLine = (personaName: string, role?: string): string => `— put through to ${personaName}${role ? `, ${role}` : ''} —`;
