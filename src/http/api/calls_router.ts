import { Router } from 'express';
import { getCall, listCalls } from '../../app/calls.js';
import type { AppDeps } from '../../app/use_case.js';
import { actorOf } from './auth.js';

export function makeCallsRouter(deps: AppDeps): Router {
  const router = Router();
  router.get('/', async (req, res) => {
    res.json(await listCalls(deps, actorOf(res), req.query));
  });
  router.get('/:id', async (req, res) => {
    res.json(await getCall(deps, actorOf(res), req.params.id));
  });
  return router;
}
