// The server-rendered web view: sessions, CSRF, security headers, then the pages. It adds no
// business rules of its own: every page calls the same use cases as the JSON API.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import express, { type ErrorRequestHandler, type Router } from 'express';
import helmet from 'helmet';
import { isDatabaseUnavailable } from '../../adapters/db/pg_errors.js';
import { isDomainError } from '../../domain/errors.js';
import { viewerOf } from '../locals.js';
import { refuseNul } from '../nul_guard.js';
import { addAssignmentRoutes } from './assignment_pages.js';
import { addAuthRoutes, homeOf, requireViewer } from './auth.js';
import { addCallRoutes, type LiveStreams } from './call_pages.js';
import { addRecordingRoutes } from './recording_pages.js';
import { addRepDataRoutes } from './rep_data_pages.js';
import { html } from './html.js';
import { page } from './layout.js';
import { addPersonaRoutes } from './persona_pages.js';
import { addPracticeBundleRoute } from './practice_bundle.js';
import { addRepRoutes } from './rep_pages.js';
import { addScenarioRoutes } from './scenario_pages.js';
import { createSessionMiddleware, csrf } from './session.js';
import { addUserRoutes } from './user_pages.js';
import type { WebDeps } from './web_deps.js';

export type { WebDeps } from './web_deps.js';

// Beside this file under tsx; from dist/ (tsc copies no assets) the source folder is used.
const staticDir = [new URL('./static/', import.meta.url), new URL('../../../../src/http/web/static/', import.meta.url)]
  .map((url) => fileURLToPath(url))
  .find((dir) => existsSync(dir))!;

/** The LiveKit server the practice page talks to: its WebSocket and, for LiveKit Cloud, its HTTPS API. */
function livekitOrigins(url: string | undefined): string[] {
  if (!url) return [];
  const parsed = new URL(url);
  const secure = parsed.protocol === 'wss:' || parsed.protocol === 'https:';
  return [`${secure ? 'wss' : 'ws'}://${parsed.host}`, `${secure ? 'https' : 'http'}://${parsed.host}`];
}

export function makeWebRouter(deps: WebDeps): { router: Router; close(): Promise<void> } {
  const router = express.Router();
  const https = deps.publicBaseUrl.startsWith('https:');

  router.use(
    helmet({
      contentSecurityPolicy: {
        directives: {
          defaultSrc: ["'self'"],
          scriptSrc: ["'self'"],
          styleSrc: ["'self'"],
          imgSrc: ["'self'", 'data:'],
          connectSrc: ["'self'", ...livekitOrigins(deps.practice?.livekitUrl)],
          formAction: ["'self'"],
          frameAncestors: ["'none'"],
          objectSrc: ["'none'"],
          baseUri: ["'none'"],
          // Over plain http (local runs) upgrading would break every sub-resource.
          upgradeInsecureRequests: https ? [] : null,
        },
      },
      strictTransportSecurity: https,
      referrerPolicy: { policy: 'same-origin' },
    }),
  );
  router.use('/static', express.static(staticDir, { maxAge: '1h', index: false }));
  addPracticeBundleRoute(router);

  const sessions = createSessionMiddleware({
    pool: deps.pool,
    secret: deps.sessionSecret,
    publicBaseUrl: deps.publicBaseUrl,
    pruneExpired: deps.pruneExpiredSessions ?? true,
  });
  router.use(sessions.middleware);
  router.use(express.urlencoded({ extended: false, limit: '200kb' }));
  router.use(
    refuseNul((_req, res, field) => {
      const body = html`<h1>Not accepted</h1><p>The field “${field}” contains a NUL character, which cannot be stored. Go back, remove it and try again.</p>`;
      res.status(400).type('html').send(page({ title: 'Not accepted', viewer: null, body }).toString());
    }),
  );
  router.use((_req, res, next) => {
    // Pages show call data and one-time PINs: never keep them in a shared cache or the back/forward cache.
    res.set('Cache-Control', 'no-store');
    next();
  });

  const guard = requireViewer(deps);
  const repsToo = requireViewer(deps, { reps: true });
  const protect = csrf.csrfSynchronisedProtection;

  addAuthRoutes(router, deps, guard, repsToo, protect);
  router.get('/', repsToo, (_req, res) => res.redirect(303, homeOf(viewerOf(res).role)));
  const liveStreams: LiveStreams = new Set();
  addCallRoutes(router, deps, guard, repsToo, liveStreams, protect);
  addRecordingRoutes(router, deps, repsToo);
  addRepRoutes(router, deps, guard, repsToo, protect);
  addAssignmentRoutes(router, deps, guard, protect);
  addScenarioRoutes(router, deps, guard, protect);
  addPersonaRoutes(router, deps, guard, protect);
  addUserRoutes(router, deps, guard, protect);
  addRepDataRoutes(router, deps, guard, protect);

  router.use((req, res) => {
    res.status(404).type('html').send(page({ title: 'Not found', viewer: res.locals.viewer ?? null, body: html`<h1>Not found</h1><p>There is nothing at ${req.path}.</p><p><a href="/">Home</a></p>` }).toString());
  });

  const onError: ErrorRequestHandler = (error: unknown, req, res, next) => {
    if (res.headersSent) return next(error);
    const viewer = res.locals.viewer ?? null;
    const reply = (status: number, title: string, message: string) =>
      res.status(status).type('html').send(page({ title, viewer, body: html`<h1>${title}</h1><p>${message}</p><p><a href="/">Home</a></p>` }).toString());
    if ((error as { code?: unknown }).code === 'EBADCSRFTOKEN') {
      deps.logger.warn({ path: req.path }, 'web form refused: bad csrf token');
      return reply(403, 'Form expired', 'This form was not accepted: reload the page and submit it again.');
    }
    if (isDomainError(error)) {
      // Ids of other teams' rows are "not found", never "forbidden", so they do not leak.
      if (error.code === 'not_found' || error.code === 'invalid_input') return reply(404, 'Not found', 'There is nothing here, or it is not yours to see.');
      if (error.code === 'forbidden') return reply(403, 'Not allowed', 'Your role may not do this.');
      if (error.code === 'conflict') return reply(409, 'Not possible', `${error.message}.`);
    }
    deps.logger.error({ err: error, path: req.path }, 'web view error');
    if (isDatabaseUnavailable(error)) return reply(503, 'Try again shortly', 'The database cannot be reached right now.');
    return reply(500, 'Something went wrong', 'The error has been logged. Try again in a moment.');
  };
  router.use(onError);

  return {
    router,
    /** Ends open live streams (so the HTTP server can close) and stops session pruning. */
    async close() {
      for (const stop of liveStreams) stop();
      liveStreams.clear();
      await sessions.close();
    },
  };
}
