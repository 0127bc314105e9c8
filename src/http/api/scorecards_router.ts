// POST /api/scorecards/preview: score an uploaded transcript against a scenario's rubric without a
// call (a manager testing a rubric before assigning it). Nothing is stored.
import express, { Router } from 'express';
import { rateLimit } from 'express-rate-limit';
import { scoreTranscript, type ScoringDeps } from '../../app/score_transcript.js';
import type { AppDeps } from '../../app/use_case.js';
import { actorOf, makeBearerAuth } from './auth.js';
import { apiErrorHandler, apiRefuseNul, sendError } from './errors.js';

export type ScorecardApiDeps = Pick<AppDeps, 'db' | 'now'> &
  ScoringDeps & {
    /** Previews per API user and window (default 10 a minute): each one is a paid LLM call. */
    previewRateLimit?: { windowMs: number; limit: number };
  };

/** A 30-minute call's transcript is about 30 kB; ten times that is plenty and bounds the LLM prompt. */
export const PREVIEW_MAX_BYTES = 300 * 1024;

/**
 * JSON body `{ scenarioId, transcript, passMark?, repLabels? }`, where transcript is either the file's
 * text (JSON or "Speaker: text" lines) or the JSON transcript itself; or a text/plain body with
 * `?scenarioId=…&passMark=…`.
 */
export function makeScorecardsRouter(deps: ScorecardApiDeps): Router {
  const router = Router();
  const perUser = rateLimit({
    windowMs: deps.previewRateLimit?.windowMs ?? 60_000,
    limit: deps.previewRateLimit?.limit ?? 10,
    // After authentication: the limit follows the API user, not an address a team may share.
    keyGenerator: (_req, res) => `user:${actorOf(res).userId ?? 'system'}`,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    handler: (_req, res) => sendError(res, 429, 'rate_limited', 'too many scorecard previews; wait a minute and try again'),
  });
  router.use(
    makeBearerAuth(deps),
    perUser,
    express.json({ limit: PREVIEW_MAX_BYTES }),
    express.text({ limit: PREVIEW_MAX_BYTES, type: 'text/plain' }),
    apiRefuseNul,
  );
  router.post('/preview', async (req, res) => {
    const body: unknown = req.body;
    const input =
      typeof body === 'string'
        ? {
            transcript: body,
            scenarioId: req.query['scenarioId'],
            passMark: req.query['passMark'],
            ...(typeof req.query['repLabel'] === 'string' ? { repLabels: [req.query['repLabel']] } : {}),
          }
        : { ...(body as Record<string, unknown>) };
    const record = input as Record<string, unknown>;
    if (record['transcript'] !== undefined && typeof record['transcript'] !== 'string') record['transcript'] = JSON.stringify(record['transcript']);
    const result = await scoreTranscript(deps, actorOf(res), input as Parameters<typeof scoreTranscript>[2]);
    res.json(result);
  });
  router.use(apiErrorHandler);
  return router;
}
