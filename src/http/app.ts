import express, { type Express, type Router } from 'express';
import { pinoHttp } from 'pino-http';
import type { Logger } from '../adapters/logger.js';
import { makeManagementApiRouter, type ManagementApiDeps } from './api/management_router.js';
import { makeScorecardsRouter, type ScorecardApiDeps } from './api/scorecards_router.js';
import { makeHealthRouter, type HealthDeps } from './health_router.js';

export interface HttpAppDeps {
  logger: Logger;
  health: HealthDeps;
  /** The management JSON API (/api/users, /personas, /scenarios, /assignments, /calls, /tokens, /audit). */
  managementApi?: ManagementApiDeps;
  /** POST /api/scorecards/preview: score an uploaded transcript without a call. */
  scorecardApi?: ScorecardApiDeps;
  /** The server-rendered web view (src/http/web); mounted last so it also answers unknown paths. */
  web?: Router;
}

export function createHttpApp(deps: HttpAppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  // Behind a proxy (ngrok, a load balancer) req.ip and req.protocol must come from X-Forwarded-*.
  app.set('trust proxy', 'loopback, linklocal, uniquelocal');
  app.use(pinoHttp({ logger: deps.logger, autoLogging: { ignore: (req) => req.url === '/healthz' } }));
  app.use(makeHealthRouter(deps.health));
  if (deps.scorecardApi) app.use('/api/scorecards', makeScorecardsRouter(deps.scorecardApi));
  if (deps.managementApi) app.use('/api', makeManagementApiRouter(deps.managementApi));
  if (deps.web) app.use(deps.web);
  return app;
}
