import { Router } from 'express';
import { listAudit } from '../../app/audit.js';
import { type AppDeps, pageOf, parsePage } from '../../app/use_case.js';
import { actorOf } from './auth.js';

export function makeAuditRouter(deps: AppDeps): Router {
  const router = Router();
  router.get('/', async (req, res) => {
    const paging = parsePage(req.query);
    res.json(pageOf(await listAudit(deps, actorOf(res), req.query, paging), paging));
  });
  return router;
}
