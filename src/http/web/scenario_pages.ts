// Scenarios with their weighted rubric. The rubric is a fixed set of rows so the form works without JS.
import type { Request, RequestHandler, Response, Router } from 'express';
import { listPersonas } from '../../app/personas.js';
import { BACKGROUND_NOISE_LABELS, BACKGROUND_NOISES } from '../../domain/background_noise.js';
import { languageName, SUPPORTED_LANGUAGE_TAGS } from '../../domain/languages.js';
import {
  createScenario,
  getScenario,
  listScenarios,
  updateScenario,
  type CreateScenarioInput,
  type Scenario,
  type UpdateScenarioInput,
} from '../../app/scenarios.js';
import type { RubricCriterion } from '../../domain/scorecard.js';
import { actorOf } from '../locals.js';
import { html, type SafeHtml } from './html.js';
import { checked, redirectWithNotice, nullable, numeric, str, type FormBody } from './forms.js';
import { checkboxField, csrfField, formatDuration, formError, inputField, readOnlyUnlessOwned, selectField, textareaField, type FieldErrors } from './layout.js';
import { addResourcePages } from './resource_pages.js';
import { csrfTokenOf } from './session.js';
import type { WebDeps } from './web_deps.js';

const SPARE_ROWS = 2;
const MAX_ROWS = 20;

// Raw form values; the use case's zod schema checks them and names the bad fields.
interface ScenarioForm {
  title?: unknown;
  objective?: unknown;
  context?: unknown;
  difficulty?: unknown;
  personaId?: unknown;
  timeLimitSeconds?: unknown;
  backgroundNoise?: unknown;
  extension?: unknown;
  directLineNumber?: unknown;
  rubric: { id: string; name: string; description: string; weight: unknown }[];
  archived?: boolean;
  recordCalls?: boolean;
  feedbackLanguage?: unknown;
}

function rubricFromForm(form: FormBody): ScenarioForm['rubric'] {
  const count = Math.min(MAX_ROWS, Number(str(form, 'rubricRows')) || 0);
  const rows: ScenarioForm['rubric'] = [];
  for (let index = 0; index < count; index += 1) {
    const row = {
      id: str(form, `rubricId${index}`).trim(),
      name: str(form, `rubricName${index}`).trim(),
      description: str(form, `rubricDescription${index}`).trim(),
      weight: numeric(form, `rubricWeight${index}`),
    };
    // A row left blank is a spare, not an error.
    if (row.id || row.name || row.description || row.weight !== undefined) rows.push({ ...row, weight: row.weight ?? 1 });
  }
  return rows;
}

function fromForm(form: FormBody): ScenarioForm {
  return {
    title: str(form, 'title'),
    objective: str(form, 'objective'),
    context: str(form, 'context'),
    difficulty: str(form, 'difficulty') || 'medium',
    personaId: str(form, 'personaId'),
    timeLimitSeconds: numeric(form, 'timeLimitSeconds') ?? 600,
    backgroundNoise: str(form, 'backgroundNoise') || 'none',
    extension: nullable(form, 'extension'),
    directLineNumber: nullable(form, 'directLineNumber'),
    rubric: rubricFromForm(form),
    recordCalls: checked(form, 'recordCalls'),
    feedbackLanguage: nullable(form, 'feedbackLanguage'),
  };
}

const toCreateInput = (values: ScenarioForm): CreateScenarioInput => {
  const { archived: _archived, ...rest } = values;
  // Nulls mean "none" on create; the schema treats the fields as optional.
  return { ...rest, extension: rest.extension ?? undefined, directLineNumber: rest.directLineNumber ?? undefined, feedbackLanguage: rest.feedbackLanguage ?? undefined } as CreateScenarioInput;
};

