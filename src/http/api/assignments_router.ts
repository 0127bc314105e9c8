import type { Router } from 'express';
import { createAssignment, getAssignment, listAssignments, revokeAssignment, rotateAssignmentPin, type CreateAssignmentInput, type UpdateAssignmentInput, updateAssignment } from '../../app/assignments.js';
import type { AppDeps } from '../../app/use_case.js';
import { actorOf } from '../locals.js';
import { makeResourceRouter } from './resource_router.js';

export function makeAssignmentsRouter(deps: AppDeps): Router {
  const router = makeResourceRouter({
    list: (actor, req, paging) => listAssignments(deps, actor, req.query, paging),
    create: (actor, body) => createAssignment(deps, actor, body as CreateAssignmentInput),
    get: (actor, id) => getAssignment(deps, actor, id),
    update: (actor, input) => updateAssignment(deps, actor, input as UpdateAssignmentInput),
    // The PIN is in this response and nowhere else, ever: keep it out of every cache.
    secretOnCreate: true,
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
