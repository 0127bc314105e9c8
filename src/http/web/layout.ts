// The page shell and small form helpers shared by every page of the web view.
import type { Response } from 'express';
import { canEditTeamContent } from '../../domain/access.js';
import { actorOf } from '../locals.js';
import { html, type HtmlValue, type SafeHtml } from './html.js';

export interface Viewer {
  id: string;
  name: string;
  email: string;
  role: 'admin' | 'manager' | 'rep';
}

export interface PageOptions {
  title: string;
  viewer?: Viewer | null;
  csrfToken?: string;
  /** Which top navigation entry is current. */
  section?: 'calls' | 'live' | 'personas' | 'scenarios' | 'assignments' | 'users' | 'account' | 'me';
  notice?: string | undefined;
  /** Extra elements for <head>, e.g. a no-JS refresh. */
  head?: SafeHtml;
  body: SafeHtml;
}

const staffNav = [
  { section: 'calls', href: '/calls', label: 'Calls' },
  { section: 'live', href: '/live', label: 'Live' },
  { section: 'assignments', href: '/assignments', label: 'Assignments' },
  { section: 'scenarios', href: '/scenarios', label: 'Scenarios' },
  { section: 'personas', href: '/personas', label: 'Personas' },
  { section: 'users', href: '/users', label: 'Users' },
  { section: 'account', href: '/account', label: 'Account' },
] as const;

const repNav = [
  { section: 'me', href: '/me', label: 'My practice' },
  { section: 'account', href: '/account', label: 'Account' },
] as const;

export const csrfField = (token: string | undefined): SafeHtml => html`<input type="hidden" name="_csrf" value="${token}">`;

export function page(options: PageOptions): SafeHtml {
  const { viewer } = options;
  const nav = viewer
    ? html`<nav aria-label="Main">
        <ul>
          ${(viewer.role === 'rep' ? repNav : staffNav)
            .map(
              (item) =>
                html`<li><a href="${item.href}"${item.section === options.section ? html` aria-current="page"` : ''}>${item.label}</a></li>`,
            )}
        </ul>
        <form method="post" action="/logout" class="logout">
          ${csrfField(options.csrfToken)}
          <span class="who">${viewer.name} · ${viewer.role}</span>
          <button type="submit" class="link">Log out</button>
        </form>
      </nav>`
    : '';
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${options.title} · Practice Line</title>
<link rel="stylesheet" href="/static/style.css">
${options.head}
</head>
<body>
<header class="top"><a class="brand" href="/">Practice Line</a>${nav}</header>
<main>
${options.notice ? html`<p class="notice" role="status">${options.notice}</p>` : ''}
${options.body}
</main>
</body>
</html>`;
}

/** Field errors keyed by form field name (forms.ts errorsFrom builds them from a use case's invalid_input). */
export type FieldErrors = Record<string, string>;

interface FieldOptions {
  label: string;
  name: string;
  value?: string | number | null | undefined;
  type?: string;
  required?: boolean;
  errors?: FieldErrors | undefined;
  hint?: HtmlValue;
  attrs?: SafeHtml;
}

const errorText = (name: string, errors: FieldErrors | undefined) => {
  const message = errors?.[name];
  return message ? html`<span class="error" id="${name}-error">${message}</span>` : '';
};

/** Hint and error are tied to the control, so a screen reader reads them with it. */
function describedBy(o: FieldOptions): SafeHtml | '' {
  const ids = [o.hint ? `${o.name}-hint` : '', o.errors?.[o.name] ? `${o.name}-error` : ''].filter(Boolean).join(' ');
  return html`${o.errors?.[o.name] ? html` aria-invalid="true"` : ''}${ids ? html` aria-describedby="${ids}"` : ''}`;
}

/** A label beside (not around) the control: its accessible name is the label alone. */
const fieldShell = (o: FieldOptions, control: SafeHtml) =>
  html`<div class="field"><label for="f-${o.name}">${o.label}</label>
    ${control}
    ${o.hint ? html`<small id="${o.name}-hint">${o.hint}</small>` : ''}${errorText(o.name, o.errors)}</div>`;

export function inputField(o: FieldOptions): SafeHtml {
  return fieldShell(
    o,
    html`<input name="${o.name}" id="f-${o.name}" type="${o.type ?? 'text'}" value="${o.value ?? ''}"${o.required ? html` required` : ''}${describedBy(o)}${o.attrs}>`,
  );
}

export function textareaField(o: FieldOptions & { rows?: number }): SafeHtml {
  return fieldShell(
    o,
    html`<textarea name="${o.name}" id="f-${o.name}" rows="${o.rows ?? 3}"${o.required ? html` required` : ''}${describedBy(o)}>${o.value ?? ''}</textarea>`,
  );
}

export function selectField(
  o: FieldOptions & { options: readonly { value: string; label: string }[]; blank?: string },
): SafeHtml {
  const current = o.value === null || o.value === undefined ? '' : String(o.value);
  return fieldShell(
    o,
    html`<select name="${o.name}" id="f-${o.name}"${o.required ? html` required` : ''}${describedBy(o)}>
      ${o.blank !== undefined ? html`<option value="">${o.blank}</option>` : ''}
      ${o.options.map((opt) => html`<option value="${opt.value}"${opt.value === current ? html` selected` : ''}>${opt.label}</option>`)}
    </select>`,
  );
}

export function checkboxField(o: { label: string; name: string; checked: boolean; hint?: HtmlValue }): SafeHtml {
  return html`<label class="check"><input type="checkbox" name="${o.name}" value="on"${o.checked ? html` checked` : ''}> ${o.label}${
    o.hint ? html` <small>${o.hint}</small>` : ''
  }</label>`;
}

export const formError = (errors: FieldErrors | undefined): SafeHtml =>
  errors?._form ? html`<p class="error" role="alert">${errors._form}</p>` : html``;

const dateTime = new Intl.DateTimeFormat('en-GB', {
  year: 'numeric',
  month: 'short',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  timeZone: 'UTC',
});

/** Times are shown in UTC: the server does not know the reader's zone and pages work without JS. */
export const formatTime = (value: Date | string | null | undefined): string =>
  value ? `${dateTime.format(new Date(value))} UTC` : '—';

export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined) return '—';
  const s = Math.round(seconds);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

export const statusBadge = (status: string): SafeHtml => html`<span class="badge status-${status}">${status.replace('_', ' ')}</span>`;

export function passBadge(passed: boolean | null | undefined): SafeHtml {
  if (passed === true) return html`<span class="badge pass">pass</span>`;
  if (passed === false) return html`<span class="badge fail">fail</span>`;
  return html`<span class="muted">—</span>`;
}

/** Another team's persona or scenario: shown, but every field and the save button disabled. */
export function readOnlyUnlessOwned(res: Response, teamManagerId: string | null, what: string, form: SafeHtml): SafeHtml {
  if (canEditTeamContent(actorOf(res), teamManagerId)) return form;
  return html`<p class="muted" id="read-only">Read-only: this ${what} belongs to ${teamManagerId === null ? 'the whole organisation (admins edit it)' : 'another team'}. You can still use it.</p><fieldset disabled class="read-only">${form}</fieldset>`;
}
