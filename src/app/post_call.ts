// The post-call job: analytics stored on the call, the rubric scorecard, and one email each to the
// rep and their manager. Safe to run again (pg-boss retries it): analytics are recomputed, an
// existing scorecard is kept, and email_deliveries rows make each email go out once.
//
// Emails and restarts: a delivery row is claimed (attempts + 1, committed) before the SMTP send and
// marked sent after it. A worker that dies between the server's "250 OK" and that last commit leaves
// the row pending, so the retry sends again: at-least-once, never silently lost. The Message-ID is
// derived from (call, recipient), so such a resend carries the same Message-ID as the first and mail
// systems that deduplicate on it (Gmail, most MUAs' threading) show one message.
import { createHash } from 'node:crypto';
import { and, asc, eq, sql } from 'drizzle-orm';
import type { Database } from '../adapters/db/client.js';
import { analyticsTurnOf, scorecardStagesOf } from './call_stages.js';
import { assignments, calls, emailDeliveries, personas, scenarios, scorecards, turns, users } from '../adapters/db/schema.js';
import { type AnalyticsTurn, type CallAnalytics, computeAnalytics } from '../domain/analytics.js';
import { isProviderError } from '../domain/provider_error.js';
import { renderCallEmail, type EmailScorecard } from './call_email.js';
import { type AppLogger, nowOf, type Clock } from './ports.js';
import { markAssignmentPassed, produceScorecard, scorecardLanguagesOf, scorecardValues, type ScoringDeps } from './score_transcript.js';

export interface OutgoingEmail {
  to: string;
  subject: string;
  text: string;
  html: string;
  /** Stable per (call, recipient), with angle brackets. */
  messageId: string;
  headers?: Record<string, string>;
}

/** SMTP behind an interface; the nodemailer adapter implements it. Throws ProviderError('smtp'). */
export interface Mailer {
  /** The From address, e.g. "Practice Line <practice-line@example.com>". */
  readonly from: string;
  send(email: OutgoingEmail): Promise<{ messageId: string }>;
  close?(): void;
}

export interface PostCallDeps extends ScoringDeps {
  db: Database;
  /** Null when SMTP is not configured: deliveries are recorded as failed with that reason. */
  mailer: Mailer | null;
  /** For the link to the call page in the web view. */
  publicBaseUrl: string;
  logger: AppLogger;
  now?: Clock;
  /**
   * How long after the call ended a scoring provider outage is waited out (the job is retried with
   * backoff) before the scorecard is stored as unavailable and the emails go without it (30 min).
   */
  scoringWindowMs?: number;
  /**
   * How long after finalisation an answered call waits for the agent's word that its last turn is
   * written, so a webhook that closed the call first cannot get a partial transcript scored (2 min).
   * Past it the transcript is marked incomplete and the job goes on.
   */
  agentWaitMs?: number;
}

export const DEFAULT_SCORING_WINDOW_MS = 30 * 60_000;
export const DEFAULT_AGENT_WAIT_MS = 2 * 60_000;

/** Thrown so the queue retries the job later: the agent has not yet said its last turn is written. */
export class AgentNotFinished extends Error {
  readonly code = 'agent_not_finished';
  constructor() {
    super('the agent has not reported its last turn yet');
    this.name = 'AgentNotFinished';
  }
}

/** Thrown so the queue retries the job later: the scoring model is failing transiently and the window is open. */
export class ScoringRetryNeeded extends Error {
  readonly code = 'scoring_retry_needed';
  constructor(readonly reason: string) {
    super(`scoring will be retried: ${reason}`);
    this.name = 'ScoringRetryNeeded';
  }
}

export interface PostCallJob {
  callId: string;
  /** When true a transient email failure is recorded as final instead of retried. */
  finalAttempt: boolean;
}

export interface PostCallSummary {
  callId: string;
  analytics: CallAnalytics | null;
  scorecard: 'scored' | 'unavailable' | 'none';
  emails: { recipient: string; status: 'sent' | 'failed' | 'pending' | 'skipped' }[];
}

/** Thrown so the queue retries the job later (SMTP was unreachable or answered 4xx). */
export class EmailRetryNeeded extends Error {
  readonly code = 'email_retry_needed';
  constructor(readonly pending: string[]) {
    super(`${pending.length} email(s) will be retried`);
    this.name = 'EmailRetryNeeded';
  }
}

/**
 * Whether turns may be missing. An answered call's transcript is final once the agent says its last
 * turn is written; until then (up to agentWaitMs after finalisation) the job is retried. An agent
 * that never says so (it died, or lost the database) leaves the transcript marked incomplete.
 */
