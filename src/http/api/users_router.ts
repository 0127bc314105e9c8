import { Router } from 'express';
import { createUser, getUser, listUsers, updateUser } from '../../app/users.js';
import { type AppDeps, pageOf, parsePage } from '../../app/use_case.js';
import { actorOf } from './auth.js';

export function makeUsersRouter(deps: AppDeps): Router {
  const router = Router();
  router.get('/', async (req, res) => {
    const paging = parsePage(req.query);
    res.json(pageOf(await listUsers(deps, actorOf(res), req.query, paging), paging));
  });
  router.post('/', async (req, res) => {
    res.status(201).json(await createUser(deps, actorOf(res), req.body));
  });
  router.get('/:id', async (req, res) => {
    res.json(await getUser(deps, actorOf(res), req.params.id));
  });
  router.patch('/:id', async (req, res) => {
    res.json(await updateUser(deps, actorOf(res), { ...bodyObject(req.body), id: req.params.id }));
  });
  return router;
}

/** The id comes from the path; a non-object body is left for the schema to reject by name. */
export function bodyObject(body: unknown): Record<string, unknown> {
  return typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
}
