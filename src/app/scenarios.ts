// Scenarios: what the rep practises, against which persona, scored by which weighted rubric. A
// staged scenario (decision 018) also lists the personas the one who answers can put the caller
// through to, in order, each with its rule in plain words; create and update take the whole list.
import { asc, eq, inArray, isNull } from 'drizzle-orm';
import { createInsertSchema } from 'drizzle-zod';
import { z } from 'zod';
import { uniqueViolation } from '../adapters/db/pg_errors.js';
import { personas, scenarioStages, scenarios } from '../adapters/db/schema.js';
import { assertStaff, teamOfNewContent, type Actor } from '../domain/access.js';
import { conflict, invalidInput, notFound } from '../domain/errors.js';
import type { RubricCriterion } from '../domain/scorecard.js';
import { auditCreated, auditUpdated } from './audit.js';
import { nowOf } from './ports.js';
import { type AppDeps, E164, type Executor, parseId, parseInput, type PageRequest, withPage, archivedAtOf, assertTeamEditable, changedFields } from './use_case.js';
import { languageTagSchema } from './personas.js';
import { idSchema } from './users.js';

export const rubricCriterionSchema = z.object({
  id: z
    .string()
    .trim()
    .regex(/^[a-z0-9][a-z0-9_-]{0,39}$/, 'expected a short lower-case id such as discovery or next_step'),
  name: z.string().trim().min(1, 'required').max(200),
  description: z.string().trim().max(2000).default(''),
  weight: z.number({ message: 'expected a number' }).gt(0, 'must be greater than 0').max(100, 'must be at most 100'),
});

/** Weights are relative (normalised when scoring), so they need only be positive; ids must be unique. */
export const rubricSchema = z
  .array(rubricCriterionSchema)
  .min(1, 'needs at least one criterion')
  .max(20, 'at most 20 criteria')
  .superRefine((criteria, ctx) => {
    const seen = new Set<string>();
    criteria.forEach((criterion, index) => {
      if (seen.has(criterion.id)) ctx.addIssue({ code: 'custom', path: [index, 'id'], message: `duplicate criterion id ${criterion.id}` });
      seen.add(criterion.id);
    });
  }) satisfies z.ZodType<RubricCriterion[]>;

/**
 * Extensions are 2-5 digits: never the 6-digit PIN length, so a keyed code is unambiguously one or
 * the other.
 */
export const extensionSchema = z.string().trim().regex(/^\d{2,5}$/, 'expected 2 to 5 digits');

export const MAX_STAGES = 5;

export const stageInputSchema = z.object({
  personaId: idSchema,
  advanceRule: z
    .string({ message: 'required' })
    .trim()
    .min(1, 'required: when the persona before puts the caller through, in plain words')
    .max(1000, 'at most 1000 characters'),
});

/** The whole ordered list; an empty list makes the scenario single-persona again. */
export const stagesSchema = z
  .array(stageInputSchema)
  .max(MAX_STAGES, `at most ${MAX_STAGES} stages`)
  .superRefine((stages, ctx) => {
    const seen = new Set<string>();
    stages.forEach((stage, index) => {
      if (seen.has(stage.personaId)) ctx.addIssue({ code: 'custom', path: [index, 'personaId'], message: 'this persona is already a stage' });
      seen.add(stage.personaId);
    });
  });
export type StageInput = z.output<typeof stageInputSchema>;

const scenarioInsertSchema = createInsertSchema(scenarios, {
  title: (schema) => schema.trim().min(1, 'required').max(200),
  objective: (schema) => schema.trim().min(1, 'required').max(2000),
  context: (schema) => schema.trim().min(1, 'required').max(8000),
  personaId: () => idSchema,
  rubric: () => rubricSchema,
  timeLimitSeconds: () =>
    z.number().int('expected whole seconds').min(30, 'must be at least 30 seconds').max(3600, 'must be at most 3600 seconds'),
  extension: () => extensionSchema,
  directLineNumber: () => z.string().trim().regex(E164, 'expected an E.164 number such as +15550109999'),
  feedbackLanguage: () => languageTagSchema,
});

const scenarioFields = {
  title: true,
  objective: true,
  context: true,
  difficulty: true,
  personaId: true,
  rubric: true,
  timeLimitSeconds: true,
  backgroundNoise: true,
  extension: true,
  directLineNumber: true,
  recordCalls: true,
  feedbackLanguage: true,
} as const;

export const createScenarioInput = scenarioInsertSchema
  .pick(scenarioFields)
  // drizzle-zod's types drop the optionality of refined nullable/defaulted columns; runtime keeps it.
  .partial({ timeLimitSeconds: true, backgroundNoise: true, extension: true, directLineNumber: true, recordCalls: true, feedbackLanguage: true })
  .extend({ stages: stagesSchema.optional() });
export type CreateScenarioInput = z.input<typeof createScenarioInput>;

export const updateScenarioInput = scenarioInsertSchema
  .pick(scenarioFields)
  .partial()
  .extend({ id: idSchema, archived: z.boolean().optional(), stages: stagesSchema.optional() });
export type UpdateScenarioInput = z.input<typeof updateScenarioInput>;

export type ScenarioStage = StageInput & { position: number };
export type Scenario = typeof scenarios.$inferSelect & { stages: ScenarioStage[] };

async function assertPersona(db: Executor, personaId: string, field = 'personaId'): Promise<void> {
  const [persona] = await db.select({ id: personas.id, archivedAt: personas.archivedAt }).from(personas).where(eq(personas.id, personaId));
  if (!persona || persona.archivedAt !== null) {
    throw invalidInput(`${field} must name an active persona`, { [field]: 'no active persona with this id' });
  }
}

