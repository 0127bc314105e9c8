import { Router } from 'express';
import { rateLimit } from 'express-rate-limit';
import { draftPersona, type PersonaDraftDeps } from '../../app/draft_persona.js';
import { createPersona, getPersona, listPersonas, updatePersona, type CreatePersonaInput, type PersonaDeps, type UpdatePersonaInput } from '../../app/personas.js';
import type { AppDeps } from '../../app/use_case.js';
import { actorOf } from '../locals.js';
import { sendError } from './errors.js';
import { includeArchived, makeResourceRouter } from './resource_router.js';

export interface PersonaRouterDeps extends AppDeps, PersonaDeps {
  /** POST /api/personas/draft; absent, drafting answers 503. */
  personaDrafts?: PersonaDraftDeps | undefined;
  /** Drafts per API user and minute (default 10): each one is a paid LLM call. */
  draftRateLimit?: number;
}

export function makePersonasRouter(deps: PersonaRouterDeps): Router {
  const router = Router();
  // `{ description }` -> `{ draft, model, notes }`: a persona to review and POST to /api/personas. Nothing is stored.
  // Before the resource routes, so `draft` is never read as an id.
  router.post(
    '/draft',
    rateLimit({
      windowMs: 60_000,
      limit: deps.draftRateLimit ?? 10,
      keyGenerator: (_req, res) => `user:${actorOf(res).userId ?? 'system'}`,
      standardHeaders: 'draft-8',
      legacyHeaders: false,
      handler: (_req, res) => sendError(res, 429, 'rate_limited', 'too many persona drafts; wait a minute and try again'),
    }),
    async (req, res) => {
      if (!deps.personaDrafts?.draftModel) return sendError(res, 503, 'unavailable', 'persona drafting needs the Groq key (GROQ_API_KEY)');
      const outcome = await draftPersona(deps.personaDrafts, actorOf(res), req.body);
      if (outcome.status === 'failed') return sendError(res, 502, 'draft_failed', `no persona drafted: ${outcome.reason}`);
      res.json({ draft: outcome.draft, model: outcome.model, notes: outcome.notes });
    },
  );
  router.use(
    makeResourceRouter({
      list: (actor, req, paging) => listPersonas(deps, actor, includeArchived(req), paging),
      create: (actor, body) => createPersona(deps, actor, body as CreatePersonaInput),
      get: (actor, id) => getPersona(deps, actor, id),
      update: (actor, input) => updatePersona(deps, actor, input as UpdatePersonaInput),
    }),
  );
  return router;
}
