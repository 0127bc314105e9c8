import { Router } from 'express';
import {
  createAssignment,
  getAssignment,
  listAssignments,
  revokeAssignment,
  rotateAssignmentPin,
  updateAssignment,
} from '../../app/assignments.js';
import { type AppDeps, pageOf, parsePage } from '../../app/use_case.js';
import { actorOf } from './auth.js';
import { bodyObject } from './users_router.js';

export function makeAssignmentsRouter(deps: AppDeps): Router {
  const router = Router();
  router.get('/', async (req, res) => {
    const paging = parsePage(req.query);
    res.json(pageOf(await listAssignments(deps, actorOf(res), req.query, paging), paging));
  });
  // The PIN is in this response and nowhere else, ever: keep it out of every cache.
  router.post('/', async (req, res) => {
    const issued = await createAssignment(deps, actorOf(res), req.body);
    res.status(201).set('Cache-Control', 'no-store').json(issued);
  });
  router.get('/:id', async (req, res) => {
    res.json(await getAssignment(deps, actorOf(res), req.params.id));
  });
  router.patch('/:id', async (req, res) => {
    res.json(await updateAssignment(deps, actorOf(res), { ...bodyObject(req.body), id: req.params.id }));
  });
  router.post('/:id/rotate-pin', async (req, res) => {
    const issued = await rotateAssignmentPin(deps, actorOf(res), req.params.id);
    res.set('Cache-Control', 'no-store').json(issued);
  });
  router.post('/:id/revoke', async (req, res) => {
    res.json(await revokeAssignment(deps, actorOf(res), req.params.id));
  });
  return router;
}
