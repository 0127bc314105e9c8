import { Router } from 'express';
import { createApiToken, listApiTokens, revokeApiToken } from '../../app/api_tokens.js';
import { type AppDeps, pageOf, parsePage } from '../../app/use_case.js';
import { actorOf } from './auth.js';

export function makeTokensRouter(deps: AppDeps): Router {
  const router = Router();
  router.get('/', async (req, res) => {
    const paging = parsePage(req.query);
    res.json(pageOf(await listApiTokens(deps, actorOf(res), paging), paging));
  });
  router.post('/', async (req, res) => {
    res.status(201).set('Cache-Control', 'no-store').json(await createApiToken(deps, actorOf(res), req.body));
  });
  router.post('/:id/revoke', async (req, res) => {
    res.json(await revokeApiToken(deps, actorOf(res), req.params.id));
  });
  return router;
}
