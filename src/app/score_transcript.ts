// Scoring: the same analytics and scorecard for a finished call (post_call.ts) and for an uploaded
// transcript a manager wants to test a rubric on (scoreTranscript below).
import { eq, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Database } from '../adapters/db/client.js';
import { assignments, personas, scenarios, type scorecards } from '../adapters/db/schema.js';
import { assertStaff, type Actor } from '../domain/access.js';
import { type AnalyticsTurn, type CallAnalytics, computeAnalytics } from '../domain/analytics.js';
import { notFound, invalidInput } from '../domain/errors.js';
import { feedbackLanguage } from '../domain/languages.js';
import { isProviderError } from '../domain/provider_error.js';
import {
  buildScorecardMessages,
  checkScorecardAnswer,
  type ChatMessage,
  correctionMessage,
  findScorerAddress,
  scorecardPromptVersion,
  type ScorecardLanguages,
  scorerAddressReasons,
  type ScorecardPersona,
  type ScorecardStage,
  type ScorecardResult,
  type ScorecardScenario,
  scorecardJsonSchema,
} from '../domain/scorecard.js';
import { parseTranscript, TranscriptError } from '../domain/transcript.js';
import type { AppLogger } from './ports.js';
import { type Executor, parseInput } from './use_case.js';
import { idSchema } from './users.js';

export interface ScorecardRequest {
  messages: ChatMessage[];
  /** json_schema (structured output) unless the model refused it, then json_object. */
  format: 'json_schema' | 'json_object';
  jsonSchema: Record<string, unknown>;
  /** The structured-output schema's name (default "scorecard"); persona drafts use the same model. */
  schemaName?: string;
}

/** The LLM behind the scorecard; the Groq adapter implements it. Throws ProviderError. */
export interface ScorecardModel {
  readonly model: string;
  complete(request: ScorecardRequest): Promise<string>;
}

export interface ScoringDeps {
  /** Null when Groq is not configured: the scorecard is then unavailable, and says why. */
  scorecardModel: ScorecardModel | null;
  /** Model name recorded when there is no model. */
  scorecardModelName?: string;
  /** Tries per scorecard (default 3). */
  scorecardAttempts?: number;
  /** Pause before retrying after a provider error; doubled each time (default 1000). */
  scorecardRetryDelayMs?: number;
  logger?: AppLogger;
}

export type ScorecardOutcome =
  | ({ status: 'scored'; model: string; promptVersion: string; attempts: number } & ScorecardResult)
  /** reviewReasons: lines addressed to the scorer are flagged even when no score could be made. */
  | {
      status: 'unavailable';
      reason: string;
      model: string;
      promptVersion: string;
      attempts: number;
      reviewReasons: string[];
      /** The last failure was a retryable provider error (an outage, a rate limit): worth trying again later. */
      transient?: true;
    };

