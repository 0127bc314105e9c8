// Staged calls after the call (decision 018): the scenario's stages, and the turns with who spoke, as
// the scorer, the analytics and the email read them.
import { asc, eq } from 'drizzle-orm';
import { personas, scenarioStages, type turns } from '../adapters/db/schema.js';
import type { AnalyticsTurn } from '../domain/analytics.js';
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

type StoredTurn = Pick<typeof turns.$inferSelect, 'speaker' | 'text' | 'startedAt' | 'endedAt' | 'interrupted' | 'personaId'>;

/** A stored turn as the scorer and the analytics read it; a staged call's turn keeps who spoke. */
export function analyticsTurnOf(turn: StoredTurn, personaName: string | null): AnalyticsTurn {
  return {
    speaker: turn.speaker,
    text: turn.text,
    startMs: turn.startedAt.getTime(),
    endMs: turn.endedAt.getTime(),
    interrupted: turn.interrupted,
    personaId: turn.personaId,
    ...(personaName !== null ? { personaName } : {}),
  };
}
