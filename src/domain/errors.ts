// The one error family of the domain and use cases. Edges translate `code` into their own terms
// (an HTTP status, a CLI exit message); nothing below the edges knows about HTTP.
import type { ZodError } from 'zod';

export type DomainErrorCode = 'not_found' | 'forbidden' | 'conflict' | 'invalid_input';

export class DomainError extends Error {
  constructor(
    readonly code: DomainErrorCode,
    message: string,
    /** Offending input fields by dotted path, e.g. { 'rubric.1.weight': 'must be greater than 0' }. */
    readonly fields: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export const notFound = (what: string) => new DomainError('not_found', `${what} not found`);
export const forbidden = (message = 'not allowed') => new DomainError('forbidden', message);
export const conflict = (message: string, fields: Record<string, string> = {}) => new DomainError('conflict', message, fields);
export const invalidInput = (message: string, fields: Record<string, string> = {}) =>
  new DomainError('invalid_input', message, fields);

export const isDomainError = (error: unknown): error is DomainError => error instanceof DomainError;

/**
 * Zod issues as `{ 'rubric.1.weight': 'message' }`, the `fields` of an invalid_input error; the
 * first message per path wins, and an issue about the whole value is keyed '(body)'.
 */
export function fieldsOf(error: ZodError): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const issue of error.issues) {
    const path = issue.path.map(String).join('.') || '(body)';
    fields[path] ??= issue.message;
  }
  return fields;
}
