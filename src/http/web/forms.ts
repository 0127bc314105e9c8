// Turning url-encoded form fields into use-case input, and use-case errors back into field errors.
// No validation lives here: the use cases parse their input with their own zod schemas.
import type { Request, Response } from 'express';
import { isDomainError } from '../../domain/errors.js';
import type { SafeHtml } from './html.js';
import type { FieldErrors } from './layout.js';

export type FormBody = Record<string, unknown>;

export const formOf = (req: Request): FormBody => (req.body ?? {}) as FormBody;

export function str(form: FormBody, name: string): string {
  const value = form[name];
  if (Array.isArray(value)) return typeof value[0] === 'string' ? value[0] : '';
  return typeof value === 'string' ? value : '';
}

/** Empty means "not given" on create. */
export const optional = (form: FormBody, name: string): string | undefined => str(form, name).trim() || undefined;

/** Empty means "clear it" on edit. */
export const nullable = (form: FormBody, name: string): string | null => str(form, name).trim() || null;

/** A number when the field parses as one; otherwise the raw text, so the schema reports it beside the field. */
export function numeric(form: FormBody, name: string): number | string | undefined {
  const raw = str(form, name).trim();
  if (raw === '') return undefined;
  const value = Number(raw);
  return Number.isFinite(value) ? value : raw;
}

export const lines = (form: FormBody, name: string): string[] =>
  str(form, name)
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '');

export const checked = (form: FormBody, name: string): boolean => str(form, name) === 'on';

/**
 * Invalid input and conflicts become messages beside the fields (dotted paths such as
 * `rubric.1.weight` are kept whole); anything else is rethrown for the error page.
 */
export function errorsFrom(error: unknown): FieldErrors {
  if (isDomainError(error) && (error.code === 'invalid_input' || error.code === 'conflict')) {
    const errors: FieldErrors = { ...error.fields };
    for (const [path, message] of Object.entries(error.fields)) {
      const head = path.split('.')[0];
      if (head) errors[head] ??= message;
    }
    if (errors['(body)']) errors._form = errors['(body)'];
    if (Object.keys(error.fields).length === 0) errors._form = error.message;
    return errors;
  }
  throw error;
}

export const sendHtml = (res: Response, body: SafeHtml, status = 200): void => {
  res.status(status).type('html').send(body.toString());
};

/**
 * express-session saves a changed session while the response is already on its way, so a browser
 * can follow a redirect before the notice is stored; save first, then redirect.
 */
export async function redirectWithNotice(req: Request, res: Response, url: string, notice: string): Promise<void> {
  req.session.notice = notice;
  await new Promise<void>((resolve, reject) => req.session.save((error: unknown) => (error ? reject(error as Error) : resolve())));
  res.redirect(303, url);
}
