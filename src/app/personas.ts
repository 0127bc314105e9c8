// Personas are a shared library: any manager or admin creates and edits them.
import { asc, eq, isNull } from 'drizzle-orm';
import { createInsertSchema } from 'drizzle-zod';
import { z } from 'zod';
import { personas } from '../adapters/db/schema.js';
import { assertStaff, canEditTeamContent, teamOfNewContent, type Actor } from '../domain/access.js';
import { forbidden, invalidInput, notFound } from '../domain/errors.js';
import { SUPPORTED_LANGUAGE_TAGS, supportedLanguageTag } from '../domain/languages.js';
import { recordAudit } from './audit.js';
import { type AppDeps, parseId, parseInput, type PageRequest, withPage } from './use_case.js';
import { idSchema } from './users.js';

const text = (max: number) => (schema: z.ZodString) => schema.trim().min(1, 'required').max(max);

const personaInsertSchema = createInsertSchema(personas, {
  name: text(200),
  role: text(200),
  company: text(200),
  personality: text(4000),
  openingLine: text(1000),
  objections: () => z.array(z.string().trim().min(1, 'must not be empty').max(500)).max(30),
  voiceId: text(200),
  language: () =>
    z
      .string()
      .trim()
      .transform((tag, ctx) => {
        const supported = supportedLanguageTag(tag);
        if (supported === undefined) ctx.addIssue({ code: 'custom', message: `expected a supported language: ${SUPPORTED_LANGUAGE_TAGS.join(', ')}` });
        return supported ?? tag;
      }),
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
    const [row] = await tx
      .insert(personas)
      .values({ ...input, llmModel, voiceId, createdBy: actor.userId, teamManagerId: teamOfNewContent(actor) })
      .returning();
    if (!row) throw new Error('insert returned no row');
    await recordAudit(tx, actor, { action: 'persona.created', entityType: 'persona', entityId: row.id, details: { name: row.name } });
    return row;
  });
}

export async function listPersonas(
  deps: Pick<AppDeps, 'db'>,
  actor: Actor,
  options: { includeArchived?: boolean } = {},
  paging?: PageRequest,
): Promise<Persona[]> {
  assertStaff(actor);
  const query = deps.db
    .select()
    .from(personas)
    .where(options.includeArchived ? undefined : isNull(personas.archivedAt))
    .orderBy(asc(personas.name), asc(personas.id))
    .$dynamic();
  return withPage(query, paging);
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
  const changed = Object.keys(patch).filter((key) => patch[key as keyof typeof patch] !== undefined);
  if (archived !== undefined) changed.push('archived');
  if (changed.length === 0) throw invalidInput('nothing to change', { '(body)': 'name at least one field to change' });
  return deps.db.transaction(async (tx) => {
    const [current] = await tx.select({ teamManagerId: personas.teamManagerId }).from(personas).where(eq(personas.id, id)).for('update');
    if (!current) throw notFound('persona');
    if (!canEditTeamContent(actor, current.teamManagerId)) throw forbidden('this persona belongs to another team: you may use it but not change it');
    const [row] = await tx
      .update(personas)
      .set({ ...patch, ...(archived === undefined ? {} : { archivedAt: archived ? (deps.now?.() ?? new Date()) : null }) })
      .where(eq(personas.id, id))
      .returning();
    if (!row) throw notFound('persona');
    await recordAudit(tx, actor, { action: 'persona.updated', entityType: 'persona', entityId: id, details: { changed } });
    return row;
  });
}