function rubricFieldset(rubric: readonly ScenarioForm['rubric'][number][] | readonly RubricCriterion[], errors: FieldErrors): SafeHtml {
  const rows = [...rubric.map((row) => ({ ...row, weight: row.weight as unknown }))];
  // A new rubric gets room for a typical four criteria; an existing one a couple of spare rows.
  const spares = rows.length === 0 ? 4 : SPARE_ROWS;
  for (let spare = 0; spare < spares && rows.length < MAX_ROWS; spare += 1) rows.push({ id: '', name: '', description: '', weight: '' });
  const rowErrors = Object.entries(errors).filter(([path]) => path.startsWith('rubric.'));
  return html`<fieldset><legend>Rubric</legend>
    <small>Each criterion: a short id (e.g. <code>discovery</code>), a name, what good looks like, and a relative weight. Leave spare rows empty.</small>
    ${errors.rubric && rowErrors.length === 0 ? html`<span class="error">${errors.rubric}</span>` : ''}
    ${rowErrors.map(([path, message]) => {
      const [, index, key] = path.split('.');
      return html`<span class="error">Criterion ${Number(index) + 1}${key ? html` ${key}` : ''}: ${message}</span>`;
    })}
    <input type="hidden" name="rubricRows" value="${rows.length}">
    <div class="table-wrap"><table>
      <thead><tr><th>Id</th><th>Name</th><th>Description</th><th class="num">Weight</th></tr></thead>
      <tbody>${rows.map(
        (row, index) => html`<tr>
          <td><input name="rubricId${index}" value="${row.id}" aria-label="Criterion ${index + 1} id"></td>
          <td><input name="rubricName${index}" value="${row.name}" aria-label="Criterion ${index + 1} name"></td>
          <td><textarea name="rubricDescription${index}" rows="2" aria-label="Criterion ${index + 1} description">${row.description}</textarea></td>
          <td><input name="rubricWeight${index}" value="${String(row.weight ?? '')}" inputmode="decimal" size="4" aria-label="Criterion ${index + 1} weight"></td>
        </tr>`,
      )}</tbody>
    </table></div>
  </fieldset>`;
}

