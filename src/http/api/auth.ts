import type { RequestHandler } from 'express';
import { authenticateApiToken } from '../../app/api_tokens.js';
import type { AppDeps } from '../../app/use_case.js';
import { sendError } from './errors.js';

/** Bearer API tokens (RFC 6750); the actor lands in res.locals for the routes after it. */
export function makeBearerAuth(deps: Pick<AppDeps, 'db' | 'now'>): RequestHandler {
  return async (req, res, next) => {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(req.get('authorization') ?? '');
    const actor = match?.[1] ? await authenticateApiToken(deps, match[1]) : null;
    if (!actor) {
      res.set('WWW-Authenticate', match ? 'Bearer error="invalid_token"' : 'Bearer');
      sendError(res, 401, 'unauthorized', match ? 'the API token is invalid or revoked' : 'send an API token as "Authorization: Bearer <token>"');
      return;
    }
    res.locals.actor = actor;
    next();
  };
}

export { actorOf } from '../locals.js';
