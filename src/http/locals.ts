// What the guards put in `res.locals` (the web view's requireViewer, the API's bearer auth), typed
// once, and read through accessors instead of `res.locals.actor!`: a route mounted without its
// guard fails loudly here rather than acting for nobody.
import type { Response } from 'express';
import type { Actor } from '../domain/access.js';
import type { Viewer } from './web/layout.js';

declare module 'express-serve-static-core' {
  interface Locals {
    /** The signed-in person, as the web view shows them (web view only). */
    viewer?: Viewer;
    /** Who is acting, for the use cases' access rules (web view and API). */
    actor?: Actor;
  }
}

function required<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`no ${what} in res.locals: the route is missing its guard`);
  return value;
}

export const actorOf = (res: Response): Actor => required(res.locals.actor, 'actor');
export const viewerOf = (res: Response): Viewer => required(res.locals.viewer, 'viewer');