export function addScenarioRoutes(router: Router, deps: WebDeps, guard: RequestHandler, protect: RequestHandler): void {
  const scenarioForm = async (req: Request, res: Response, action: string, values: ScenarioForm, errors: FieldErrors, editing: boolean) => {
    const personas = await listPersonas(deps.app, actorOf(res));
    const text = (value: unknown) => (typeof value === 'string' || typeof value === 'number' ? value : '');
    return html`<form method="post" action="${action}" class="card">
      ${formError(errors)}
      ${csrfField(csrfTokenOf(req))}
      <div class="grid2">
        <div>
          ${inputField({ label: 'Title', name: 'title', value: text(values.title), required: true, errors })}
          ${selectField({ label: 'Persona', name: 'personaId', value: text(values.personaId), required: true, errors, blank: 'Choose a persona', options: personas.map((p) => ({ value: p.id, label: `${p.name} — ${p.role}, ${p.company}` })) })}
          ${selectField({ label: 'Difficulty', name: 'difficulty', value: text(values.difficulty) || 'medium', errors, options: ['easy', 'medium', 'hard'].map((d) => ({ value: d, label: d })) })}
          ${selectField({ label: 'Background noise', name: 'backgroundNoise', value: text(values.backgroundNoise) || 'none', errors, options: BACKGROUND_NOISES.map((noise) => ({ value: noise, label: BACKGROUND_NOISE_LABELS[noise] })), hint: 'Played quietly under the persona for the whole call.' })}
          ${inputField({ label: 'Time limit (seconds)', name: 'timeLimitSeconds', type: 'number', value: text(values.timeLimitSeconds) || 600, errors, attrs: html` min="30" max="3600"` })}
          ${inputField({ label: 'Extension', name: 'extension', value: text(values.extension), errors, hint: 'Optional: 2-5 digits a rep may key instead of a PIN (rep found by caller ID).', attrs: html` inputmode="numeric"` })}
          ${inputField({ label: 'Direct-line number', name: 'directLineNumber', value: text(values.directLineNumber), errors, hint: 'Optional: an E.164 number that leads straight to this scenario.' })}
          ${checkboxField({ label: 'Record calls (the persona first says the call is recorded)', name: 'recordCalls', checked: values.recordCalls !== false })}
          ${selectField({ label: 'Scorecard and email language', name: 'feedbackLanguage', value: text(values.feedbackLanguage), errors, blank: "The persona's language", options: SUPPORTED_LANGUAGE_TAGS.map((tag) => ({ value: tag, label: `${languageName(tag)} (${tag})` })), hint: 'The language of the scorecard feedback and the post-call emails.' })}
          ${editing ? checkboxField({ label: 'Archived (no new assignments)', name: 'archived', checked: values.archived === true }) : ''}
        </div>
        <div>
          ${textareaField({ label: 'Objective', name: 'objective', value: text(values.objective), required: true, errors, rows: 2 })}
          ${textareaField({ label: 'Context for the rep and persona', name: 'context', value: text(values.context), required: true, errors, rows: 6 })}
        </div>
      </div>
      ${rubricFieldset(values.rubric, errors)}
      <button type="submit">${editing ? 'Save scenario' : 'Create scenario'}</button>
    </form>`;
  };

  addResourcePages<Scenario, ScenarioForm>(router, guard, protect, {
    path: '/scenarios',
    section: 'scenarios',
    emptyForm: () => ({ rubric: [] }),
    fromForm: (form, editing) => (editing ? { ...fromForm(form), archived: checked(form, 'archived') } : fromForm(form)),

    async list(req, res, values, errors) {
      const actor = actorOf(res);
      const [rows, personas] = await Promise.all([listScenarios(deps.app, actor, { includeArchived: true }), listPersonas(deps.app, actor, { includeArchived: true })]);
      const personaName = new Map(personas.map((p) => [p.id, p.name]));
      return {
        title: 'Scenarios',
        body: html`<h1>Scenarios</h1>
        <div class="table-wrap"><table>
          <thead><tr><th>Title</th><th>Persona</th><th>Difficulty</th><th>Limit</th><th>Extension</th><th>Criteria</th><th>Status</th></tr></thead>
          <tbody>${rows.map(
            (row) => html`<tr><td><a href="/scenarios/${row.id}">${row.title}</a></td><td>${personaName.get(row.personaId) ?? '—'}</td><td>${row.difficulty}</td><td>${formatDuration(row.timeLimitSeconds)}</td><td>${row.extension ?? '—'}</td><td>${row.rubric.length}</td><td>${row.archivedAt ? 'archived' : 'active'}</td></tr>`,
          )}</tbody>
        </table></div>
        <h2>New scenario</h2>
        ${await scenarioForm(req, res, '/scenarios', values, errors, false)}`,
      };
    },

    async create(req, res, values) {
      const row = await createScenario(deps.app, actorOf(res), toCreateInput(values));
      await redirectWithNotice(req, res, '/scenarios', `Scenario ${row.title} created.`);
    },

    load: (_req, res, id) => getScenario(deps.app, actorOf(res), id),
    valuesOf: (scenario) => ({ ...scenario, archived: scenario.archivedAt !== null }),

    async edit(req, res, scenario, values, errors) {
      // A browser call as yourself: a test call, kept out of reps' progress (rep_pages.ts handles it).
      const tryIt = scenario.archivedAt === null
        ? html`<form method="post" action="/scenarios/${scenario.id}/try" class="inline">${csrfField(csrfTokenOf(req))}<button type="submit">Try this scenario</button></form> <small class="muted">A browser call with the persona, marked as a test call.</small>`
        : '';
      // Trying is using, so the button stays outside the read-only fieldset of another team's scenario.
      const form = await scenarioForm(req, res, `/scenarios/${scenario.id}`, values, errors, true);
      return { title: scenario.title, body: html`<p><a href="/scenarios">← Scenarios</a></p><h1>${scenario.title}</h1><p>${tryIt}</p>${readOnlyUnlessOwned(res, scenario.teamManagerId, 'scenario', form)}` };
    },

    async update(req, res, scenario, values) {
      const row = await updateScenario(deps.app, actorOf(res), { id: scenario.id, ...values } as UpdateScenarioInput);
      await redirectWithNotice(req, res, '/scenarios', `Scenario ${row.title} saved.`);
    },
  });
}
