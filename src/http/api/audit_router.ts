import { Router } from 'express';
import { listAudit } from '../../app/audit.js';
import type { AppDeps } from '../../app/use_case.js';
import { actorOf } from './auth.js';

export function makeAuditRouter(deps: AppDeps): Router {
  const router = Router();
  router.get('/', async (req, res) => {
    res.json({ items: await listAudit(deps, actorOf(res), req.query) });
  });
  return router;
}
