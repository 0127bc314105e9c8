import express, { type Express, type Router } from 'express';
import { pinoHttp } from 'pino-http';
import { errorSerializers, type Logger } from '../adapters/logger.js';
import { makeManagementApiRouter, type ManagementApiDeps } from './api/management_router.js';
import { makeScorecardsRouter, type ScorecardApiDeps } from './api/scorecards_router.js';
import { makeDispatchRouter, type DispatchRouterDeps } from './dispatch_router.js';
import { makeHealthRouter, type HealthDeps } from './health_router.js';
import { makeLivekitWebhookRouter, type LivekitWebhookRouterDeps } from './livekit_webhook_router.js';
import { makeOpsRouter, type OpsDeps } from './ops_router.js';
import { makeTwilioRouter, type TwilioRouterDeps } from './twilio_router.js';

export interface HttpAppDeps {
  logger: Logger;
  /** Express "trust proxy" (config TRUST_PROXY): false (default) believes no X-Forwarded-* header. */
  trustProxy?: boolean | number | string;
  health: HealthDeps;
  /** GET /readyz (database, LiveKit, post-call queue) and GET /metrics (Prometheus). */
  ops?: OpsDeps;
  /** The management JSON API (/api/users, /personas, /scenarios, /assignments, /calls, /tokens, /audit). */
  managementApi?: ManagementApiDeps;
  /** POST /api/scorecards/preview: score an uploaded transcript without a call. */
  scorecardApi?: ScorecardApiDeps;
  /** Call routing: Twilio webhooks (/twilio/*), the direct-trunk resolve endpoint, LiveKit webhooks. */
  twilio?: TwilioRouterDeps;
  dispatch?: DispatchRouterDeps;
  livekitWebhook?: LivekitWebhookRouterDeps;
  /** The server-rendered web view (src/http/web); mounted last so it also answers unknown paths. */
  web?: Router;
}

const secretHeaders = ['authorization', 'cookie', 'set-cookie', 'x-twilio-signature'];

/** pino-http hands serializers the already-serialised req/res; only their headers change. */
function redactSecretHeaders<T extends { headers?: Record<string, unknown> }>(value: T): T {
  if (!value?.headers) return value;
  const headers = { ...value.headers };
  for (const name of secretHeaders) if (headers[name] !== undefined) headers[name] = '[redacted]';
  return { ...value, headers };
}

export function createHttpApp(deps: HttpAppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  // Behind a proxy (ngrok, a load balancer) req.ip and req.protocol must come from X-Forwarded-*,
  // but only from the proxies named in TRUST_PROXY: otherwise any client picks its own address.
  app.set('trust proxy', deps.trustProxy ?? false);
  app.use(
    pinoHttp({
      logger: deps.logger,
      autoLogging: { ignore: (req) => req.url === '/healthz' || req.url === '/readyz' || req.url === '/metrics' },
      // Request logs carry headers: bearer secrets, session cookies and signatures must not reach them.
      serializers: { req: redactSecretHeaders, res: redactSecretHeaders, err: errorSerializers.err },
    }),
  );
  app.use(makeHealthRouter(deps.health));
  if (deps.ops) app.use(makeOpsRouter(deps.ops));
  // Before the management API: /api/dispatch has its own authentication, not API tokens.
  if (deps.twilio) app.use(makeTwilioRouter(deps.twilio));
  if (deps.dispatch) app.use(makeDispatchRouter(deps.dispatch));
  if (deps.livekitWebhook) app.use(makeLivekitWebhookRouter(deps.livekitWebhook));
  if (deps.scorecardApi) app.use('/api/scorecards', makeScorecardsRouter(deps.scorecardApi));
  if (deps.managementApi) app.use('/api', makeManagementApiRouter(deps.managementApi));
  if (deps.web) app.use(deps.web);
  return app;
}
