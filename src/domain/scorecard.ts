/**
 * The rubric scorecard: the prompt, the JSON schema the model must answer in, the validation of
 * that answer, and the weighted overall score. Pure; the Groq call lives in an adapter.
 *
 * An answer is accepted only when it scores every rubric criterion exactly once and every evidence
 * quote can be found in the transcript (case, punctuation and spacing aside). Anything else is
 * rejected with a reason, so a scorecard is never invented.
 */
import { z } from 'zod';
import type { AnalyticsTurn } from './analytics.js';

/** Bump when the prompt or schema changes, so stored scorecards say what produced them. */
export const SCORECARD_PROMPT_VERSION = 'scorecard-v1';

export interface Criterion {
  id: string;
  name: string;
  description: string;
  weight: number;
}

export interface ScoredCriterion {
  criterionId: string;
  name: string;
  weight: number;
  /** 0-100 */
  score: number;
  evidence: string;
  suggestion: string;
}

export interface ScorecardScenario {
  title: string;
  objective: string;
  context: string;
  difficulty?: string;
  rubric: readonly Criterion[];
}

export interface ScorecardPersona {
  name: string;
  role: string;
  company: string;
}

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface ScorecardResult {
  summary: string;
  criteria: ScoredCriterion[];
  overallScore: number;
  /** Null when there is no pass mark (no assignment behind the call). */
  passed: boolean | null;
}

/** mm:ss from the start of the conversation. */
export function clock(offsetMs: number): string {
  const total = Math.max(0, Math.round(offsetMs / 1000));
  const minutes = Math.floor(total / 60);
  return `${String(minutes).padStart(2, '0')}:${String(total % 60).padStart(2, '0')}`;
}

export function transcriptLines(turns: readonly AnalyticsTurn[], personaName = 'Buyer'): string[] {
  const start = turns[0]?.startMs ?? 0;
  return turns.map((turn) => `[${clock(turn.startMs - start)}] ${turn.speaker === 'rep' ? 'Rep' : personaName}: ${turn.text}`);
}

export function scorecardJsonSchema(rubric: readonly Criterion[]): Record<string, unknown> {
  return {
    type: 'object',
    additionalProperties: false,
    required: ['summary', 'criteria'],
    properties: {
      summary: { type: 'string', description: 'Two or three sentences on how the rep did overall.' },
      criteria: {
        type: 'array',
        minItems: rubric.length,
        maxItems: rubric.length,
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['criterionId', 'score', 'evidence', 'suggestion'],
          properties: {
            criterionId: { type: 'string', enum: rubric.map((criterion) => criterion.id) },
            score: { type: 'integer', minimum: 0, maximum: 100 },
            evidence: {
              type: 'string',
              description: 'A short verbatim quote from the transcript; empty when nothing in the call bears on the criterion.',
            },
            suggestion: { type: 'string', description: 'One concrete thing the rep should do next time.' },
          },
        },
      },
    },
  };
}

export function buildScorecardMessages(scenario: ScorecardScenario, turns: readonly AnalyticsTurn[], persona?: ScorecardPersona): ChatMessage[] {
  const rubric = scenario.rubric
    .map((criterion) => `- id "${criterion.id}" — ${criterion.name} (weight ${criterion.weight}): ${criterion.description}`)
    .join('\n');
  const system = [
    'You are a strict, fair sales coach scoring a practice phone call between a sales rep and a simulated buyer.',
    'Score the REP only, against each rubric criterion, from 0 (not done at all) to 100 (excellent).',
    'For every criterion give: a short verbatim quote from the transcript as evidence (copy the words exactly; use an empty string if nothing in the call bears on it),',
    'and one concrete, specific suggestion for what the rep should say or do next time.',
    'Base every judgement on the transcript alone; never invent what was not said.',
    'Answer with JSON only, in this shape: {"summary": string, "criteria": [{"criterionId": string, "score": integer 0-100, "evidence": string, "suggestion": string}]},',
    'with exactly one entry per rubric criterion id.',
  ].join(' ');
  const user = [
    `Scenario: ${scenario.title}${scenario.difficulty ? ` (${scenario.difficulty})` : ''}`,
    `Rep's objective: ${scenario.objective}`,
    `Context: ${scenario.context}`,
    persona ? `Buyer: ${persona.name}, ${persona.role} at ${persona.company}` : '',
    '',
    'Rubric:',
    rubric,
    '',
    'Transcript:',
    ...transcriptLines(turns, persona?.name ?? 'Buyer'),
  ]
    .filter((line, index, all) => line !== '' || all[index - 1] !== '')
    .join('\n');
  return [
    { role: 'system', content: system },
    { role: 'user', content: user },
  ];
}

