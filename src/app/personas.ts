// Personas are a shared library: any manager or admin creates and edits them.
import { asc, eq, isNull } from 'drizzle-orm';
import { createInsertSchema } from 'drizzle-zod';
import { z } from 'zod';
import { personas } from '../adapters/db/schema.js';
import { assertStaff, teamOfNewContent, type Actor } from '../domain/access.js';
import { invalidInput, notFound } from '../domain/errors.js';
import { auditCreated, auditUpdated } from './audit.js';
import { nowOf } from './ports.js';
import { type AppDeps, parseId, parseInput, type PageRequest, withPage, archivedAtOf, assertTeamEditable, changedFields } from './use_case.js';
import { SUPPORTED_LANGUAGE_TAGS, supportedLanguageTag } from '../domain/languages.js';
import { idSchema } from './users.js';

const text = (max: number) => (schema: z.ZodString) => schema.trim().min(1, 'required').max(max);

/** A language the pipeline supports (src/domain/languages.ts), in its canonical spelling. */
export const languageTagSchema = z
  .string()
  .trim()
  .transform((tag, ctx) => {
    const supported = supportedLanguageTag(tag);
    if (supported === undefined) ctx.addIssue({ code: 'custom', message: `expected a supported language: ${SUPPORTED_LANGUAGE_TAGS.join(', ')}` });
    return supported ?? tag;
  });

const personaInsertSchema = createInsertSchema(personas, {
  name: text(200),
  role: text(200),
  company: text(200),
  personality: text(4000),
  openingLine: text(1000),
  objections: () => z.array(z.string().trim().min(1, 'must not be empty').max(500)).max(30),
  voiceId: text(200),
  language: () => languageTagSchema,
  llmModel: text(200),
  temperature: () => z.number().min(0, 'must be between 0 and 2').max(2, 'must be between 0 and 2'),
});

const personaFields = {
  name: true,
  role: true,
  company: true,
  personality: true,
  objections: true,
  openingLine: true,
  voiceId: true,
  language: true,
  llmModel: true,
  temperature: true,
} as const;

/** voiceId and llmModel fall back to the installation's defaults (ELEVENLABS_DEFAULT_VOICE_ID, GROQ_LLM_MODEL). */
export const createPersonaInput = personaInsertSchema
  .pick(personaFields)
  // drizzle-zod's types drop the optionality of refined defaulted columns; runtime keeps it.
  .partial({ voiceId: true, llmModel: true, language: true, temperature: true, objections: true });
export type CreatePersonaInput = z.input<typeof createPersonaInput>;

export const updatePersonaInput = personaInsertSchema
  .pick(personaFields)
  .partial()
  .extend({ id: idSchema, archived: z.boolean().optional() });
export type UpdatePersonaInput = z.input<typeof updatePersonaInput>;

export interface PersonaDefaults {
  llmModel: string;
  voiceId: string;
}

export type PersonaDeps = Pick<AppDeps, 'db'> & { personaDefaults?: PersonaDefaults };

export type Persona = typeof personas.$inferSelect;

export async function createPersona(deps: PersonaDeps, actor: Actor, raw: CreatePersonaInput): Promise<Persona> {
  assertStaff(actor);
  const input = parseInput(createPersonaInput, raw);
  const llmModel = input.llmModel ?? deps.personaDefaults?.llmModel;
  const voiceId = input.voiceId ?? deps.personaDefaults?.voiceId;
  if (!llmModel || !voiceId) {
    const fields: Record<string, string> = {};
    if (!llmModel) fields.llmModel = 'required';
    if (!voiceId) fields.voiceId = 'required';
    throw invalidInput('missing persona fields', fields);
  }
  return deps.db.transaction(async (tx) => {
    const rows = await tx
      .insert(personas)
      .values({ ...input, llmModel, voiceId, createdBy: actor.userId, teamManagerId: teamOfNewContent(actor) })
      .returning();
    return auditCreated(tx, actor, rows, (row) => ({ action: 'persona.created', entityType: 'persona', details: { name: row.name } }));
  });
}

export async function listPersonas(deps: Pick<AppDeps, 'db'>, actor: Actor, options: { includeArchived?: boolean } = {}, paging?: PageRequest): Promise<Persona[]> {
  assertStaff(actor);
  const live = options.includeArchived ? undefined : isNull(personas.archivedAt);
  return withPage(deps.db.select().from(personas).where(live).orderBy(asc(personas.name), asc(personas.id)).$dynamic(), paging);
}

export async function getPersona(deps: Pick<AppDeps, 'db'>, actor: Actor, id: string): Promise<Persona> {
  assertStaff(actor);
  const [row] = await deps.db.select().from(personas).where(eq(personas.id, parseId(id, 'persona'))).limit(1);
  if (!row) throw notFound('persona');
  return row;
}

export async function updatePersona(deps: Pick<AppDeps, 'db' | 'now'>, actor: Actor, raw: UpdatePersonaInput): Promise<Persona> {
  assertStaff(actor);
  const { id, archived, ...patch } = parseInput(updatePersonaInput, raw);
  const changed = changedFields(patch, { archived });
  return deps.db.transaction(async (tx) => {
    const [current] = await tx.select({ teamManagerId: personas.teamManagerId }).from(personas).where(eq(personas.id, id)).for('update');
    assertTeamEditable(actor, 'persona', current);
    const rows = await tx.update(personas).set({ ...patch, ...archivedAtOf(archived, nowOf(deps)) }).where(eq(personas.id, id)).returning();
    return auditUpdated(tx, actor, rows, 'persona', { changed });
  });
}
