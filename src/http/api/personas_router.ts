import { Router } from 'express';
import { createPersona, getPersona, listPersonas, updatePersona, type PersonaDeps } from '../../app/personas.js';
import { type AppDeps, pageOf, parsePage } from '../../app/use_case.js';
import { actorOf } from './auth.js';
import { bodyObject } from './users_router.js';

export function makePersonasRouter(deps: AppDeps & PersonaDeps): Router {
  const router = Router();
  router.get('/', async (req, res) => {
    const paging = parsePage(req.query);
    res.json(pageOf(await listPersonas(deps, actorOf(res), { includeArchived: req.query.includeArchived === 'true' }, paging), paging));
  });
  router.post('/', async (req, res) => {
    res.status(201).json(await createPersona(deps, actorOf(res), req.body));
  });
  router.get('/:id', async (req, res) => {
    res.json(await getPersona(deps, actorOf(res), req.params.id));
  });
  router.patch('/:id', async (req, res) => {
    res.json(await updatePersona(deps, actorOf(res), { ...bodyObject(req.body), id: req.params.id }));
  });
  return router;
}
