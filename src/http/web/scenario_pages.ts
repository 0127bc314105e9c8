// Scenarios with their weighted rubric and, for a staged scenario, the personas the caller can be put
// through to (decision 018). Rubric and stages are fixed sets of rows so the form works without JS:
// a stage row has an order number (reordering), a persona, its rule, and a remove box.
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
  MAX_STAGES,
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
  stages: { personaId: string; advanceRule: string }[];
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

/** Stage rows in their order numbers (ties keep the form's order); blank and removed rows drop out. */
function stagesFromForm(form: FormBody): ScenarioForm['stages'] {
  const count = Math.min(MAX_STAGES + SPARE_ROWS, Number(str(form, 'stageRows')) || 0);
  const rows: { personaId: string; advanceRule: string; order: number; index: number }[] = [];
  for (let index = 0; index < count; index += 1) {
    const personaId = str(form, `stagePersona${index}`).trim();
    const advanceRule = str(form, `stageRule${index}`).trim();
    if (checked(form, `stageRemove${index}`) || (personaId === '' && advanceRule === '')) continue;
    const order = numeric(form, `stageOrder${index}`);
    // An order that is not a number keeps the row where it is.
    rows.push({ personaId, advanceRule, order: typeof order === 'number' ? order : index + 1, index });
  }
  return rows.sort((a, b) => a.order - b.order || a.index - b.index).map(({ personaId, advanceRule }) => ({ personaId, advanceRule }));
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
    stages: stagesFromForm(form),
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

function stagesFieldset(stages: ScenarioForm['stages'], personas: readonly { id: string; name: string; role: string }[], errors: FieldErrors): SafeHtml {
  const rows = [...stages];
  for (let spare = 0; spare < SPARE_ROWS && rows.length < MAX_STAGES; spare += 1) rows.push({ personaId: '', advanceRule: '' });
  const rowErrors = Object.entries(errors).filter(([path]) => path.startsWith('stages.'));
  return html`<fieldset><legend>Stages (optional)</legend>
    <small>For a gatekeeper-to-buyer call: the persona above answers; each stage is a persona the caller can be put through to, in order, with the rule for putting them through in plain words (e.g. "once they give their name and a specific business reason"). Leave empty for a single-persona scenario.</small>
    ${errors.stages && rowErrors.length === 0 ? html`<span class="error">${errors.stages}</span>` : ''}
    ${rowErrors.map(([path, message]) => {
      const [, index, key] = path.split('.');
      return html`<span class="error">Stage ${Number(index) + 1}${key === 'personaId' ? ' persona' : key === 'advanceRule' ? ' rule' : ''}: ${message}</span>`;
    })}
    <input type="hidden" name="stageRows" value="${rows.length}">
    <div class="table-wrap"><table>
      <thead><tr><th class="num">Order</th><th>Put through to</th><th>When (the rule)</th><th>Remove</th></tr></thead>
      <tbody>${rows.map(
        (row, index) => html`<tr>
          <td><input name="stageOrder${index}" value="${index + 1}" inputmode="numeric" size="2" aria-label="Stage ${index + 1} order"></td>
          <td><select name="stagePersona${index}" aria-label="Stage ${index + 1} persona"><option value="">—</option>${personas.map(
            (p) => html`<option value="${p.id}"${p.id === row.personaId ? html` selected` : ''}>${p.name} — ${p.role}</option>`,
          )}</select></td>
          <td><textarea name="stageRule${index}" rows="2" aria-label="Stage ${index + 1} rule">${row.advanceRule}</textarea></td>
          <td><input type="checkbox" name="stageRemove${index}" value="on" aria-label="Remove stage ${index + 1}"></td>
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
      ${stagesFieldset(values.stages, personas, errors)}
      <button type="submit">${editing ? 'Save scenario' : 'Create scenario'}</button>
    </form>`;
  };

  addResourcePages<Scenario, ScenarioForm>(router, guard, protect, {
    path: '/scenarios',
    section: 'scenarios',
    emptyForm: () => ({ rubric: [], stages: [] }),
    fromForm: (form, editing) => (editing ? { ...fromForm(form), archived: checked(form, 'archived') } : fromForm(form)),

    async list(req, res, values, errors) {
      const actor = actorOf(res);
      const [rows, personas] = await Promise.all([listScenarios(deps.app, actor, { includeArchived: true }), listPersonas(deps.app, actor, { includeArchived: true })]);
      const personaName = new Map(personas.map((p) => [p.id, p.name]));
      // A staged scenario shows its chain: who answers, then who the caller can be put through to.
      const chain = (row: Scenario) => [row.personaId, ...row.stages.map((stage) => stage.personaId)].map((id) => personaName.get(id) ?? '—').join(' → ');
      return {
        title: 'Scenarios',
        body: html`<h1>Scenarios</h1>
        <div class="table-wrap"><table>
          <thead><tr><th>Title</th><th>Persona</th><th>Difficulty</th><th>Limit</th><th>Extension</th><th>Criteria</th><th>Status</th></tr></thead>
          <tbody>${rows.map(
            (row) => html`<tr><td><a href="/scenarios/${row.id}">${row.title}</a></td><td>${chain(row)}</td><td>${row.difficulty}</td><td>${formatDuration(row.timeLimitSeconds)}</td><td>${row.extension ?? '—'}</td><td>${row.rubric.length}</td><td>${row.archivedAt ? 'archived' : 'active'}</td></tr>`,
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
    valuesOf: (scenario) => ({ ...scenario, stages: scenario.stages.map(({ personaId, advanceRule }) => ({ personaId, advanceRule })), archived: scenario.archivedAt !== null }),

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