const answerSchema = z.object({
  summary: z.string().trim().min(1).max(2000),
  criteria: z.array(
    z.object({
      criterionId: z.string(),
      score: z.number().min(0).max(100),
      evidence: z.string().max(500),
      suggestion: z.string().trim().min(1).max(1000),
    }),
  ),
});

/** Lower case, letters and digits only, single spaces: how a quote is matched against the transcript. */
export function normaliseForQuote(text: string): string {
  return text
    .toLowerCase()
    .replace(/[\u2018\u2019]/g, "'")
    .replace(/[^\p{L}\p{N}']+/gu, ' ')
    .replace(/'/g, '')
    .trim()
    .replace(/\s+/g, ' ');
}

/** A quote with "..." elisions is found when each fragment is in the transcript. */
export function quoteIsInTranscript(quote: string, turns: readonly AnalyticsTurn[]): boolean {
  const haystack = ` ${normaliseForQuote(turns.map((turn) => turn.text).join(' '))} `;
  const fragments = quote
    .split(/\.{3,}|…/)
    .map(normaliseForQuote)
    .filter((fragment) => fragment !== '');
  return fragments.every((fragment) => haystack.includes(` ${fragment} `));
}

/** The follow-up that asks the model to correct a rejected answer. */
export function correctionMessage(reason: string): ChatMessage {
  return {
    role: 'user',
    content: `That answer was rejected: ${reason}. Answer again with JSON only: one entry per rubric criterion id, and evidence copied word for word from the transcript (or an empty string).`,
  };
}

/** Weighted mean of the criterion scores, one decimal; equal weights when all weights are zero. */
export function overallScore(criteria: readonly Pick<ScoredCriterion, 'score' | 'weight'>[]): number {
  if (criteria.length === 0) return 0;
  const totalWeight = criteria.reduce((sum, criterion) => sum + Math.max(0, criterion.weight), 0);
  const weighted =
    totalWeight > 0
      ? criteria.reduce((sum, criterion) => sum + criterion.score * Math.max(0, criterion.weight), 0) / totalWeight
      : criteria.reduce((sum, criterion) => sum + criterion.score, 0) / criteria.length;
  return Math.round(weighted * 10) / 10;
}

export type AnswerCheck = { ok: true; result: ScorecardResult } | { ok: false; reason: string };

/** Validates the model's raw answer against the rubric and the transcript, then scores it. */
export function checkScorecardAnswer(
  content: string,
  input: { rubric: readonly Criterion[]; turns: readonly AnalyticsTurn[]; passMark: number | null },
): AnswerCheck {
  let json: unknown;
  try {
    json = JSON.parse(content.trim().replace(/^```(?:json)?\s*|\s*```$/g, ''));
  } catch {
    return { ok: false, reason: 'the answer is not valid JSON' };
  }
  const parsed = answerSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { ok: false, reason: `the answer does not match the schema: ${issue ? `${issue.path.join('.') || '(root)'} ${issue.message}` : ''}`.trim() };
  }
  const byId = new Map(input.rubric.map((criterion) => [criterion.id, criterion]));
  const seen = new Set<string>();
  const criteria: ScoredCriterion[] = [];
  for (const answer of parsed.data.criteria) {
    const criterion = byId.get(answer.criterionId);
    if (!criterion) return { ok: false, reason: `the answer scores an unknown criterion "${answer.criterionId}"` };
    if (seen.has(criterion.id)) return { ok: false, reason: `the answer scores criterion "${criterion.id}" twice` };
    seen.add(criterion.id);
    const evidence = answer.evidence.trim().replace(/^["“']+|["”']+$/g, '');
    if (evidence !== '' && !quoteIsInTranscript(evidence, input.turns)) {
      return { ok: false, reason: `the evidence for "${criterion.id}" is not a quote from the transcript` };
    }
    criteria.push({
      criterionId: criterion.id,
      name: criterion.name,
      weight: criterion.weight,
      score: Math.round(answer.score),
      evidence,
      suggestion: answer.suggestion,
    });
  }
  const missing = input.rubric.filter((criterion) => !seen.has(criterion.id)).map((criterion) => criterion.id);
  if (missing.length > 0) return { ok: false, reason: `the answer leaves out ${missing.map((id) => `"${id}"`).join(', ')}` };
  // Keep the rubric's order, whatever order the model answered in.
  criteria.sort((a, b) => input.rubric.findIndex((c) => c.id === a.criterionId) - input.rubric.findIndex((c) => c.id === b.criterionId));
  const overall = overallScore(criteria);
  return {
    ok: true,
    result: {
      summary: parsed.data.summary,
      criteria,
      overallScore: overall,
      passed: input.passMark === null ? null : overall >= input.passMark,
    },
  };
}
