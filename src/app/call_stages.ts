// Staged calls after the call (decision 018): the scenario's stages as the scorer reads them.
import { asc, eq } from 'drizzle-orm';
import { personas, scenarioStages } from '../adapters/db/schema.js';
import type { ScorecardStage } from '../domain/scorecard.js';
import type { Executor } from './use_case.js';

/** The personas a call on this scenario could be put through to, in order; empty for a single-persona scenario. */
export async function scorecardStagesOf(db: Executor, scenarioId: string): Promise<ScorecardStage[]> {
  return db
    .select({ name: personas.name, role: personas.role, company: personas.company, advanceRule: scenarioStages.advanceRule })
    .from(scenarioStages)
    .innerJoin(personas, eq(personas.id, scenarioStages.personaId))
    .where(eq(scenarioStages.scenarioId, scenarioId))
    .orderBy(asc(scenarioStages.position));
}