/** The call's language and its feedback's, from the scenario's setting and the persona (decision 017). */
export const scorecardLanguagesOf = (scenario: { feedbackLanguage: string | null }, persona: { language: string } | null | undefined): ScorecardLanguages => {
  const spoken = persona?.language ?? 'en';
  return { spoken, feedback: feedbackLanguage(scenario.feedbackLanguage, spoken) };
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Asks the model for a scorecard, validates it, and retries invalid answers and retryable failures.
 * After the last try it returns "unavailable" with the reason: a scorecard is never made up.
 */
export async function produceScorecard(
  deps: ScoringDeps,
  input: { scenario: ScorecardScenario; persona?: ScorecardPersona; stages?: readonly ScorecardStage[]; turns: readonly AnalyticsTurn[]; passMark: number | null; languages?: ScorecardLanguages },
): Promise<ScorecardOutcome> {
  const model = deps.scorecardModel;
  const base = {
    model: model?.model ?? deps.scorecardModelName ?? 'none',
    promptVersion: scorecardPromptVersion(input.languages),
    reviewReasons: scorerAddressReasons(findScorerAddress(input.turns)),
  };
  if (!model) return { status: 'unavailable', reason: 'Groq is not configured (GROQ_API_KEY is not set)', attempts: 0, ...base };
  if (input.scenario.rubric.length === 0) return { status: 'unavailable', reason: 'the scenario has no rubric criteria', attempts: 0, ...base };
  if (!input.turns.some((turn) => turn.speaker === 'rep' && turn.text.trim() !== '')) {
    return { status: 'unavailable', reason: 'the rep said nothing, so there is nothing to score', attempts: 0, ...base };
  }

  const attempts = Math.max(1, deps.scorecardAttempts ?? 3);
  const prompt = buildScorecardMessages(input.scenario, input.turns, input.persona, {
    ...(input.languages ? { languages: input.languages } : {}),
    ...(input.stages ? { stages: input.stages } : {}),
  });
  const request: ScorecardRequest = {
    messages: prompt,
    format: 'json_schema',
    jsonSchema: scorecardJsonSchema(input.scenario.rubric),
  };
  let reason = 'no answer';
  let transient = false;
  let delayMs = deps.scorecardRetryDelayMs ?? 1000;
  for (let attempt = 1; attempt <= attempts; attempt += 1) {
    try {
      const content = await model.complete(request);
      const check = checkScorecardAnswer(content, { rubric: input.scenario.rubric, turns: input.turns, passMark: input.passMark, final: attempt === attempts });
      if (check.ok) {
        if (check.result.reviewReasons.length > 0) deps.logger?.warn({ attempt, reviewReasons: check.result.reviewReasons.length }, 'scorecard flagged for review');
        return { status: 'scored', attempts: attempt, ...base, ...check.result };
      }
      reason = check.reason;
      transient = false;
      deps.logger?.warn({ attempt, reason }, 'scorecard answer rejected');
      // The next try sees its rejected answer and why, which is what gets models to fix a quote.
      request.messages = [...prompt, { role: 'assistant', content }, correctionMessage(reason)];
    } catch (error) {
      if (!isProviderError(error)) throw error;
      reason = error.message;
      deps.logger?.warn({ attempt, status: error.status, retryable: error.retryable, err: error }, 'scorecard request failed');
      // Some Groq models refuse structured output; JSON mode plus the shape in the prompt still works.
      if (error.status === 400 && request.format === 'json_schema' && /response_format|json_schema|structured/i.test(error.message)) {
        request.format = 'json_object';
        continue;
      }
      if (!error.retryable) return { status: 'unavailable', reason, attempts: attempt, ...base };
      transient = true;
      if (attempt < attempts) {
        await sleep(delayMs);
        delayMs *= 2;
      }
    }
  }
  return { status: 'unavailable', reason: `no valid scorecard after ${attempts} tries: ${reason}`, attempts, ...base, ...(transient ? { transient: true as const } : {}) };
}

/**
 * The first passing (non-test) call marks its assignment passed, whether the post-call job or a
 * re-run scored it; kept if the call is scored again or a later one fails.
 */
export async function markAssignmentPassed(db: Executor, call: { assignmentId: string | null; isTest: boolean; createdAt: Date }, passed: boolean | null | undefined): Promise<void> {
  if (passed !== true || !call.assignmentId || call.isTest) return;
  await db
    .update(assignments)
    .set({ passedAt: sql`coalesce(${assignments.passedAt}, ${call.createdAt.toISOString()}::timestamptz)` })
    .where(eq(assignments.id, call.assignmentId));
}

/** The scorecards row for an outcome; the post-call job stores the same shape. */
export function scorecardValues(callId: string, outcome: ScorecardOutcome): typeof scorecards.$inferInsert {
  return outcome.status === 'scored'
    ? {
        callId,
        status: 'scored',
        overallScore: outcome.overallScore,
        passed: outcome.passed,
        criteria: outcome.criteria,
        summary: outcome.summary,
        model: outcome.model,
        promptVersion: outcome.promptVersion,
        needsReview: outcome.reviewReasons.length > 0,
        reviewReasons: outcome.reviewReasons,
      }
    : {
        callId,
        status: 'unavailable',
        reason: outcome.reason,
        model: outcome.model,
        promptVersion: outcome.promptVersion,
        needsReview: outcome.reviewReasons.length > 0,
        reviewReasons: outcome.reviewReasons,
      };
}

export const scoreTranscriptInput = z.object({
  scenarioId: idSchema,
  /** JSON ([{ speaker, text, start?, end? }] or { turns }) or plain "Speaker: text" lines. */
  transcript: z.string().min(1, 'the transcript is empty').max(200_000, 'the transcript is too long (at most 200,000 characters)'),
  /** Pass mark to judge against (0-100); none means no pass/fail. */
  passMark: z.coerce.number().int().min(0).max(100).optional(),
  /** Extra labels that mark the rep's lines (besides "Rep", "Me", "Caller", ...). */
  repLabels: z.array(z.string().trim().min(1)).max(10).optional(),
});
export type ScoreTranscriptInput = z.input<typeof scoreTranscriptInput>;

export interface ScoreTranscriptResult {
  scenario: { id: string; title: string };
  analytics: CallAnalytics;
  scorecard: ScorecardOutcome;
  transcript: { speaker: 'rep' | 'persona'; text: string; startSeconds: number; endSeconds: number }[];
}

/** Scores an uploaded transcript against a scenario's rubric without a call; nothing is stored. */
export async function scoreTranscript(
  deps: ScoringDeps & { db: Database },
  actor: Actor,
  raw: ScoreTranscriptInput,
): Promise<ScoreTranscriptResult> {
  assertStaff(actor);
  const input = parseInput(scoreTranscriptInput, raw);
  const [row] = await deps.db
    .select({ scenario: scenarios, persona: personas })
    .from(scenarios)
    .innerJoin(personas, eq(personas.id, scenarios.personaId))
    .where(eq(scenarios.id, input.scenarioId));
  if (!row) throw notFound('scenario');

  let parsed;
  try {
    parsed = parseTranscript(input.transcript, { repLabels: input.repLabels ?? [] });
  } catch (error) {
    if (error instanceof TranscriptError) throw invalidInput(error.message, { transcript: error.message });
    throw error;
  }
  const analytics = computeAnalytics(parsed.turns, { timed: parsed.timed });
  const scorecard = await produceScorecard(deps, {
    scenario: row.scenario,
    persona: row.persona,
    turns: parsed.turns,
    passMark: input.passMark ?? null,
    languages: scorecardLanguagesOf(row.scenario, row.persona),
  });
  const start = parsed.turns[0]?.startMs ?? 0;
  return {
    scenario: { id: row.scenario.id, title: row.scenario.title },
    analytics,
    scorecard,
    transcript: parsed.turns.map((turn) => ({
      speaker: turn.speaker,
      text: turn.text,
      startSeconds: Math.round((turn.startMs - start) / 100) / 10,
      endSeconds: Math.round((turn.endMs - start) / 100) / 10,
    })),
  };
}
