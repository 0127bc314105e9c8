// Users: admins manage everyone; a manager sees their own reps here and sends them sign-in invites.
import type { NextFunction, Request, RequestHandler, Response, Router } from 'express';
import { inviteRep } from '../../app/sign_in.js';
import { createUser, getUser, listUsers, updateUser, type CreateUserInput, type PublicUser, type UpdateUserInput } from '../../app/users.js';
import { forbidden } from '../../domain/errors.js';
import { actorOf } from '../locals.js';
import { html } from './html.js';
import { checked, redirectWithNotice, lines, optional, str, type FormBody } from './forms.js';
import { checkboxField, csrfField, formError, inputField, selectField, textareaField, type FieldErrors } from './layout.js';
import { addResourcePages } from './resource_pages.js';
import { csrfTokenOf } from './session.js';
import { repDataPath } from './rep_data_pages.js';
import { signInDeps, type WebDeps } from './web_deps.js';

const adminOnly: RequestHandler = (_req: Request, res: Response, next: NextFunction) => {
  if (res.locals.viewer?.role !== 'admin') throw forbidden('only an admin manages users');
  next();
};

// Raw form values; the use case's zod schema checks them.
interface UserForm {
  role?: string;
  name?: string;
  email?: string;
  managerId?: string | null;
  phoneNumbers?: string[];
  password?: string | undefined;
  active?: boolean;
}

export function addUserRoutes(router: Router, deps: WebDeps, guard: RequestHandler, protect: RequestHandler): void {
  const userFields = (values: UserForm, errors: FieldErrors, managers: PublicUser[], editing: boolean) => html`
    ${editing ? '' : selectField({ label: 'Role', name: 'role', value: values.role ?? 'rep', options: ['rep', 'manager', 'admin'].map((r) => ({ value: r, label: r })), errors })}
    ${inputField({ label: 'Name', name: 'name', value: values.name, required: true, errors })}
    ${inputField({ label: 'Email', name: 'email', type: 'email', value: values.email, required: true, errors })}
    ${values.role === 'rep' || !editing
      ? selectField({ label: 'Manager (reps only)', name: 'managerId', value: values.managerId ?? '', blank: 'None', options: managers.map((m) => ({ value: m.id, label: m.name })), errors })
      : ''}
    ${textareaField({ label: 'Phone numbers (reps)', name: 'phoneNumbers', value: (values.phoneNumbers ?? []).join('\n'), errors, rows: 2, hint: 'E.164, one per line, e.g. +15550100001. Used to recognise a rep who dials an extension.' })}
    ${values.role === 'rep' && editing
      ? ''
      : inputField({ label: editing ? 'New password (leave empty to keep)' : 'Password (admins and managers)', name: 'password', type: 'password', errors, hint: 'At least 12 characters. Reps have no password: they sign in by emailed link.', attrs: html` autocomplete="new-password"` })}
    ${editing ? checkboxField({ label: 'Active', name: 'active', checked: values.active !== false }) : ''}`;

  const fromForm = (form: FormBody, editing: boolean): UserForm => ({
    ...(editing ? {} : { role: str(form, 'role') }),
    name: str(form, 'name'),
    email: str(form, 'email'),
    managerId: optional(form, 'managerId') ?? null,
    phoneNumbers: lines(form, 'phoneNumbers'),
    password: optional(form, 'password'),
    ...(editing ? { active: checked(form, 'active') } : {}),
  });

  router.post('/users/:id/invite', guard, protect, async (req, res) => {
    const sent = await inviteRep(signInDeps(deps), actorOf(res), String(req.params.id));
    await redirectWithNotice(req, res, '/users', `Sign-in invite sent to ${sent.email}.`);
  });

  addResourcePages<PublicUser, UserForm>(router, guard, protect, {
    path: '/users',
    section: 'users',
    emptyForm: () => ({}),
    fromForm,
    createGuards: [adminOnly],
    itemGuards: [adminOnly],

    async list(req, res, values, errors) {
      const actor = actorOf(res);
      const rows = await listUsers(deps.app, actor, { includeInactive: true });
      const managers = rows.filter((u) => u.role === 'manager' && u.active);
      const managerName = new Map(rows.map((u) => [u.id, u.name]));
      const isAdmin = actor.role === 'admin';
      const invite = (u: PublicUser) =>
        u.role === 'rep' && u.active
          ? html`<form method="post" action="/users/${u.id}/invite" class="inline">${csrfField(csrfTokenOf(req))}<button type="submit" class="link">Email sign-in invite</button></form>`
          : '';
      return {
        title: 'Users',
        body: html`<h1>Users</h1>
        <p class="muted">Reps sign in with an emailed link: send an invite, or they ask for a link on the sign-in page.</p>
        <div class="table-wrap"><table>
          <thead><tr><th>Name</th><th>Email</th><th>Role</th><th>Manager</th><th>Phones</th><th>Status</th><th>Web access</th></tr></thead>
          <tbody>${rows.map(
            (u) => html`<tr><td>${isAdmin ? html`<a href="/users/${u.id}">${u.name}</a>` : u.name}</td><td>${u.email}</td><td>${u.role}</td><td>${u.managerId ? (managerName.get(u.managerId) ?? '—') : '—'}</td><td>${u.phoneNumbers.join(', ')}</td><td>${u.active ? 'active' : 'inactive'}</td><td>${invite(u)}</td></tr>`,
          )}</tbody>
        </table></div>
        ${isAdmin
          ? html`<h2>New user</h2>
        <form method="post" action="/users" class="card">${formError(errors)}${csrfField(csrfTokenOf(req))}${userFields(values, errors, managers, false)}<button type="submit">Create user</button></form>`
          : ''}`,
      };
    },

    async create(req, res, values) {
      const input = { ...values, managerId: values.role === 'rep' ? values.managerId : null };
      const user = await createUser(deps.app, actorOf(res), input as CreateUserInput);
      await redirectWithNotice(req, res, '/users', `User ${user.name} created.`);
    },

    load: (_req, res, id) => getUser(deps.app, actorOf(res), id),
    valuesOf: (user) => ({ ...user }),

    async edit(req, res, user, values, errors) {
      const managers = (await listUsers(deps.app, actorOf(res), { role: 'manager' })).filter((m) => m.active);
      return {
        title: user.name,
        body: html`<p><a href="/users">← Users</a></p><h1>${user.name} <small>${user.role}</small></h1>
        <form method="post" action="/users/${user.id}" class="card">${formError(errors)}${csrfField(csrfTokenOf(req))}${userFields({ ...values, role: user.role }, errors, managers, true)}<button type="submit">Save</button></form>
        ${user.role === 'rep' ? html`<p><a href="${repDataPath(user.id)}">Export or delete this rep's data</a></p>` : ''}`,
      };
    },

    async update(req, res, user, values) {
      const { managerId, password, ...rest } = values;
      const input = {
        id: user.id,
        ...rest,
        ...(user.role === 'rep' ? { managerId } : {}),
        ...(password !== undefined ? { password } : {}),
      };
      await updateUser(deps.app, actorOf(res), input as UpdateUserInput);
      await redirectWithNotice(req, res, '/users', `User ${values.name ?? user.name} saved.`);
    },
  });
}
