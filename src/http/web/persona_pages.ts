// Personas: the shared library of AI buyers. The voice comes from the ElevenLabs voice list when a
// key is configured, otherwise it is typed in as an id.
import type { Request, RequestHandler, Response, Router } from 'express';
import { rateLimit } from 'express-rate-limit';
import { draftPersona } from '../../app/draft_persona.js';
import {
  createPersona,
  getPersona,
  listPersonas,
  updatePersona,
  type CreatePersonaInput,
  type Persona,
  type UpdatePersonaInput,
} from '../../app/personas.js';
import { listScenarios } from '../../app/scenarios.js';
import { actorOf } from '../locals.js';
import { html, type SafeHtml } from './html.js';
import { checked, errorsFrom, formOf, redirectWithNotice, lines, numeric, optional, str, type FormBody } from './forms.js';
import { checkboxField, csrfField, formError, inputField, readOnlyUnlessOwned, selectField, textareaField, type FieldErrors } from './layout.js';
import { addResourcePages, pageSender } from './resource_pages.js';
import { csrfTokenOf } from './session.js';
import type { WebDeps } from './web_deps.js';

// Raw form values; the use case's zod schema is what checks them (and names the bad fields).
type PersonaForm = Partial<Record<keyof Persona, unknown>> & { archived?: boolean };

function fromForm(form: FormBody): PersonaForm {
  return {
    name: str(form, 'name'),
    role: str(form, 'role'),
    company: str(form, 'company'),
    personality: str(form, 'personality'),
    objections: lines(form, 'objections'),
    openingLine: str(form, 'openingLine'),
    voiceId: optional(form, 'voiceId'),
    language: optional(form, 'language') ?? 'en',
    llmModel: optional(form, 'llmModel'),
    temperature: numeric(form, 'temperature') ?? 0.7,
  };
}

async function voiceField(deps: WebDeps, value: string, errors: FieldErrors): Promise<SafeHtml> {
  const voices = deps.voices ? await deps.voices.list() : null;
  if (voices && voices.length > 0) {
    const options = voices.map((voice) => ({ value: voice.id, label: `${voice.name} (${voice.id})` }));
    if (value && !voices.some((voice) => voice.id === value)) options.unshift({ value, label: `${value} (not in your ElevenLabs list)` });
    return selectField({ label: 'Voice', name: 'voiceId', value: value || deps.defaultVoiceId, options, errors, hint: 'From your ElevenLabs voice list.' });
  }
  return inputField({
    label: 'Voice id',
    name: 'voiceId',
    value: value || deps.defaultVoiceId,
    errors,
    hint: deps.voices ? 'The ElevenLabs voice list could not be loaded; type a voice id.' : 'Set ELEVENLABS_API_KEY to pick from your voice list.',
  });
}

async function personaForm(req: Request, deps: WebDeps, action: string, values: PersonaForm, errors: FieldErrors, editing: boolean) {
  const v = (key: keyof Persona) => {
    const value = values[key];
    return typeof value === 'string' || typeof value === 'number' ? value : '';
  };
  return html`<form method="post" action="${action}" class="card">
    ${formError(errors)}
    ${csrfField(csrfTokenOf(req))}
    <div class="grid2">
      <div>
        ${inputField({ label: 'Name', name: 'name', value: v('name'), required: true, errors })}
        ${inputField({ label: 'Job title', name: 'role', value: v('role'), required: true, errors })}
        ${inputField({ label: 'Company', name: 'company', value: v('company'), required: true, errors })}
        ${textareaField({ label: 'Opening line', name: 'openingLine', value: v('openingLine'), required: true, errors, rows: 2 })}
        ${await voiceField(deps, String(v('voiceId')), errors)}
      </div>
      <div>
        ${textareaField({ label: 'Personality', name: 'personality', value: v('personality'), required: true, errors, rows: 4 })}
        ${textareaField({ label: 'Objections', name: 'objections', value: Array.isArray(values.objections) ? values.objections.join('\n') : '', errors, rows: 4, hint: 'One per line.' })}
        ${inputField({ label: 'Language', name: 'language', value: v('language') || 'en', errors })}
        ${inputField({ label: 'LLM model', name: 'llmModel', value: v('llmModel') || deps.defaultLlmModel, errors })}
        ${inputField({ label: 'Temperature', name: 'temperature', type: 'number', value: v('temperature') === '' ? 0.7 : v('temperature'), errors, attrs: html` step="0.1" min="0" max="2"` })}
        ${editing ? checkboxField({ label: 'Archived (hidden from new scenarios)', name: 'archived', checked: values.archived === true }) : ''}
      </div>
    </div>
    <button type="submit">${editing ? 'Save persona' : 'Create persona'}</button>
  </form>`;
}

