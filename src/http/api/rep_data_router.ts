// Admin API for a rep's data: POST /reps/:id/export streams the zip; POST /reps/:id/delete-data
// deletes it all. Both take {"confirmEmail": "<the rep's email>"}.
import { Router } from 'express';
import { deleteRepData, exportRepData } from '../../app/rep_data.js';
import type { AppDeps } from '../../app/use_case.js';
import { actorOf } from './auth.js';
import { bodyObject } from './resource_router.js';

const confirmEmailOf = (body: unknown): string => {
  const value = bodyObject(body).confirmEmail;
  return typeof value === 'string' ? value : '';
};

export function makeRepDataRouter(deps: AppDeps): Router {
  const router = Router();
  router.post('/:id/export', async (req, res) => {
    const exported = await exportRepData(deps, actorOf(res), { id: req.params.id, confirmEmail: confirmEmailOf(req.body) });
    res.setHeader('Content-Type', 'application/zip');
    res.setHeader('Content-Disposition', `attachment; filename="${exported.filename}"`);
    res.setHeader('Cache-Control', 'no-store');
    exported.archive.pipe(res);
  });
  router.post('/:id/delete-data', async (req, res) => {
    res.json(await deleteRepData(deps, actorOf(res), { id: req.params.id, confirmEmail: confirmEmailOf(req.body) }));
  });
  return router;
}
