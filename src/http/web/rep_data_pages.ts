// Admin pages for a rep's data (src/app/rep_data.ts): /users/:id/data offers the export (one zip)
// and the deletion of everything about the rep, each confirmed by typing the rep's email.
import type { NextFunction, Request, RequestHandler, Response, Router } from 'express';
import { deleteRepData, exportRepData } from '../../app/rep_data.js';
import { getUser } from '../../app/users.js';
import { forbidden, isDomainError } from '../../domain/errors.js';
import { html, type SafeHtml } from './html.js';
import { formOf, sendHtml, str } from './forms.js';
import { csrfField, page } from './layout.js';
import { csrfTokenOf } from './session.js';
import type { WebDeps } from './web_deps.js';

const adminOnly: RequestHandler = (_req: Request, res: Response, next: NextFunction) => {
  if (res.locals.viewer?.role !== 'admin') throw forbidden("only an admin exports or deletes a rep's data");
  next();
};

export const repDataPath = (userId: string) => `/users/${encodeURIComponent(userId)}/data`;

function dataPage(req: Request, res: Response, user: { id: string; name: string; email: string }, message?: SafeHtml, status = 200): void {
  const csrf = csrfField(csrfTokenOf(req));
  const confirm = (id: string) =>
    html`<label for="${id}">Type the rep's email (${user.email}) to confirm</label><input id="${id}" name="confirmEmail" type="email" required autocomplete="off">`;
  const body = html`<p><a href="/users/${user.id}">← ${user.name}</a></p><h1>Data of ${user.name}</h1>
  ${message ?? ''}
  <section class="card"><h2>Export</h2>
    <p>One zip file: profile, assignments, every call with its transcript, metrics, scorecard and analytics, and the recordings.</p>
    <form method="post" action="${repDataPath(user.id)}/export">${csrf}${confirm('export-confirm')}<button type="submit">Download the export</button></form>
  </section>
  <section class="card"><h2>Delete everything</h2>
    <p>Deletes the rep and all their calls, transcripts, scorecards, recordings, email records, sign-in links, tokens and sessions. This cannot be undone; an audit entry without personal data remains.</p>
    <form method="post" action="${repDataPath(user.id)}/delete">${csrf}${confirm('delete-confirm')}<button type="submit" class="danger">Delete all of this rep's data</button></form>
  </section>`;
  sendHtml(res, page({ title: `Data of ${user.name}`, viewer: res.locals.viewer!, section: 'users', csrfToken: csrfTokenOf(req), body }), status);
}

export function addRepDataRoutes(router: Router, deps: WebDeps, guard: RequestHandler, protect: RequestHandler): void {
  router.get('/users/:id/data', guard, adminOnly, async (req, res) => {
    dataPage(req, res, await getUser(deps.app, res.locals.actor!, String(req.params.id)));
  });

  router.post('/users/:id/data/export', guard, adminOnly, protect, async (req, res) => {
    const user = await getUser(deps.app, res.locals.actor!, String(req.params.id));
    try {
      const exported = await exportRepData(deps.app, res.locals.actor!, { id: user.id, confirmEmail: str(formOf(req), 'confirmEmail') });
      res.setHeader('Content-Type', 'application/zip');
      res.setHeader('Content-Disposition', `attachment; filename="${exported.filename}"`);
      exported.archive.pipe(res);
    } catch (error) {
      if (!isDomainError(error) || error.code !== 'invalid_input') throw error;
      dataPage(req, res, user, html`<p class="error" role="alert">${error.message}</p>`, 400);
    }
  });

  router.post('/users/:id/data/delete', guard, adminOnly, protect, async (req, res) => {
    const id = String(req.params.id);
    const user = await getUser(deps.app, res.locals.actor!, id).catch(() => undefined);
    try {
      const result = await deleteRepData(deps.app, res.locals.actor!, { id, confirmEmail: str(formOf(req), 'confirmEmail') });
      const said = result.status === 'deleted' ? `Deleted the rep, ${result.calls} calls and ${result.recordingObjects} recording files.` : 'Nothing to delete: the rep was already deleted.';
      sendHtml(res, page({ title: 'Rep data deleted', viewer: res.locals.viewer!, section: 'users', csrfToken: csrfTokenOf(req), body: html`<h1>Rep data deleted</h1><p id="deleted">${said}</p><p><a href="/users">← Users</a></p>` }));
    } catch (error) {
      if (!user || !isDomainError(error) || error.code !== 'invalid_input') throw error;
      dataPage(req, res, user, html`<p class="error" role="alert">${error.message}</p>`, 400);
    }
  });
}
