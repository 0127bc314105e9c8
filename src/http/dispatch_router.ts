// POST /api/dispatch/resolve (docs/architecture.md, "Second path"): the persona agent on the direct trunk
// posts what the caller keyed. POST /api/dispatch/job-ended: the agent worker says a room's job
// process exited (app/agent_lost.ts). Never open: a shared secret, or a LiveKit token (signed with
// the API secret) granting roomAdmin on exactly the room in the body.
import { timingSafeEqual } from 'node:crypto';
import type { z } from 'zod';
import express, { Router, type NextFunction, type Request, type Response } from 'express';
import type { Logger } from '../adapters/logger.js';
import { nowOf } from '../app/ports.js';
import { hangUpLostAgentCall } from '../app/agent_lost.js';
import { routeSipCall, type CallRoutingDeps } from '../app/resolve_call.js';
import { parseInput } from '../app/use_case.js';
import { callPrompts, lineLanguage, type LineLanguages, lockedOutLine, refusalLine } from '../domain/call_prompts.js';
import { dispatchResolveRequestSchema, type DispatchResolveResponse, jobEndedRequestSchema } from '../domain/dispatch_resolve.js';
import { apiErrorHandler, sendError } from './api/errors.js';
import type { VerifyLivekitToken } from './verifiers.js';

export interface DispatchRouterDeps {
  sharedSecret: string | undefined;
  /** Accepts LiveKit tokens signed with our API secret; null when LiveKit is not configured. */
  verifyLivekitToken: VerifyLivekitToken | null;
  /** Null when LiveKit is not configured: there is no room to write metadata into. */
  routing: CallRoutingDeps | null;
  /** LINE_LANGUAGES: the language of each called number before a scenario is known (decision 017). */
  lineLanguages?: LineLanguages;
  logger: Logger;
}

const sameSecret = (given: string, expected: string): boolean => {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
};

type Caller = { kind: 'shared_secret' } | { kind: 'livekit_token'; room: string | undefined; roomAdmin: boolean };

async function authenticate(deps: DispatchRouterDeps, header: string | undefined): Promise<Caller | null> {
  const match = /^Bearer\s+(\S+)$/i.exec(header ?? '');
  if (!match) return null;
  const token = match[1]!;
  if (deps.sharedSecret && sameSecret(token, deps.sharedSecret)) return { kind: 'shared_secret' };
  if (deps.verifyLivekitToken && token.split('.').length === 3) {
    try {
      const claims = await deps.verifyLivekitToken(token);
      return { kind: 'livekit_token', room: claims.room, roomAdmin: claims.roomAdmin };
    } catch {
      return null;
    }
  }
  return null;
}

export function makeDispatchRouter(deps: DispatchRouterDeps): Router {
  const router = Router();

  const requireAuth = async (req: Request, res: Response, next: NextFunction) => {
    if (!deps.sharedSecret && !deps.verifyLivekitToken) {
      sendError(res, 503, 'not_configured', 'set DISPATCH_SHARED_SECRET or the LiveKit keys to enable this endpoint');
      return;
    }
    const caller = await authenticate(deps, req.header('Authorization'));
    if (!caller) {
      res.setHeader('WWW-Authenticate', 'Bearer');
      sendError(res, 401, 'unauthorized', 'a valid bearer token is required');
      return;
    }
    res.locals.caller = caller;
    next();
  };

  /**
   * POST `path` with a JSON body naming a room. A bad body is an invalid_input error naming its
   * fields (apiErrorHandler below). A LiveKit token must grant roomAdmin on exactly that room (the
   * shared secret may act on any), and LiveKit must be configured; otherwise 403 or 503.
   */
  const roomRoute = <S extends z.ZodType<{ roomName: string }>>(
    path: string,
    schema: S,
    limit: string,
    handle: (req: Request, res: Response, input: z.output<S>, routing: CallRoutingDeps) => Promise<void>,
  ) =>
    router.post(path, requireAuth, express.json({ limit, type: () => true }), async (req: Request, res: Response) => {
      const input = parseInput(schema, req.body ?? {});
      const caller = res.locals.caller as Caller;
      if (caller.kind === 'livekit_token' && (!caller.roomAdmin || caller.room !== input.roomName)) {
        sendError(res, 403, 'forbidden', 'the token must grant roomAdmin on the room in the body');
        return;
      }
      if (!deps.routing) {
        sendError(res, 503, 'not_configured', 'LiveKit is not configured');
        return;
      }
      await handle(req, res, input, deps.routing);
    });

  roomRoute('/api/dispatch/resolve', dispatchResolveRequestSchema, '16kb', async (req, res, input, routing) => {
    let body: DispatchResolveResponse;
    const line = lineLanguage(deps.lineLanguages, input.calledNumber);
    try {
      const outcome = await routeSipCall(routing, input);
      switch (outcome.kind) {
        case 'connected':
          body = { outcome: 'ok', callId: outcome.callId, metadata: outcome.metadata };
          break;
        case 'refused': {
          const language = outcome.scenarioLanguage ?? line;
          body = { outcome: 'refused', reason: outcome.failure.kind, say: refusalLine(outcome.failure, language), retry: true, language };
          break;
        }
        case 'locked_out': {
          const language = outcome.scenarioLanguage ?? line;
          body = { outcome: 'refused', reason: 'locked_out', say: lockedOutLine(outcome.until, nowOf(routing), language), retry: false, language };
          break;
        }
        case 'unavailable':
          body = { outcome: 'refused', reason: 'unavailable', say: callPrompts(line).unavailable, retry: false, language: line };
          break;
      }
      req.log?.info({ roomName: input.roomName, outcome: body.outcome, ...(body.outcome === 'refused' ? { reason: body.reason } : {}), pii: { from: input.callerNumber } }, 'direct-trunk call resolved');
    } catch (error) {
      deps.logger.error({ err: error, roomName: input.roomName }, 'resolving a direct-trunk call failed');
      body = { outcome: 'refused', reason: 'unavailable', say: callPrompts(line).unavailable, retry: false, language: line };
    }
    res.status(200).json(body);
  });

  roomRoute('/api/dispatch/job-ended', jobEndedRequestSchema, '4kb', async (req, res, input, routing) => {
    const { db, onCallEnded, logger, rooms } = routing;
    const result = await hangUpLostAgentCall({ db, onCallEnded, logger, rooms }, { roomName: input.roomName, at: nowOf(routing), trigger: 'agent_worker' });
    req.log?.info({ roomName: input.roomName, ...(result.found ? { callId: result.callId, status: result.status, changed: result.changed } : { found: false }) }, 'agent job ended');
    res.status(200).json(result.found ? { found: true, callId: result.callId, status: result.status, changed: result.changed } : { found: false });
  });

  // Bad bodies (unreadable JSON, invalid fields) answer in the one JSON error body.
  router.use('/api/dispatch', apiErrorHandler);

  return router;
}
