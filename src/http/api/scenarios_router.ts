import { Router } from 'express';
import { createScenario, getScenario, listScenarios, updateScenario } from '../../app/scenarios.js';
import { type AppDeps, pageOf, parsePage } from '../../app/use_case.js';
import { actorOf } from './auth.js';
import { bodyObject } from './users_router.js';

export function makeScenariosRouter(deps: AppDeps): Router {
  const router = Router();
  router.get('/', async (req, res) => {
    const paging = parsePage(req.query);
    res.json(pageOf(await listScenarios(deps, actorOf(res), { includeArchived: req.query.includeArchived === 'true' }, paging), paging));
  });
  router.post('/', async (req, res) => {
    res.status(201).json(await createScenario(deps, actorOf(res), req.body));
  });
  router.get('/:id', async (req, res) => {
    res.json(await getScenario(deps, actorOf(res), req.params.id));
  });
  router.patch('/:id', async (req, res) => {
    res.json(await updateScenario(deps, actorOf(res), { ...bodyObject(req.body), id: req.params.id }));
  });
  return router;
}
