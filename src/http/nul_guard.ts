// PostgreSQL cannot store a NUL character in text or jsonb: one in a request used to reach the
// database and come back as a 500. Every edge that parses a body refuses it first, naming the field.
import type { Request, RequestHandler } from 'express';

const MAX_DEPTH = 20;

/** The dotted path of the first string (or object key) holding a NUL character, or null. */
export function fieldWithNul(value: unknown, path = '', depth = 0): string | null {
  if (typeof value === 'string') return value.includes('\u0000') ? path || '(body)' : null;
  if (value === null || typeof value !== 'object' || depth > MAX_DEPTH) return null;
  for (const [key, inner] of Object.entries(value)) {
    const innerPath = path ? `${path}.${key}` : key;
    if (key.includes('\u0000')) return innerPath;
    const found = fieldWithNul(inner, innerPath, depth + 1);
    if (found !== null) return found;
  }
  return null;
}

/** The field of the request's body or query string that holds a NUL character, if any. */
export function nulFieldOf(req: Request): string | null {
  const inBody = fieldWithNul(req.body);
  if (inBody !== null) return inBody;
  const inQuery = fieldWithNul(req.query);
  return inQuery === null ? null : `query.${inQuery}`;
}

/** Middleware: `reject(field)` answers in the edge's own error shape. */
export function refuseNul(reject: (req: Parameters<RequestHandler>[0], res: Parameters<RequestHandler>[1], field: string) => void): RequestHandler {
  return (req, res, next) => {
    const field = nulFieldOf(req);
    if (field === null) return next();
    reject(req, res, field);
  };
}
