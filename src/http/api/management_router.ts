// The management JSON API under /api. Each resource sits behind bearer-token auth at its own prefix,
// so other /api routes (the agent's /api/dispatch/*, with their own auth) pass through untouched.
import express, { Router } from 'express';
import type { PersonaDeps } from '../../app/personas.js';
import type { AppDeps } from '../../app/use_case.js';
import { makeAssignmentsRouter } from './assignments_router.js';
import { makeAuditRouter } from './audit_router.js';
import { makeBearerAuth } from './auth.js';
import { makeCallsRouter } from './calls_router.js';
import { apiErrorHandler, apiRefuseNul, sendError } from './errors.js';
import { makePersonasRouter, type PersonaRouterDeps } from './personas_router.js';
import { makeRepDataRouter } from './rep_data_router.js';
import { makeScenariosRouter } from './scenarios_router.js';
import { makeTokensRouter } from './tokens_router.js';
import { makeUsersRouter } from './users_router.js';

export type ManagementApiDeps = AppDeps & PersonaDeps & Pick<PersonaRouterDeps, 'personaDrafts' | 'draftRateLimit'>;

export function makeManagementApiRouter(deps: ManagementApiDeps): Router {
  const router = Router();
  const auth = makeBearerAuth(deps);
  const json = express.json({ limit: '256kb' });
  const resources: [string, Router][] = [
    ['/users', makeUsersRouter(deps)],
    ['/personas', makePersonasRouter(deps)],
    ['/scenarios', makeScenariosRouter(deps)],
    ['/assignments', makeAssignmentsRouter(deps)],
    ['/calls', makeCallsRouter(deps)],
    ['/tokens', makeTokensRouter(deps)],
    ['/audit', makeAuditRouter(deps)],
    ['/reps', makeRepDataRouter(deps)],
  ];
  const unknownRoute: express.RequestHandler = (req, res) =>
    sendError(res, 404, 'not_found', `no route ${req.method} ${req.originalUrl.split('?')[0]}`);
  for (const [prefix, resource] of resources) router.use(prefix, auth, json, apiRefuseNul, resource, unknownRoute, apiErrorHandler);
  return router;
}
