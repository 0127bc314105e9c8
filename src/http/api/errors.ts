// The one error body of every JSON edge (the management API under /api, /api/dispatch/resolve,
// /livekit/webhook): a status and `{ error: { code, message, fields: { path: message } } }`
// (README, "Errors at the JSON edges"). Domain errors, body-parser failures and an unreachable
// database are translated here; anything else is logged and answered 500.
import type { ErrorRequestHandler, Response } from 'express';
import { isDatabaseUnavailable } from '../../adapters/db/pg_errors.js';
import { isDomainError, type DomainErrorCode } from '../../domain/errors.js';
import { refuseNul } from '../nul_guard.js';

const statusOf: Record<DomainErrorCode, number> = {
  invalid_input: 400,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
};

export function sendError(res: Response, status: number, code: string, message: string, fields: Record<string, string> = {}): void {
  res.status(status).json({ error: { code, message, fields } });
}

function bodyParserFailure(error: unknown): { status: number; type: string } | null {
  const candidate = error as { status?: unknown; type?: unknown };
  if (typeof candidate?.status === 'number' && typeof candidate.type === 'string' && candidate.type.startsWith('entity.')) {
    return { status: candidate.status, type: candidate.type };
  }
  return null;
}

export const apiErrorHandler: ErrorRequestHandler = (error, req, res, next) => {
  if (res.headersSent) return next(error);
  if (isDomainError(error)) return sendError(res, statusOf[error.code], error.code, error.message, error.fields);
  const parser = bodyParserFailure(error);
  if (parser) {
    if (parser.type === 'entity.parse.failed') return sendError(res, 400, 'invalid_json', 'the request body is not valid JSON', { '(body)': 'not valid JSON' });
    if (parser.type === 'entity.too.large') return sendError(res, 413, 'too_large', 'the request body is too large');
    return sendError(res, parser.status, 'bad_request', 'the request body could not be read');
  }
  // The logger's error serializer drops query parameters (adapters/logger.ts).
  req.log?.error({ err: error }, 'API request failed');
  if (isDatabaseUnavailable(error)) {
    res.set('Retry-After', '5');
    return sendError(res, 503, 'unavailable', 'the database is unreachable; try again shortly');
  }
  sendError(res, 500, 'internal', 'something went wrong; the error has been logged');
};

/** A NUL character in a body or query field: 400 naming the field (see nul_guard.ts). */
export const apiRefuseNul = refuseNul((_req, res, field) =>
  sendError(res, 400, 'invalid_input', `${field} contains a NUL character`, { [field]: 'contains a NUL character, which cannot be stored' }),
);