/** "Describe the buyer in a sentence": offered when the scorecard model (Groq) is configured. */
function draftCard(req: Request, description: string, error: string | undefined): SafeHtml {
  return html`<form method="post" action="/personas/draft" class="card">
    ${csrfField(csrfTokenOf(req))}
    ${textareaField({
      label: 'Describe the buyer in a sentence',
      name: 'description',
      value: description,
      required: true,
      rows: 2,
      errors: error ? { description: error } : {},
      hint: 'e.g. "VP of operations at a 200-person 3PL, burned by a failed WMS rollout". The AI drafts a persona for you to edit; nothing is saved until you create it.',
    })}
    <button type="submit">Draft persona</button>
  </form>`;
}

interface DraftState {
  description: string;
  error?: string | undefined;
}

export function addPersonaRoutes(router: Router, deps: WebDeps, guard: RequestHandler, protect: RequestHandler): void {
  const personaDeps = { db: deps.app.db, personaDefaults: { llmModel: deps.defaultLlmModel, voiceId: deps.defaultVoiceId } };

  const drafting = deps.scoring?.scorecardModel ?? null;
  const send = pageSender('personas');
  const listPage = async (req: Request, res: Response, values: PersonaForm, errors: FieldErrors, draft: DraftState = { description: '' }) => {
    const [rows, voices] = await Promise.all([listPersonas(deps.app, actorOf(res), { includeArchived: true }), deps.voices?.list() ?? null]);
    const voiceName = new Map((voices ?? []).map((voice) => [voice.id, voice.name]));
    return {
      title: 'Personas',
      body: html`<h1>Personas</h1>
      <div class="table-wrap"><table>
        <thead><tr><th>Name</th><th>Role</th><th>Company</th><th>Voice</th><th>Status</th></tr></thead>
        <tbody>${rows.map(
          (row) => html`<tr><td><a href="/personas/${row.id}">${row.name}</a></td><td>${row.role}</td><td>${row.company}</td><td>${voiceName.has(row.voiceId) ? html`${voiceName.get(row.voiceId)} ` : ''}<code>${row.voiceId}</code></td><td>${row.archivedAt ? 'archived' : 'active'}</td></tr>`,
        )}</tbody>
      </table></div>
      <h2>New persona</h2>
      ${drafting ? draftCard(req, draft.description, draft.error) : ''}
      ${await personaForm(req, deps, '/personas', values, errors, false)}`,
    };
  };

  // Registered before the resource pages, so /personas/draft is not read as a persona id.
  addDraftRoute(router, guard, protect, {
    drafting,
    draftRateLimit: deps.draftRateLimit,
    async draft(req, res, description) {
      const outcome = await draftPersona({ draftModel: drafting!, voices: deps.voices, personaDefaults: personaDeps.personaDefaults }, actorOf(res), { description });
      if (outcome.status === 'failed') return send(req, res, await listPage(req, res, {}, {}, { description, error: `No persona drafted: ${outcome.reason}. Try again or write it yourself.` }), 502);
      send(req, res, {
        title: 'Draft persona',
        body: html`<p><a href="/personas">← Personas</a></p>
        <h1>Draft persona</h1>
        <p class="muted">Drafted by ${outcome.model} from: “${description}”. Edit it, then create it — or <a href="/personas">discard it</a>.</p>
        ${outcome.notes.map((note) => html`<p class="notice">${note}</p>`)}
        ${await personaForm(req, deps, '/personas', outcome.draft, {}, false)}`,
      });
    },
    invalid: async (req, res, description, error) => send(req, res, await listPage(req, res, {}, {}, { description, error }), 400),
  });

  addResourcePages<Persona, PersonaForm>(router, guard, protect, {
    path: '/personas',
    section: 'personas',
    emptyForm: () => ({}),
    fromForm: (form, editing) => (editing ? { ...fromForm(form), archived: checked(form, 'archived') } : fromForm(form)),
    list: (req, res, values, errors) => listPage(req, res, values, errors),

    async create(req, res, values) {
      const row = await createPersona(personaDeps, actorOf(res), values as CreatePersonaInput);
      await redirectWithNotice(req, res, '/personas', `Persona ${row.name} created.`);
    },

    load: (_req, res, id) => getPersona(deps.app, actorOf(res), id),
    valuesOf: (persona) => ({ ...persona, archived: persona.archivedAt !== null }),

    async edit(req, res, persona, values, errors) {
      // "Try this scenario" for each live scenario this persona plays (a test call, see rep_pages.ts).
      const played = persona.archivedAt ? [] : (await listScenarios(deps.app, actorOf(res))).filter((scenario) => scenario.personaId === persona.id);
      const tryIt = played.length === 0
        ? ''
        : html`<section class="card"><h2>Try ${persona.name}</h2><ul>${played.map(
            (scenario) => html`<li>${scenario.title} <form method="post" action="/scenarios/${scenario.id}/try" class="inline">${csrfField(csrfTokenOf(req))}<button type="submit">Try this scenario</button></form></li>`,
          )}</ul><small class="muted">A browser call with the persona, marked as a test call.</small></section>`;
      // Trying is using, so the buttons stay outside the read-only fieldset of another team's persona.
      const form = await personaForm(req, deps, `/personas/${persona.id}`, values, errors, true);
      return { title: persona.name, body: html`<p><a href="/personas">← Personas</a></p><h1>${persona.name}</h1>${tryIt}${readOnlyUnlessOwned(res, persona.teamManagerId, 'persona', form)}` };
    },

    async update(req, res, persona, values) {
      const row = await updatePersona(deps.app, actorOf(res), { id: persona.id, ...values } as UpdatePersonaInput);
      await redirectWithNotice(req, res, '/personas', `Persona ${row.name} saved.`);
    },
  });
}

interface DraftRoute {
  drafting: unknown;
  draftRateLimit: number | undefined;
  draft: (req: Request, res: Response, description: string) => Promise<void>;
  invalid: (req: Request, res: Response, description: string, error: string) => Promise<void>;
}

// The draft fills the create form; "Create persona" saves it through the ordinary create, "discard" saves nothing.
function addDraftRoute(router: Router, guard: RequestHandler, protect: RequestHandler, route: DraftRoute): void {
  const draftLimit = rateLimit({
    windowMs: 60_000,
    limit: route.draftRateLimit ?? 10,
    keyGenerator: (_req, res) => `user:${res.locals.viewer?.id ?? 'none'}`,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    handler: (_req, res) => res.status(429).type('text').send('Too many persona drafts; wait a minute and try again.'),
  });
  router.post('/personas/draft', guard, draftLimit, protect, async (req, res) => {
    if (!route.drafting) return res.status(404).type('text').send('Not found');
    const description = str(formOf(req), 'description');
    try {
      await route.draft(req, res, description);
    } catch (error) {
      const reason = errorsFrom(error)['description'];
      if (reason === undefined) throw error;
      await route.invalid(req, res, description, reason);
    }
  });
}