/** Every stage names an active persona other than the one who answers. */
async function assertStages(db: Executor, answeringPersonaId: string, stages: readonly StageInput[]): Promise<void> {
  for (const [index, stage] of stages.entries()) {
    const field = `stages.${index}.personaId`;
    if (stage.personaId === answeringPersonaId) throw invalidInput(`${field} is the persona who answers`, { [field]: 'the persona who answers cannot also be a later stage' });
    await assertPersona(db, stage.personaId, field);
  }
}

async function replaceStages(tx: Executor, scenarioId: string, stages: readonly StageInput[]): Promise<void> {
  await tx.delete(scenarioStages).where(eq(scenarioStages.scenarioId, scenarioId));
  if (stages.length === 0) return;
  await tx.insert(scenarioStages).values(stages.map((stage, index) => ({ scenarioId, position: index + 1, personaId: stage.personaId, advanceRule: stage.advanceRule })));
}

/** The scenarios with their stages, in order. */
async function withStages(db: Executor, rows: (typeof scenarios.$inferSelect)[]): Promise<Scenario[]> {
  if (rows.length === 0) return [];
  const stageRows = await db
    .select({ scenarioId: scenarioStages.scenarioId, position: scenarioStages.position, personaId: scenarioStages.personaId, advanceRule: scenarioStages.advanceRule })
    .from(scenarioStages)
    .where(inArray(scenarioStages.scenarioId, rows.map((row) => row.id)))
    .orderBy(asc(scenarioStages.position));
  return rows.map((row) => ({
    ...row,
    stages: stageRows.filter((stage) => stage.scenarioId === row.id).map(({ position, personaId, advanceRule }) => ({ position, personaId, advanceRule })),
  }));
}

const withStagesOf = async (db: Executor, row: typeof scenarios.$inferSelect): Promise<Scenario> => (await withStages(db, [row]))[0]!;

function numberConflict(error: unknown): never {
  const constraint = uniqueViolation(error);
  if (constraint === 'scenarios_extension_unique') {
    throw conflict('another scenario already uses this extension', { extension: 'already in use' });
  }
  if (constraint === 'scenarios_direct_line_number_unique') {
    throw conflict('another scenario already uses this direct-line number', { directLineNumber: 'already in use' });
  }
  throw error;
}

export async function createScenario(deps: Pick<AppDeps, 'db'>, actor: Actor, raw: CreateScenarioInput): Promise<Scenario> {
  assertStaff(actor);
  const { stages = [], ...input } = parseInput(createScenarioInput, raw);
  await assertPersona(deps.db, input.personaId);
  await assertStages(deps.db, input.personaId, stages);
  return deps.db
    .transaction(async (tx) => {
      const rows = await tx
        .insert(scenarios)
        .values({ ...input, createdBy: actor.userId, teamManagerId: teamOfNewContent(actor) })
        .returning();
      const created = await auditCreated(tx, actor, rows, (row) => ({
        action: 'scenario.created',
        entityType: 'scenario',
        details: { title: row.title, extension: row.extension, directLineNumber: row.directLineNumber, stages: stages.length },
      }));
      await replaceStages(tx, created.id, stages);
      return withStagesOf(tx, created);
    })
    .catch(numberConflict);
}

export async function listScenarios(deps: Pick<AppDeps, 'db'>, actor: Actor, options: { includeArchived?: boolean } = {}, paging?: PageRequest): Promise<Scenario[]> {
  assertStaff(actor);
  const live = options.includeArchived ? undefined : isNull(scenarios.archivedAt);
  return withStages(deps.db, await withPage(deps.db.select().from(scenarios).where(live).orderBy(asc(scenarios.title), asc(scenarios.id)).$dynamic(), paging));
}

export async function getScenario(deps: Pick<AppDeps, 'db'>, actor: Actor, id: string): Promise<Scenario> {
  assertStaff(actor);
  const [row] = await deps.db.select().from(scenarios).where(eq(scenarios.id, parseId(id, 'scenario'))).limit(1);
  if (!row) throw notFound('scenario');
  return withStagesOf(deps.db, row);
}

export async function updateScenario(deps: Pick<AppDeps, 'db' | 'now'>, actor: Actor, raw: UpdateScenarioInput): Promise<Scenario> {
  assertStaff(actor);
  const { id, archived, stages, ...patch } = parseInput(updateScenarioInput, raw);
  const changed = changedFields({ ...patch, ...(stages !== undefined ? { stages } : {}) }, { archived });
  if (patch.personaId !== undefined) await assertPersona(deps.db, patch.personaId);
  return deps.db
    .transaction(async (tx) => {
      const [current] = await tx.select({ teamManagerId: scenarios.teamManagerId, personaId: scenarios.personaId }).from(scenarios).where(eq(scenarios.id, id)).for('update');
      assertTeamEditable(actor, 'scenario', current);
      const answering = patch.personaId ?? current!.personaId;
      const nextStages = stages ?? (await tx.select({ personaId: scenarioStages.personaId, advanceRule: scenarioStages.advanceRule }).from(scenarioStages).where(eq(scenarioStages.scenarioId, id)));
      if (stages !== undefined || patch.personaId !== undefined) await assertStages(tx, answering, nextStages);
      // updatedAt always: a change of stages alone still changes the scenario (and leaves the set non-empty).
      const rows = await tx.update(scenarios).set({ ...patch, ...archivedAtOf(archived, nowOf(deps)), updatedAt: nowOf(deps) }).where(eq(scenarios.id, id)).returning();
      const updated = await auditUpdated(tx, actor, rows, 'scenario', { changed });
      if (stages !== undefined) await replaceStages(tx, id, stages);
      return withStagesOf(tx, updated);
    })
    .catch(numberConflict);
}
