import { describe, expect, it } from 'vitest';
import type { AnalyticsTurn } from './analytics.js';
import { putThroughAt } from './handoff.js';
import { buildScorecardMessages, transcriptLines } from './scorecard.js';

const turn = (speaker: 'rep' | 'persona', text: string, startMs: number, personaId?: string, personaName?: string): AnalyticsTurn => ({
  speaker,
  text,
  startMs,
  endMs: startMs + 1000,
  interrupted: false,
  ...(personaId ? { personaId } : {}),
  ...(personaName ? { personaName } : {}),
});

const staged = [
  turn('persona', 'Front desk.', 0, 'sam', 'Sam Reyes'),
  turn('rep', 'Riley from Acme about freight costs.', 2000),
  turn('persona', 'Putting you through.', 4000, 'sam', 'Sam Reyes'),
  turn('persona', 'Diane Carter.', 7000, 'diane', 'Diane Carter'),
  turn('rep', 'Hello Diane.', 9000),
  turn('persona', 'Go on.', 11000, 'diane', 'Diane Carter'),
];

describe('handoffs in a staged transcript (decision 018)', () => {
  it('marks the first turn of each new persona, never rep turns or calls without persona ids', () => {
    expect([...putThroughAt(staged)]).toEqual([3]);
    expect(putThroughAt([turn('persona', 'a', 0), turn('rep', 'b', 1), turn('persona', 'c', 2)]).size).toBe(0);
  });

  it('names each persona in the scorer transcript and marks the transfer', () => {
    expect(transcriptLines(staged, 'Buyer')).toEqual([
      '[00:00] Sam Reyes: Front desk.',
      '[00:02] Rep: Riley from Acme about freight costs.',
      '[00:04] Sam Reyes: Putting you through.',
      '— put through to Diane Carter —',
      '[00:07] Diane Carter: Diane Carter.',
      '[00:09] Rep: Hello Diane.',
      '[00:11] Diane Carter: Go on.',
    ]);
  });

  it('tells the scorer the stages and their rules, so "got past the gatekeeper" can be judged', () => {
    const scenario = { title: 'Through the front desk', objective: 'Meet the CFO', context: '', difficulty: 'medium' as const, rubric: [{ id: 'gatekeeper', name: 'Got past the gatekeeper', description: '', weight: 1 }] };
    const [, user] = buildScorecardMessages(scenario, staged, { name: 'Sam Reyes', role: 'Receptionist', company: 'Northwind' }, {
      stages: [{ name: 'Diane Carter', role: 'CFO', company: 'Northwind', advanceRule: 'the caller gives a <business> reason' }],
    });
    expect(user!.content).toContain('Answered by: Sam Reyes, Receptionist at Northwind');
    expect(user!.content).toContain('Then put through to: Diane Carter, CFO at Northwind, only when the caller gives a  business  reason');
    expect(user!.content).toContain('a call without it never got past Sam Reyes');
    expect(user!.content).toContain('— put through to Diane Carter —');
    const [, single] = buildScorecardMessages(scenario, [turn('persona', 'Hi.', 0), turn('rep', 'Hello.', 1000)], { name: 'Diane Carter', role: 'CFO', company: 'Northwind' });
    expect(single!.content).toContain('Buyer: Diane Carter, CFO at Northwind\n\nRubric:');
  });
});
