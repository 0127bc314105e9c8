import { describe, expect, it } from 'vitest';
import type { AnalyticsTurn } from './analytics.js';
import { buildScorecardMessages, checkScorecardAnswer, overallScore, quoteIsInTranscript, scorecardJsonSchema, type Criterion } from './scorecard.js';

const rubric: Criterion[] = [
  { id: 'discovery', name: 'Discovery', description: 'Asks open questions', weight: 2 },
  { id: 'close', name: 'Next step', description: 'Secures a next step', weight: 1 },
];
const turns: AnalyticsTurn[] = [
  { speaker: 'persona', text: 'Diane speaking.', startMs: 0, endMs: 1000, interrupted: false },
  { speaker: 'rep', text: 'How do you close the books today? It’s a pain, right?', startMs: 65_000, endMs: 70_000, interrupted: false },
];
const answer = (criteria: unknown[], summary = 'Solid discovery, weak close.') => JSON.stringify({ summary, criteria });
const good = [
  { criterionId: 'close', score: 40, evidence: '', suggestion: 'Ask for a 20-minute demo on Thursday.' },
  { criterionId: 'discovery', score: 85, evidence: '"how do you close the books today"', suggestion: 'Follow up on the pain with a number.' },
];

describe('checkScorecardAnswer', () => {
  it('accepts a complete answer, keeps rubric order and weights the overall score', () => {
    const check = checkScorecardAnswer(answer(good), { rubric, turns, passMark: 70 });
    expect(check).toEqual({
      ok: true,
      result: {
        summary: 'Solid discovery, weak close.',
        criteria: [
          { criterionId: 'discovery', name: 'Discovery', weight: 2, score: 85, evidence: 'how do you close the books today', suggestion: 'Follow up on the pain with a number.' },
          { criterionId: 'close', name: 'Next step', weight: 1, score: 40, evidence: '', suggestion: 'Ask for a 20-minute demo on Thursday.' },
        ],
        overallScore: 70, // (85*2 + 40) / 3
        passed: true,
      },
    });
    const failing = checkScorecardAnswer(answer(good), { rubric, turns, passMark: 71 });
    expect(failing.ok && failing.result.passed).toBe(false);
    const noMark = checkScorecardAnswer(answer(good), { rubric, turns, passMark: null });
    expect(noMark.ok && noMark.result.passed).toBeNull();
  });

  it('rejects malformed, incomplete, duplicated, unknown and invented answers with a reason', () => {
    const check = (content: string) => checkScorecardAnswer(content, { rubric, turns, passMark: 70 });
    expect(check('{"summary": "x", "criteria": [')).toEqual({ ok: false, reason: 'the answer is not valid JSON' });
    expect(check(JSON.stringify({ summary: 'x' }))).toMatchObject({ ok: false, reason: expect.stringMatching(/schema: criteria/) });
    expect(check(answer([good[1]]))).toEqual({ ok: false, reason: 'the answer leaves out "close"' });
    expect(check(answer([...good, good[0]]))).toMatchObject({ ok: false, reason: expect.stringMatching(/twice/) });
    expect(check(answer([...good, { ...good[0], criterionId: 'rapport' }]))).toMatchObject({ ok: false, reason: expect.stringMatching(/unknown criterion "rapport"/) });
    expect(check(answer([good[0], { ...good[1], evidence: 'We can save you 40 percent' }]))).toEqual({
      ok: false,
      reason: 'the evidence for "discovery" is not a quote from the transcript',
    });
    expect(check(answer([good[0], { ...good[1], score: 140 }]))).toMatchObject({ ok: false });
  });

  it('accepts fenced JSON', () => {
    expect(checkScorecardAnswer('```json\n' + answer(good) + '\n```', { rubric, turns, passMark: 70 }).ok).toBe(true);
  });
});

describe('helpers', () => {
  it('matches quotes regardless of case, punctuation and elisions, but only whole words', () => {
    expect(quoteIsInTranscript("it's a PAIN... right", turns)).toBe(true);
    expect(quoteIsInTranscript('close the book', turns)).toBe(false);
  });

  it('weights scores and falls back to equal weights', () => {
    expect(overallScore([{ score: 90, weight: 3 }, { score: 50, weight: 1 }])).toBe(80);
    expect(overallScore([{ score: 90, weight: 0 }, { score: 50, weight: 0 }])).toBe(70);
    expect(overallScore([])).toBe(0);
  });

  it('puts the rubric ids in the schema and a timed transcript in the prompt', () => {
    const schema = scorecardJsonSchema(rubric) as { properties: { criteria: { items: { properties: { criterionId: { enum: string[] } } } } } };
    expect(schema.properties.criteria.items.properties.criterionId.enum).toEqual(['discovery', 'close']);
    const [system, user] = buildScorecardMessages({ title: 'Cold call', objective: 'Book a demo', context: 'CFO', rubric }, turns, { name: 'Diane', role: 'CFO', company: 'Northwind' });
    expect(system!.content).toMatch(/JSON only/);
    expect(user!.content).toContain('[01:05] Rep: How do you close the books today?');
    expect(user!.content).toContain('[00:00] Diane: Diane speaking.');
    expect(user!.content).toContain('id "discovery" — Discovery (weight 2)');
  });
});
