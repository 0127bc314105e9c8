// The four routes every managed resource has under /api (list with paging, create, read, patch),
// over its use cases. The use cases parse and check everything; a route only passes the actor, the
// id from the path and the body.
import { Router, type Request } from 'express';
import type { PageRequest } from '../../app/use_case.js';
import { pageOf, parsePage } from '../../app/use_case.js';
import type { Actor } from '../../domain/access.js';
import { actorOf } from '../locals.js';

export interface ResourceUseCases {
  list(actor: Actor, req: Request, paging: PageRequest): Promise<unknown[]>;
  create(actor: Actor, body: unknown): Promise<unknown>;
  get(actor: Actor, id: string): Promise<unknown>;
  update(actor: Actor, input: Record<string, unknown> & { id: string }): Promise<unknown>;
  /** The created resource carries a secret (a PIN): keep the response out of every cache. */
  secretOnCreate?: boolean;
}

/** The id comes from the path; a non-object body is left for the schema to reject by name. */
export function bodyObject(body: unknown): Record<string, unknown> {
  return typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
}

export function makeResourceRouter(useCases: ResourceUseCases): Router {
  const router = Router();
  router.get('/', async (req, res) => {
    const paging = parsePage(req.query);
    res.json(pageOf(await useCases.list(actorOf(res), req, paging), paging));
  });
  router.post('/', async (req, res) => {
    const created = await useCases.create(actorOf(res), req.body);
    if (useCases.secretOnCreate) res.set('Cache-Control', 'no-store');
    res.status(201).json(created);
  });
  router.get('/:id', async (req, res) => {
    res.json(await useCases.get(actorOf(res), req.params.id));
  });
  router.patch('/:id', async (req, res) => {
    res.json(await useCases.update(actorOf(res), { ...bodyObject(req.body), id: req.params.id }));
  });
  return router;
}

/** `?includeArchived=true` on the personas and scenarios lists. */
export const includeArchived = (req: Request) => ({ includeArchived: req.query.includeArchived === 'true' });
