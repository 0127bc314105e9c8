// The scaffold every management page set shares (personas, scenarios, assignments, users): a list
// page with a "new" form, an edit page, and posts that save and redirect with a notice, or show
// the same page again with the use case's field errors and a 400. Each page set supplies only its
// forms, tables and use cases.
import type { Request, RequestHandler, Response, Router } from 'express';
import { viewerOf } from '../locals.js';
import { errorsFrom, formOf, sendHtml, type FormBody } from './forms.js';
import type { SafeHtml } from './html.js';
import { page, type FieldErrors, type PageOptions } from './layout.js';
import { csrfTokenOf } from './session.js';

export interface RenderedPage {
  title: string;
  body: SafeHtml;
}

/** Sends a page of `section` in the shell, with the notice a redirect left (shown once). */
export function pageSender(section: NonNullable<PageOptions['section']>) {
  return (req: Request, res: Response, { title, body }: RenderedPage, status = 200): void => {
    const notice = req.session.notice;
    delete req.session.notice;
    sendHtml(res, page({ title, viewer: viewerOf(res), section, csrfToken: csrfTokenOf(req), notice, body }), status);
  };
}

export interface ResourcePages<Row, Form> {
  /** Where the list lives, e.g. '/personas'; an item is `${path}/:id`. */
  path: string;
  section: NonNullable<PageOptions['section']>;
  /** The values of an empty "new" form. */
  emptyForm: () => Form;
  /** Raw form values; the use case's zod schema checks them and names the bad fields. */
  fromForm: (form: FormBody, editing: boolean) => Form;
  list: (req: Request, res: Response, values: Form, errors: FieldErrors) => Promise<RenderedPage>;
  /** Calls the use case and answers (usually redirectWithNotice); a domain error shows the list again. */
  create: (req: Request, res: Response, values: Form) => Promise<void>;
  load: (req: Request, res: Response, id: string) => Promise<Row>;
  valuesOf: (row: Row) => Form;
  edit: (req: Request, res: Response, row: Row, values: Form, errors: FieldErrors) => Promise<RenderedPage>;
  /** Calls the use case and answers; a domain error shows the edit page again. */
  update: (req: Request, res: Response, row: Row, values: Form) => Promise<void>;
  /** Guards after the viewer guard: for creating, and for opening or saving one item. */
  createGuards?: RequestHandler[];
  itemGuards?: RequestHandler[];
}

export function addResourcePages<Row, Form>(router: Router, guard: RequestHandler, protect: RequestHandler, spec: ResourcePages<Row, Form>): void {
  const send = pageSender(spec.section);
  const item = `${spec.path}/:id`;
  const listPage = async (req: Request, res: Response, values: Form, errors: FieldErrors, status = 200) =>
    send(req, res, await spec.list(req, res, values, errors), status);
  const editPage = async (req: Request, res: Response, row: Row, values: Form, errors: FieldErrors, status = 200) =>
    send(req, res, await spec.edit(req, res, row, values, errors), status);

  router.get(spec.path, guard, (req, res) => listPage(req, res, spec.emptyForm(), {}));

  router.post(spec.path, guard, ...(spec.createGuards ?? []), protect, async (req, res) => {
    const values = spec.fromForm(formOf(req), false);
    try {
      await spec.create(req, res, values);
    } catch (error) {
      await listPage(req, res, values, errorsFrom(error), 400);
    }
  });

  router.get(item, guard, ...(spec.itemGuards ?? []), async (req, res) => {
    const row = await spec.load(req, res, String(req.params.id));
    await editPage(req, res, row, spec.valuesOf(row), {});
  });

  router.post(item, guard, ...(spec.itemGuards ?? []), protect, async (req, res) => {
    const row = await spec.load(req, res, String(req.params.id));
    const values = spec.fromForm(formOf(req), true);
    try {
      await spec.update(req, res, row, values);
    } catch (error) {
      await editPage(req, res, row, values, errorsFrom(error), 400);
    }
  });
}