async function transcriptIncomplete(deps: PostCallDeps, call: typeof calls.$inferSelect, job: PostCallJob, now: Date): Promise<boolean> {
  if (call.answeredAt === null || call.agentFinishedAt !== null || call.transcriptIncomplete) return call.transcriptIncomplete;
  const waited = now.getTime() - (call.finalizedAt ?? call.createdAt).getTime();
  if (waited < (deps.agentWaitMs ?? DEFAULT_AGENT_WAIT_MS) && !job.finalAttempt) {
    deps.logger.info({ callId: call.id, waitedMs: waited }, 'waiting for the agent to report its last turn');
    throw new AgentNotFinished();
  }
  await deps.db.update(calls).set({ transcriptIncomplete: true }).where(eq(calls.id, call.id));
  deps.logger.warn({ callId: call.id }, 'the agent never reported its last turn; transcript marked incomplete');
  return true;
}

/** `<call-ID.HASH@domain>`: the same for every attempt at the same (call, recipient). */
export function emailMessageId(callId: string, recipient: string, from: string): string {
  const domain = /@([^>\s]+)>?\s*$/.exec(from)?.[1] ?? 'practice-line.local';
  const hash = createHash('sha256').update(recipient.toLowerCase()).digest('hex').slice(0, 16);
  return `<call-${callId}.${hash}@${domain}>`;
}

