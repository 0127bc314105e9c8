// Assignments: a scenario given to a rep. Creating one or rotating its PIN shows the PIN exactly
// once, in that response; it is never stored in the session or anywhere else in plain text.
import type { Request, RequestHandler, Response, Router } from 'express';
import {
  createAssignment,
  getAssignment,
  listAssignments,
  revokeAssignment,
  rotateAssignmentPin,
  updateAssignment,
  type AssignmentView,
  type CreateAssignmentInput,
  type IssuedPin,
  type UpdateAssignmentInput,
} from '../../app/assignments.js';
import { listScenarios } from '../../app/scenarios.js';
import { listUsers } from '../../app/users.js';
import { actorOf } from '../locals.js';
import { html, type SafeHtml } from './html.js';
import { checked, redirectWithNotice, numeric, str, type FormBody } from './forms.js';
import { checkboxField, csrfField, formatTime, formError, inputField, selectField, type FieldErrors } from './layout.js';
import { addResourcePages, pageSender } from './resource_pages.js';
import { csrfTokenOf } from './session.js';
import type { WebDeps } from './web_deps.js';

/** A due date is a calendar day on the form; it falls due at the end of that day, UTC. */
function dueAtFromForm(form: FormBody): string | null {
  const day = str(form, 'dueAt').trim();
  if (!day) return null;
  return /^\d{4}-\d{2}-\d{2}$/.test(day) ? `${day}T23:59:59Z` : day;
}

const dueDay = (value: unknown): string => {
  if (value instanceof Date) return value.toISOString().slice(0, 10);
  return typeof value === 'string' ? value.slice(0, 10) : '';
};

// Raw form values; the use case's zod schema checks them.
interface AssignmentForm {
  repId?: string;
  scenarioId?: string;
  dueAt?: string | Date | null;
  enforceDueDate?: boolean;
  passMark?: number | string | undefined;
  maxAttempts?: number | string | null | undefined;
}

function fromForm(form: FormBody): AssignmentForm {
  return {
    repId: str(form, 'repId'),
    scenarioId: str(form, 'scenarioId'),
    dueAt: dueAtFromForm(form),
    enforceDueDate: checked(form, 'enforceDueDate'),
    passMark: numeric(form, 'passMark') ?? 70,
    maxAttempts: numeric(form, 'maxAttempts') ?? null,
  };
}

const statusText: Record<AssignmentView['status'], string> = { active: 'active', revoked: 'revoked', overdue: 'overdue', exhausted: 'no attempts left' };

function termsFields(values: AssignmentForm, errors: FieldErrors): SafeHtml {
  const text = (value: unknown) => (typeof value === 'string' || typeof value === 'number' ? value : '');
  return html`${inputField({ label: 'Due date (UTC, optional)', name: 'dueAt', type: 'date', value: dueDay(values.dueAt), errors })}
    ${checkboxField({ label: 'Refuse calls after the due date', name: 'enforceDueDate', checked: values.enforceDueDate === true, hint: 'Otherwise the due date is only a reminder.' })}
    ${inputField({ label: 'Pass mark (0-100)', name: 'passMark', type: 'number', value: text(values.passMark) === '' ? 70 : text(values.passMark), errors, attrs: html` min="0" max="100"` })}
    ${inputField({ label: 'Attempts allowed', name: 'maxAttempts', type: 'number', value: text(values.maxAttempts), errors, hint: 'Leave empty for unlimited.', attrs: html` min="1"` })}`;
}

