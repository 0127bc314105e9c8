// A manager (or admin) re-runs the scorecard of a finished call: after a provider outage left it
// unavailable, or after a rubric change. The new scorecard replaces the old one, except that a
// failed re-run never throws away a scorecard that was scored. Emails are not sent again.
import { eq } from 'drizzle-orm';
import { assignments, scorecards } from '../adapters/db/schema.js';
import { assertStaff, type Actor } from '../domain/access.js';
import { isTerminal, type CallStatus } from '../domain/call_state.js';
import { conflict } from '../domain/errors.js';
import { recordAudit } from './audit.js';
import { getCall } from './calls.js';
import { analyticsTurnOf, scorecardStagesOf } from './call_stages.js';
import { markAssignmentPassed, produceScorecard, type ScorecardOutcome, scorecardLanguagesOf, scorecardValues, type ScoringDeps } from './score_transcript.js';
import type { AppDeps } from './use_case.js';

export async function rescoreCall(deps: Pick<AppDeps, 'db'> & ScoringDeps, actor: Actor, id: string): Promise<ScorecardOutcome> {
  assertStaff(actor);
  const call = await getCall(deps, actor, id);
  if (!isTerminal(call.status as CallStatus)) throw conflict('the call is still running; it is scored when it ends');
  if (!call.scenario) throw conflict('the call never reached a scenario, so there is no rubric to score it against');
  const [assignment] = call.assignmentId ? await deps.db.select({ passMark: assignments.passMark }).from(assignments).where(eq(assignments.id, call.assignmentId)) : [];
  const turns = call.turns.map((turn) => analyticsTurnOf(turn, turn.personaName));
  const stages = await scorecardStagesOf(deps.db, call.scenario.id);
  const outcome = await produceScorecard(deps, { scenario: call.scenario, ...(call.persona ? { persona: call.persona } : {}), stages, turns, passMark: assignment?.passMark ?? null, languages: scorecardLanguagesOf(call.scenario, call.persona) });

  if (outcome.status === 'unavailable' && call.scorecard?.status === 'scored') return outcome;
  await deps.db.transaction(async (tx) => {
    await tx.delete(scorecards).where(eq(scorecards.callId, call.id));
    await tx.insert(scorecards).values(scorecardValues(call.id, outcome));
    await markAssignmentPassed(tx, call, outcome.status === 'scored' ? outcome.passed : null);
    await recordAudit(tx, actor, { action: 'scorecard.rescored', entityType: 'call', entityId: call.id, details: { status: outcome.status } });
  });
  return outcome;
}
