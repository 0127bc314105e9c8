// Reading calls: the list a manager filters, and one call with its transcript, latency and scorecard.
import { recordingOf, recordingState, type RecordingState } from './recordings.js';
import { and, asc, count, desc, eq, gt, gte, inArray, lt, or, sql, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import {
  calls,
  emailDeliveries,
  personas,
  scenarios,
  scorecards,
  turnMetrics,
  turns,
  users,
} from '../adapters/db/schema.js';
import { callListScope, canSeeCallOf, type Actor, type CallListScope } from '../domain/access.js';
import { CALL_STATUSES, type CallStatus } from '../domain/call_state.js';
import { notFound } from '../domain/errors.js';
import { type AppDeps, parseId, parseInput } from './use_case.js';
import { idSchema } from './users.js';

const statusValues = CALL_STATUSES;

/** Query-string friendly: numbers and dates arrive as strings from the API, the web view and the CLI. */
export const listCallsInput = z
  .object({
    repId: idSchema.optional(),
    scenarioId: idSchema.optional(),
    status: z
      .union([z.enum(statusValues), z.array(z.enum(statusValues))])
      .optional()
      .transform((value) => (value === undefined ? undefined : Array.isArray(value) ? value : [value])),
    /** Calls created at or after this instant. */
    from: z.coerce.date({ message: 'expected a date such as 2026-11-01' }).optional(),
    /** Calls created before this instant. */
    to: z.coerce.date({ message: 'expected a date such as 2026-11-30' }).optional(),
    /** Case-insensitive text search over the transcript. */
    q: z.string().trim().min(1).max(200).optional(),
    page: z.coerce.number().int('expected a whole number').min(1, 'must be at least 1').default(1),
    pageSize: z.coerce.number().int('expected a whole number').min(1, 'must be at least 1').max(100, 'must be at most 100').default(25),
  })
  .refine((value) => !value.from || !value.to || value.from < value.to, { path: ['to'], message: 'must be after from' });
export type ListCallsInput = z.input<typeof listCallsInput>;

export interface CallListItem {
  id: string;
  status: (typeof statusValues)[number];
  path: 'twilio' | 'sip' | 'web';
  isTest: boolean;
  createdAt: Date;
  answeredAt: Date | null;
  endedAt: Date | null;
  durationSeconds: number | null;
  endReason: string | null;
  rep: { id: string; name: string } | null;
  scenario: { id: string; title: string } | null;
  persona: { id: string; name: string } | null;
  score: number | null;
  passed: boolean | null;
  scorecardStatus: 'scored' | 'unavailable' | null;
}

export interface CallPage {
  items: CallListItem[];
  page: number;
  pageSize: number;
  total: number;
}

/** ILIKE treats % and _ as wildcards; a search for "50%" means the characters. */
const likePattern = (text: string) => `%${text.replace(/[\\%_]/g, (char) => `\\${char}`)}%`;

/** A manager's team plus their own test calls; a rep's own calls. */
function scopeCondition(scope: CallListScope, actor: Actor): SQL | undefined {
  if (scope.kind === 'all') return undefined;
  if (scope.kind === 'own') return eq(calls.repId, scope.userId);
  return actor.userId === null ? eq(users.managerId, scope.managerId) : or(eq(users.managerId, scope.managerId), eq(calls.repId, actor.userId));
}

export async function listCalls(deps: Pick<AppDeps, 'db'>, actor: Actor, raw: ListCallsInput = {}): Promise<CallPage> {
  const scope = callListScope(actor);
  const input = parseInput(listCallsInput, raw);
  const where: (SQL | undefined)[] = [
    scopeCondition(scope, actor),
    input.repId ? eq(calls.repId, input.repId) : undefined,
    input.scenarioId ? eq(calls.scenarioId, input.scenarioId) : undefined,
    input.status ? inArray(calls.status, input.status) : undefined,
    input.from ? gte(calls.createdAt, input.from) : undefined,
    input.to ? lt(calls.createdAt, input.to) : undefined,
    input.q
      ? sql`exists (select 1 from ${turns} where ${turns.callId} = ${calls.id} and ${turns.text} ilike ${likePattern(input.q)})`
      : undefined,
  ];
  const condition = and(...where);

  const [rows, totals] = await Promise.all([
    deps.db
      .select({
        call: {
          id: calls.id,
          status: calls.status,
          path: calls.path,
          isTest: calls.isTest,
          createdAt: calls.createdAt,
          answeredAt: calls.answeredAt,
          endedAt: calls.endedAt,
          durationSeconds: calls.durationSeconds,
          endReason: calls.endReason,
        },
        repId: users.id,
        repName: users.name,
        scenarioId: scenarios.id,
        scenarioTitle: scenarios.title,
        personaId: personas.id,
        personaName: personas.name,
        score: scorecards.overallScore,
        passed: scorecards.passed,
        scorecardStatus: scorecards.status,
      })
      .from(calls)
      .leftJoin(users, eq(users.id, calls.repId))
      .leftJoin(scenarios, eq(scenarios.id, calls.scenarioId))
      .leftJoin(personas, eq(personas.id, calls.personaId))
      .leftJoin(scorecards, eq(scorecards.callId, calls.id))
      .where(condition)
      .orderBy(desc(calls.createdAt), desc(calls.id))
      .limit(input.pageSize)
      .offset((input.page - 1) * input.pageSize),
    deps.db
      .select({ total: count() })
      .from(calls)
      .leftJoin(users, eq(users.id, calls.repId))
      .where(condition),
  ]);

  return {
    items: rows.map((row) => ({
      ...row.call,
      rep: row.repId && row.repName !== null ? { id: row.repId, name: row.repName } : null,
      scenario: row.scenarioId && row.scenarioTitle !== null ? { id: row.scenarioId, title: row.scenarioTitle } : null,
      persona: row.personaId && row.personaName !== null ? { id: row.personaId, name: row.personaName } : null,
      score: row.score,
      passed: row.passed,
      scorecardStatus: row.scorecardStatus,
    })),
    page: input.page,
    pageSize: input.pageSize,
    total: totals[0]?.total ?? 0,
  };
}

type CallRow = typeof calls.$inferSelect;
type TurnRow = typeof turns.$inferSelect;
type MetricsRow = Omit<typeof turnMetrics.$inferSelect, 'turnId' | 'createdAt'>;

export interface CallDetail extends CallRow {
  rep: { id: string; name: string; email: string } | null;
  scenario: typeof scenarios.$inferSelect | null;
  persona: { id: string; name: string; role: string; company: string; language: string } | null;
  /** personaName: staged calls, the persona who spoke (turns.persona_id); null otherwise. */
  turns: (TurnRow & { metrics: MetricsRow | null; personaName: string | null })[];
  scorecard: typeof scorecards.$inferSelect | null;
  emailDeliveries: (typeof emailDeliveries.$inferSelect)[];
  /** Whether the call was recorded, and whether its audio is still kept (src/app/recordings.ts). */
  recording: RecordingState;
}

export async function getCall(deps: Pick<AppDeps, 'db'>, actor: Actor, id: string): Promise<CallDetail> {
  const callId = parseId(id, 'call');
  const [head] = await deps.db
    .select({ call: calls, rep: users, scenario: scenarios, persona: personas })
    .from(calls)
    .leftJoin(users, eq(users.id, calls.repId))
    .leftJoin(scenarios, eq(scenarios.id, calls.scenarioId))
    .leftJoin(personas, eq(personas.id, calls.personaId))
    .where(eq(calls.id, callId))
    .limit(1);
  if (!head || !canSeeCallOf(actor, head.rep)) throw notFound('call');

  const [turnRows, [scorecard], deliveries, recording] = await Promise.all([
    deps.db
      .select({ turn: turns, metrics: turnMetrics, personaName: personas.name })
      .from(turns)
      .leftJoin(turnMetrics, eq(turnMetrics.turnId, turns.id))
      .leftJoin(personas, eq(personas.id, turns.personaId))
      .where(eq(turns.callId, callId))
      .orderBy(asc(turns.seq)),
    deps.db.select().from(scorecards).where(eq(scorecards.callId, callId)).limit(1),
    deps.db.select().from(emailDeliveries).where(eq(emailDeliveries.callId, callId)).orderBy(asc(emailDeliveries.createdAt)),
    recordingOf(deps, callId),
  ]);

  return {
    ...head.call,
    rep: head.rep ? { id: head.rep.id, name: head.rep.name, email: head.rep.email } : null,
    scenario: head.scenario,
    persona: head.persona
      ? { id: head.persona.id, name: head.persona.name, role: head.persona.role, company: head.persona.company, language: head.persona.language }
      : null,
    turns: turnRows.map(({ turn, metrics, personaName }) => {
      if (!metrics) return { ...turn, personaName, metrics: null };
      const { turnId: _turnId, createdAt: _createdAt, ...figures } = metrics;
      return { ...turn, personaName, metrics: figures };
    }),
    scorecard: scorecard ?? null,
    emailDeliveries: deliveries,
    recording: recordingState(recording),
  };
}

/** personaId / personaName: staged calls, the persona who spoke (null otherwise). */
export type LiveTurn = Pick<TurnRow, 'seq' | 'speaker' | 'text' | 'interrupted' | 'startedAt' | 'personaId'> & { personaName: string | null };

/**
 * One poll of a live transcript: the call's status and only the turns stored after `afterSeq`,
 * with the same access rule as getCall (checked on every poll: a viewer may lose access mid-call).
 */
export async function liveTurns(deps: Pick<AppDeps, 'db'>, actor: Actor, id: string, afterSeq: number): Promise<{ status: CallStatus; turns: LiveTurn[] }> {
  const callId = parseId(id, 'call');
  const [head] = await deps.db
    .select({ status: calls.status, rep: { id: users.id, role: users.role, managerId: users.managerId } })
    .from(calls)
    .leftJoin(users, eq(users.id, calls.repId))
    .where(eq(calls.id, callId))
    .limit(1);
  if (!head || !canSeeCallOf(actor, head.rep)) throw notFound('call');
  const rows = await deps.db
    .select({ seq: turns.seq, speaker: turns.speaker, text: turns.text, interrupted: turns.interrupted, startedAt: turns.startedAt, personaId: turns.personaId, personaName: personas.name })
    .from(turns)
    .leftJoin(personas, eq(personas.id, turns.personaId))
    .where(and(eq(turns.callId, callId), gt(turns.seq, afterSeq)))
    .orderBy(asc(turns.seq));
  return { status: head.status, turns: rows };
}