export async function runPostCall(deps: PostCallDeps, job: PostCallJob): Promise<PostCallSummary> {
  const { db, logger } = deps;
  const now = () => nowOf(deps);
  const [call] = await db.select().from(calls).where(eq(calls.id, job.callId));
  if (!call) {
    logger.warn({ callId: job.callId }, 'post-call job for a call that no longer exists');
    return { callId: job.callId, analytics: null, scorecard: 'none', emails: [] };
  }
  call.transcriptIncomplete = await transcriptIncomplete(deps, call, job, now());

  const turnRows = await db
    .select({ turn: turns, personaName: personas.name })
    .from(turns)
    .leftJoin(personas, eq(personas.id, turns.personaId))
    .where(eq(turns.callId, call.id))
    .orderBy(asc(turns.seq));
  const conversation: AnalyticsTurn[] = turnRows.map(({ turn, personaName }) => analyticsTurnOf(turn, personaName));
  const analytics = computeAnalytics(conversation);
  await db.update(calls).set({ analytics: analytics as unknown as Record<string, unknown> }).where(eq(calls.id, call.id));

  const context = call.scenarioId
    ? (
        await db
          .select({ scenario: scenarios, persona: personas })
          .from(scenarios)
          .innerJoin(personas, eq(personas.id, scenarios.personaId))
          .where(eq(scenarios.id, call.scenarioId))
      )[0]
    : undefined;
  const [assignment] = call.assignmentId
    ? await db.select({ passMark: assignments.passMark }).from(assignments).where(eq(assignments.id, call.assignmentId))
    : [];
  const passMark = assignment?.passMark ?? null;

  let [scorecard] = await db.select().from(scorecards).where(eq(scorecards.callId, call.id));
  if (!scorecard && context) {
    const stages = await scorecardStagesOf(db, context.scenario.id);
    const outcome = await produceScorecard(deps, { scenario: context.scenario, persona: context.persona, stages, turns: conversation, passMark, languages: scorecardLanguagesOf(context.scenario, context.persona) });
    // No scorecard and no email yet: both wait for the provider, within the window.
    const endedAt = call.finalizedAt ?? call.endedAt ?? call.createdAt;
    const windowOpen = now().getTime() - endedAt.getTime() < (deps.scoringWindowMs ?? DEFAULT_SCORING_WINDOW_MS);
    if (outcome.status === 'unavailable' && outcome.transient && windowOpen && !job.finalAttempt) {
      logger.warn({ callId: call.id, reason: outcome.reason }, 'scoring failed for now; the post-call job will retry');
      throw new ScoringRetryNeeded(outcome.reason);
    }
    // A concurrent run (not expected, but cheap to tolerate) keeps whichever landed first.
    await db.insert(scorecards).values(scorecardValues(call.id, outcome)).onConflictDoNothing({ target: scorecards.callId });
    [scorecard] = await db.select().from(scorecards).where(eq(scorecards.callId, call.id));
    logger.info({ callId: call.id, status: outcome.status, attempts: outcome.attempts }, 'scorecard stored');
  }

  await markAssignmentPassed(db, call, scorecard?.passed);

  const summary: PostCallSummary = { callId: call.id, analytics, scorecard: scorecard?.status ?? 'none', emails: [] };
  if (!call.repId || !context) {
    logger.info({ callId: call.id }, 'no rep or scenario behind the call; no emails');
    return summary;
  }
  if (conversation.length === 0) {
    logger.info({ callId: call.id, status: call.status }, 'no conversation took place; no emails');
    return summary;
  }

  const [rep] = await db.select().from(users).where(eq(users.id, call.repId));
  if (!rep) return summary;
  const [manager] = rep.managerId ? await db.select().from(users).where(eq(users.id, rep.managerId)) : [];
  const recipients: { user: typeof rep; role: 'rep' | 'manager' }[] = [{ user: rep, role: 'rep' }];
  if (manager && manager.email.toLowerCase() !== rep.email.toLowerCase()) recipients.push({ user: manager, role: 'manager' });

  const emailScorecard: EmailScorecard | null = !scorecard
    ? null
    : scorecard.status === 'scored'
      ? { status: 'scored', overallScore: scorecard.overallScore ?? 0, passed: scorecard.passed, summary: scorecard.summary ?? '', criteria: scorecard.criteria, reviewReasons: scorecard.reviewReasons }
      : { status: 'unavailable', reason: scorecard.reason ?? 'unknown', reviewReasons: scorecard.reviewReasons };

  const pending: string[] = [];
  for (const { user, role } of recipients) {
    const recipient = user.email.toLowerCase();
    await db.insert(emailDeliveries).values({ callId: call.id, recipient }).onConflictDoNothing();
    const [row] = await db
      .select()
      .from(emailDeliveries)
      .where(and(eq(emailDeliveries.callId, call.id), eq(emailDeliveries.recipient, recipient)));
    if (!row || row.status !== 'pending') {
      summary.emails.push({ recipient, status: row?.status ?? 'skipped' });
      continue;
    }
    if (!deps.mailer) {
      await db.update(emailDeliveries).set({ status: 'failed', lastError: 'SMTP is not configured (SMTP_HOST is not set)' }).where(eq(emailDeliveries.id, row.id));
      summary.emails.push({ recipient, status: 'failed' });
      continue;
    }

    // Claimed and committed before sending: see the note at the top of this file.
    const [claimed] = await db
      .update(emailDeliveries)
      .set({ attempts: sql`${emailDeliveries.attempts} + 1` })
      .where(and(eq(emailDeliveries.id, row.id), eq(emailDeliveries.status, 'pending')))
      .returning();
    if (!claimed) continue;

    const messageId = emailMessageId(call.id, recipient, deps.mailer.from);
    const rendered = renderCallEmail({
      recipient: { name: user.name, role },
      repName: rep.name,
      personaName: context.persona.name,
      scenarioTitle: context.scenario.title,
      callId: call.id,
      startedAt: call.answeredAt ?? call.createdAt,
      durationSeconds: call.durationSeconds,
      turns: conversation,
      analytics,
      scorecard: emailScorecard,
      passMark,
      callUrl: `${deps.publicBaseUrl.replace(/\/+$/, '')}/calls/${call.id}`,
      transcriptIncomplete: call.transcriptIncomplete,
      language: scorecardLanguagesOf(context.scenario, context.persona).feedback,
    });
    try {
      await deps.mailer.send({ to: user.email, ...rendered, messageId, headers: { 'X-Practice-Call': call.id } });
      await db
        .update(emailDeliveries)
        .set({ status: 'sent', messageId, sentAt: now(), lastError: null })
        .where(eq(emailDeliveries.id, row.id));
      summary.emails.push({ recipient, status: 'sent' });
      logger.info({ callId: call.id, role, attempts: claimed.attempts, pii: { recipient } }, 'post-call email sent');
    } catch (error) {
      if (!isProviderError(error)) throw error;
      const final = !error.retryable || job.finalAttempt;
      await db
        .update(emailDeliveries)
        .set({ status: final ? 'failed' : 'pending', lastError: error.message.slice(0, 1000) })
        .where(eq(emailDeliveries.id, row.id));
      if (final) {
        // Recorded on the call too, where a manager reading it will see it.
        const entry = JSON.stringify([{ at: now().toISOString(), provider: 'smtp', message: `email to the ${role} failed: ${error.message}`.slice(0, 500) }]);
        await db.update(calls).set({ providerErrors: sql`${calls.providerErrors} || ${entry}::jsonb` }).where(eq(calls.id, call.id));
        summary.emails.push({ recipient, status: 'failed' });
        logger.error({ callId: call.id, role, status: error.status, err: error, pii: { recipient } }, 'post-call email failed for good');
      } else {
        pending.push(recipient);
        summary.emails.push({ recipient, status: 'pending' });
        logger.warn({ callId: call.id, role, status: error.status, err: error, pii: { recipient } }, 'post-call email failed; will retry');
      }
    }
  }
  if (pending.length > 0) throw new EmailRetryNeeded(pending);
  return summary;
}