export function addAssignmentRoutes(router: Router, deps: WebDeps, guard: RequestHandler, protect: RequestHandler): void {
  const send = pageSender('assignments');

  const pinPage = (req: Request, res: Response, issued: IssuedPin, what: string) => {
    const a = issued.assignment;
    send(req, res, {
      title: 'PIN',
      body: html`<h1>${what}</h1>
        <section class="card">
          <p>${a.rep.name} practises <strong>${a.scenario.title}</strong> with this PIN:</p>
          <p class="pin" id="pin">${issued.pin}</p>
          <p><strong>Copy it now.</strong> It is shown only this once; afterwards it can only be replaced (rotated), never read back.</p>
          <p><a href="/assignments">Back to assignments</a></p>
        </section>`,
    });
  };

  router.post('/assignments/:id/rotate', guard, protect, async (req, res) => {
    pinPage(req, res, await rotateAssignmentPin(deps.app, actorOf(res), String(req.params.id)), 'New PIN issued');
  });

  router.post('/assignments/:id/revoke', guard, protect, async (req, res) => {
    const a = await revokeAssignment(deps.app, actorOf(res), String(req.params.id));
    await redirectWithNotice(req, res, '/assignments', `Assignment of ${a.scenario.title} to ${a.rep.name} revoked; its PIN no longer works.`);
  });

  addResourcePages<AssignmentView, AssignmentForm>(router, guard, protect, {
    path: '/assignments',
    section: 'assignments',
    emptyForm: () => ({}),
    // Rep and scenario are fixed once assigned; an edit changes the terms only.
    fromForm: (form, editing) => {
      const values = fromForm(form);
      if (!editing) return values;
      const { repId: _repId, scenarioId: _scenarioId, ...terms } = values;
      return terms;
    },

    async list(req, res, values, errors) {
      const actor = actorOf(res);
      const includeRevoked = req.query.revoked === '1';
      const [rows, reps, scenarios] = await Promise.all([
        listAssignments(deps.app, actor, { includeRevoked }),
        listUsers(deps.app, actor, { role: 'rep' }),
        listScenarios(deps.app, actor),
      ]);
      const token = csrfTokenOf(req);
      return {
        title: 'Assignments',
        body: html`<h1>Assignments</h1>
        <p><a href="/assignments${includeRevoked ? '' : '?revoked=1'}">${includeRevoked ? 'Hide revoked' : 'Show revoked too'}</a></p>
        <div class="table-wrap"><table>
          <thead><tr><th>Rep</th><th>Scenario</th><th>Due</th><th class="num">Pass mark</th><th class="num">Attempts</th><th>Status</th><th>Actions</th></tr></thead>
          <tbody>${rows.map(
            (a) => html`<tr>
              <td>${a.rep.name}</td><td>${a.scenario.title}</td>
              <td>${a.dueAt ? html`${formatTime(a.dueAt)}${a.enforceDueDate ? html` <small>enforced</small>` : ''}` : '—'}</td>
              <td class="num">${a.passMark}</td>
              <td class="num">${a.attemptsUsed} / ${a.maxAttempts ?? '∞'}</td>
              <td>${statusText[a.status]}</td>
              <td class="actions">${a.revokedAt
                ? html`<span class="muted">revoked ${formatTime(a.revokedAt)}</span>`
                : html`<a href="/assignments/${a.id}">Edit</a>
                  <form method="post" action="/assignments/${a.id}/rotate" class="inline">${csrfField(token)}<button type="submit" class="secondary">New PIN</button></form>
                  <form method="post" action="/assignments/${a.id}/revoke" class="inline">${csrfField(token)}<button type="submit" class="danger">Revoke</button></form>`}</td>
            </tr>`,
          )}</tbody>
        </table></div>
        ${rows.length === 0 ? html`<p class="muted">No assignments yet.</p>` : ''}
        <h2>New assignment</h2>
        <form method="post" action="/assignments" class="card">
          ${formError(errors)}
          ${csrfField(token)}
          <div class="grid2"><div>
            ${selectField({ label: 'Rep', name: 'repId', value: values.repId, required: true, blank: 'Choose a rep', options: reps.map((r) => ({ value: r.id, label: `${r.name} (${r.email})` })), errors })}
            ${selectField({ label: 'Scenario', name: 'scenarioId', value: values.scenarioId, required: true, blank: 'Choose a scenario', options: scenarios.map((s) => ({ value: s.id, label: s.title })), errors })}
          </div><div>${termsFields(values, errors)}</div></div>
          <button type="submit">Create and show PIN</button>
        </form>`,
      };
    },

    // The PIN is shown in this response only: never stored in the session for a redirect.
    async create(req, res, values) {
      pinPage(req, res, await createAssignment(deps.app, actorOf(res), values as CreateAssignmentInput), 'Assignment created');
    },

    load: (_req, res, id) => getAssignment(deps.app, actorOf(res), id),
    valuesOf: (a) => a,

    async edit(req, _res, a, values, errors) {
      return {
        title: 'Assignment',
        body: html`<p><a href="/assignments">← Assignments</a></p>
        <h1>${a.scenario.title} — ${a.rep.name}</h1>
        <p>Attempts used: ${a.attemptsUsed}${a.maxAttempts === null ? '' : ` of ${a.maxAttempts}`}. Status: ${statusText[a.status]}.
        Created ${formatTime(a.createdAt)}${a.pinRotatedAt ? `, PIN last rotated ${formatTime(a.pinRotatedAt)}` : ''}.</p>
        <form method="post" action="/assignments/${a.id}" class="card">
          ${formError(errors)}
          ${csrfField(csrfTokenOf(req))}
          ${termsFields(values, errors)}
          <button type="submit">Save</button>
        </form>`,
      };
    },

    async update(req, res, a, terms) {
      await updateAssignment(deps.app, actorOf(res), { id: a.id, ...terms } as UpdateAssignmentInput);
      await redirectWithNotice(req, res, '/assignments', 'Assignment saved.');
    },
  });
}
