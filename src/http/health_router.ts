import { Router } from 'express';
import type { Integration, IntegrationStatus } from '../config.js';

export interface HealthDeps {
  pingDatabase(): Promise<boolean>;
  integrations: Record<Integration, IntegrationStatus>;
}

/** Liveness plus what a newcomer needs to know: is the database up, which keys are still missing. */
export function makeHealthRouter(deps: HealthDeps): Router {
  const router = Router();
  router.get('/healthz', async (_req, res) => {
    const databaseUp = await deps.pingDatabase();
    res.status(databaseUp ? 200 : 503).json({
      status: databaseUp ? 'ok' : 'degraded',
      database: { reachable: databaseUp },
      integrations: deps.integrations,
    });
  });
  return router;
}
