// POST /api/scorecards/preview: score an uploaded transcript against a scenario's rubric without a
// call (a manager testing a rubric before assigning it). Nothing is stored.
import express, { Router } from 'express';
import { scoreTranscript, type ScoringDeps } from '../../app/score_transcript.js';
import type { AppDeps } from '../../app/use_case.js';
import { actorOf, makeBearerAuth } from './auth.js';
import { apiErrorHandler, apiRefuseNul } from './errors.js';

export type ScorecardApiDeps = Pick<AppDeps, 'db' | 'now'> & ScoringDeps;

/**
 * JSON body `{ scenarioId, transcript, passMark?, repLabels? }`, where transcript is either the file's
 * text (JSON or "Speaker: text" lines) or the JSON transcript itself; or a text/plain body with
 * `?scenarioId=…&passMark=…`.
 */
export function makeScorecardsRouter(deps: ScorecardApiDeps): Router {
  const router = Router();
  router.use(makeBearerAuth(deps), express.json({ limit: '1mb' }), express.text({ limit: '1mb', type: 'text/plain' }), apiRefuseNul);
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
