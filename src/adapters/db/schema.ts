// The data model (docs/architecture.md, "Data"). This file is the source of truth for row shapes:
// derive insert/select schemas from it with drizzle-zod rather than writing them twice.
import { sql } from 'drizzle-orm';
import {
  type AnyPgColumn,
  bigserial,
  boolean,
  check,
  index,
  integer,
  json,
  jsonb,
  numeric,
  pgEnum,
  pgTable,
  real,
  text,
  timestamp,
  uniqueIndex,
  uuid,
  varchar,
} from 'drizzle-orm/pg-core';
import { CALL_STATUSES } from '../../domain/call_state.js';
import type { CriterionScore, RubricCriterion } from '../../domain/scorecard.js';
import { BACKGROUND_NOISES } from '../../domain/background_noise.js';

const createdAt = () => timestamp('created_at', { withTimezone: true }).notNull().defaultNow();
const updatedAt = () =>
  timestamp('updated_at', { withTimezone: true })
    .notNull()
    .defaultNow()
    .$onUpdate(() => new Date());

export const userRole = pgEnum('user_role', ['admin', 'manager', 'rep']);

export const users = pgTable(
  'users',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    role: userRole('role').notNull(),
    name: text('name').notNull(),
    email: text('email').notNull(),
    /** The manager a rep reports to; null for admins and managers. */
    managerId: uuid('manager_id').references((): AnyPgColumn => users.id, { onDelete: 'set null' }),
    /** E.164 numbers the rep calls from; used to identify callers who dial a scenario extension. */
    phoneNumbers: text('phone_numbers').array().notNull().default(sql`'{}'::text[]`),
    /** argon2id; only admins and managers have one (reps sign in by emailed link). */
    passwordHash: text('password_hash'),
    active: boolean('active').notNull().default(true),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex('users_email_unique').on(sql`lower(${t.email})`), index('users_manager_idx').on(t.managerId)],
);

export const signInTokenPurpose = pgEnum('sign_in_token_purpose', ['sign_in', 'invite']);

/** Emailed single-use sign-in links for reps; only a SHA-256 of the token is stored. */
export const signInTokens = pgTable(
  'sign_in_tokens',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    tokenHash: text('token_hash').notNull().unique(),
    purpose: signInTokenPurpose('purpose').notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    usedAt: timestamp('used_at', { withTimezone: true }),
    createdAt: createdAt(),
  },
  (t) => [index('sign_in_tokens_user_idx').on(t.userId)],
);

/** express-session rows (connect-pg-simple's column layout). */
export const sessions = pgTable(
  'sessions',
  {
    sid: varchar('sid').primaryKey(),
    sess: json('sess').notNull(),
    expire: timestamp('expire', { precision: 6 }).notNull(),
  },
  (t) => [index('sessions_expire_idx').on(t.expire)],
);

/**
 * Failed web logins per account (keyed by a SHA-256 of the lower-cased email, known or not, so
 * the table neither stores typed emails nor tells which exist), shared by every replica: rotating
 * addresses does not buy more guesses at one password.
 */
export const loginThrottle = pgTable('login_throttle', {
  accountKey: text('account_key').primaryKey(),
  failures: integer('failures').notNull(),
  windowStartedAt: timestamp('window_started_at', { withTimezone: true }).notNull(),
  lockedUntil: timestamp('locked_until', { withTimezone: true }),
});

/** Bearer tokens for the JSON API; only a SHA-256 of the token is stored. */
export const apiTokens = pgTable('api_tokens', {
  id: uuid('id').primaryKey().defaultRandom(),
  userId: uuid('user_id')
    .notNull()
    .references(() => users.id, { onDelete: 'cascade' }),
  name: text('name').notNull(),
  tokenHash: text('token_hash').notNull().unique(),
  lastUsedAt: timestamp('last_used_at', { withTimezone: true }),
  /** Past it the token no longer authenticates; set at creation (default 90 days). */
  expiresAt: timestamp('expires_at', { withTimezone: true })
    .notNull()
    .default(sql`now() + interval '90 days'`),
  revokedAt: timestamp('revoked_at', { withTimezone: true }),
  createdAt: createdAt(),
});

export const personas = pgTable('personas', {
  id: uuid('id').primaryKey().defaultRandom(),
  name: text('name').notNull(),
  /** Job title, e.g. "Chief Financial Officer". */
  role: text('role').notNull(),
  company: text('company').notNull(),
  personality: text('personality').notNull(),
  objections: text('objections').array().notNull().default(sql`'{}'::text[]`),
  openingLine: text('opening_line').notNull(),
  voiceId: text('voice_id').notNull(),
  language: text('language').notNull().default('en'),
  llmModel: text('llm_model').notNull(),
  temperature: real('temperature').notNull().default(0.7),
  createdBy: uuid('created_by').references(() => users.id, { onDelete: 'set null' }),
  /** The owning team (its manager), who may edit it; null: the organisation's, edited by admins. */
  teamManagerId: uuid('team_manager_id').references(() => users.id, { onDelete: 'set null' }),
  archivedAt: timestamp('archived_at', { withTimezone: true }),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});

export const difficulty = pgEnum('difficulty', ['easy', 'medium', 'hard']);
export const backgroundNoise = pgEnum('background_noise', BACKGROUND_NOISES);


export const scenarios = pgTable('scenarios', {
  id: uuid('id').primaryKey().defaultRandom(),
  title: text('title').notNull(),
  objective: text('objective').notNull(),
  context: text('context').notNull(),
  difficulty: difficulty('difficulty').notNull().default('medium'),
  personaId: uuid('persona_id')
    .notNull()
    .references(() => personas.id),
  rubric: jsonb('rubric').$type<RubricCriterion[]>().notNull(),
  timeLimitSeconds: integer('time_limit_seconds').notNull().default(600),
  /** Ambience mixed under the persona's voice for the whole call. */
  backgroundNoise: backgroundNoise('background_noise').notNull().default('none'),
  /** Digits a rep may dial instead of a personal PIN (the rep is then found by caller ID). */
  extension: text('extension').unique(),
  /** A called number that leads straight to this scenario, skipping the PIN. */
  directLineNumber: text('direct_line_number').unique(),
  /** Calls on this scenario are recorded (after a spoken disclosure) unless switched off here or by RECORDING_ENABLED. */
  recordCalls: boolean('record_calls').notNull().default(true),
  /** The language of the scorecard's feedback and the email (a supported tag); null: the persona's language (decision 017). */
  feedbackLanguage: text('feedback_language'),
  createdBy: uuid('created_by').references(() => users.id, { onDelete: 'set null' }),
  /** The owning team (its manager), who may edit it; null: the organisation's, edited by admins. */
  teamManagerId: uuid('team_manager_id').references(() => users.id, { onDelete: 'set null' }),
  archivedAt: timestamp('archived_at', { withTimezone: true }),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});

/**
 * The personas a staged scenario's caller can be put through to, after the scenario's own persona
 * (who answers): position 1 is reached from it, position 2 from position 1, and so on (decision 018).
 * A scenario without rows here is a single-persona scenario.
 */
export const scenarioStages = pgTable(
  'scenario_stages',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    scenarioId: uuid('scenario_id')
      .notNull()
      .references(() => scenarios.id, { onDelete: 'cascade' }),
    position: integer('position').notNull(),
    personaId: uuid('persona_id')
      .notNull()
      .references(() => personas.id),
    /** In plain words, when the persona before puts the caller through, e.g. "once they give their name and a business reason". */
    advanceRule: text('advance_rule').notNull(),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('scenario_stages_scenario_position_unique').on(t.scenarioId, t.position), check('scenario_stages_position_positive', sql`${t.position} >= 1`)],
);

export const assignments = pgTable(
  'assignments',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    scenarioId: uuid('scenario_id')
      .notNull()
      .references(() => scenarios.id),
    repId: uuid('rep_id')
      .notNull()
      .references(() => users.id),
    assignedBy: uuid('assigned_by').references(() => users.id, { onDelete: 'set null' }),
    /** HMAC-SHA256(PIN_SECRET, pin) in hex: the database alone never reveals a PIN. */
    pinHash: text('pin_hash').notNull(),
    dueAt: timestamp('due_at', { withTimezone: true }),
    /** When true, calls after dueAt are refused; otherwise the due date is only a reminder. */
    enforceDueDate: boolean('enforce_due_date').notNull().default(false),
    passMark: integer('pass_mark').notNull().default(70),
    maxAttempts: integer('max_attempts'),
    attemptsUsed: integer('attempts_used').notNull().default(0),
    pinRotatedAt: timestamp('pin_rotated_at', { withTimezone: true }),
    /** When a (non-test) call on this assignment first scored at or above the pass mark. */
    passedAt: timestamp('passed_at', { withTimezone: true }),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    // Only live assignments compete for a PIN; a revoked one keeps its hash for the record.
    uniqueIndex('assignments_live_pin_unique').on(t.pinHash).where(sql`${t.revokedAt} is null`),
    index('assignments_rep_idx').on(t.repId),
    check('assignments_pass_mark_range', sql`${t.passMark} between 0 and 100`),
  ],
);

export const callStatus = pgEnum('call_status', CALL_STATUSES);

export const callPath = pgEnum('call_path', ['twilio', 'sip', 'web']);

export interface CallUsage {
  sttAudioSeconds: number;
  llmPromptTokens: number;
  llmCompletionTokens: number;
  ttsCharacters: number;
  callSeconds: number;
}

export const calls = pgTable(
  'calls',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    path: callPath('path').notNull(),
    status: callStatus('status').notNull().default('dispatching'),
    roomName: text('room_name').notNull().unique(),
    assignmentId: uuid('assignment_id').references(() => assignments.id),
    /** Null until the direct-trunk path has resolved the caller's PIN. */
    scenarioId: uuid('scenario_id').references(() => scenarios.id),
    personaId: uuid('persona_id').references(() => personas.id),
    repId: uuid('rep_id').references(() => users.id),
    /** A manager or admin trying a scenario in the browser: kept out of progress and practice metrics. */
    isTest: boolean('is_test').notNull().default(false),
    twilioCallSid: text('twilio_call_sid').unique(),
    sipCallId: text('sip_call_id'),
    fromNumber: text('from_number'),
    toNumber: text('to_number'),
    answeredAt: timestamp('answered_at', { withTimezone: true }),
    endedAt: timestamp('ended_at', { withTimezone: true }),
    durationSeconds: integer('duration_seconds'),
    endReason: text('end_reason'),
    /** Provider failures seen during the call: [{ at, provider, message }]. */
    providerErrors: jsonb('provider_errors').$type<{ at: string; provider: string; message: string }[]>().notNull().default([]),
    usage: jsonb('usage').$type<CallUsage>(),
    estimatedCostUsd: numeric('estimated_cost_usd', { precision: 10, scale: 4 }),
    analytics: jsonb('analytics').$type<Record<string, unknown>>(),
    finalizedAt: timestamp('finalized_at', { withTimezone: true }),
    /** The agent has written its last turn and said so; the post-call job waits for it before scoring. */
    agentFinishedAt: timestamp('agent_finished_at', { withTimezone: true }),
    /** Some turns may be missing: the agent reported unwritten turns, or never reported at all. */
    transcriptIncomplete: boolean('transcript_incomplete').notNull().default(false),
    /** The retention job removed this call's turns and scorecard (RETENTION_TRANSCRIPT_DAYS). */
    transcriptDeletedAt: timestamp('transcript_deleted_at', { withTimezone: true }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index('calls_rep_created_idx').on(t.repId, t.createdAt), index('calls_status_idx').on(t.status)],
);

export const speaker = pgEnum('speaker', ['rep', 'persona']);

export const turns = pgTable(
  'turns',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    callId: uuid('call_id')
      .notNull()
      .references(() => calls.id, { onDelete: 'cascade' }),
    seq: integer('seq').notNull(),
    speaker: speaker('speaker').notNull(),
    text: text('text').notNull(),
    startedAt: timestamp('started_at', { withTimezone: true, precision: 3 }).notNull(),
    endedAt: timestamp('ended_at', { withTimezone: true, precision: 3 }).notNull(),
    interrupted: boolean('interrupted').notNull().default(false),
    /** Which persona spoke (staged calls, decision 018); null for rep turns and single-persona calls (the call's persona). */
    personaId: uuid('persona_id').references(() => personas.id, { onDelete: 'set null' }),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('turns_call_seq_unique').on(t.callId, t.seq)],
);

/** Latency figures for one persona turn, all in milliseconds. */
export const turnMetrics = pgTable('turn_metrics', {
  turnId: uuid('turn_id')
    .primaryKey()
    .references(() => turns.id, { onDelete: 'cascade' }),
  endOfUtteranceDelayMs: real('end_of_utterance_delay_ms'),
  sttMs: real('stt_ms'),
  llmTtftMs: real('llm_ttft_ms'),
  ttsTtfbMs: real('tts_ttfb_ms'),
  endToEndMs: real('end_to_end_ms'),
  /** The reply was prepared speculatively, starting this long before the rep's turn committed (null: after). */
  speculativeLeadMs: real('speculative_lead_ms'),
  createdAt: createdAt(),
});

export const scorecardStatus = pgEnum('scorecard_status', ['scored', 'unavailable']);


export const scorecards = pgTable('scorecards', {
  id: uuid('id').primaryKey().defaultRandom(),
  callId: uuid('call_id')
    .notNull()
    .unique()
    .references(() => calls.id, { onDelete: 'cascade' }),
  status: scorecardStatus('status').notNull(),
  overallScore: real('overall_score'),
  passed: boolean('passed'),
  criteria: jsonb('criteria').$type<CriterionScore[]>().notNull().default([]),
  summary: text('summary'),
  /**
   * Set when the rep spoke to the scorer or the system ("note to the coach: full marks") or the
   * model's evidence did not hold up: a manager should read the call before trusting the score.
   */
  needsReview: boolean('needs_review').notNull().default(false),
  /** Why it needs review, in words a manager reads (quotes of the rep's lines included). */
  reviewReasons: jsonb('review_reasons').$type<string[]>().notNull().default([]),
  /** Why the scorecard is unavailable, when it is. */
  reason: text('reason'),
  model: text('model').notNull(),
  promptVersion: text('prompt_version').notNull(),
  createdAt: createdAt(),
});

export const recordingStatus = pgEnum('recording_status', ['recording', 'complete', 'deleted']);

/**
 * A call's audio: one stereo Ogg/Opus stream (rep left, persona right) stored as chunks under
 * `recordings/<callId>/` (src/app/recording_files.ts). Offset 0 of the audio is `startedAt`, so a
 * turn plays at `turn.startedAt - startedAt`. Kept (status 'deleted') after retention removes the
 * audio, so the call page can say so.
 */
export const recordings = pgTable('recordings', {
  callId: uuid('call_id')
    .primaryKey()
    .references(() => calls.id, { onDelete: 'cascade' }),
  status: recordingStatus('status').notNull().default('recording'),
  contentType: text('content_type').notNull(),
  startedAt: timestamp('started_at', { withTimezone: true, precision: 3 }).notNull(),
  durationMs: integer('duration_ms'),
  bytes: integer('bytes'),
  chunks: integer('chunks').notNull().default(0),
  deletedAt: timestamp('deleted_at', { withTimezone: true }),
  /** Why the audio is gone: 'retention' (then `retentionDays` says after how long). */
  deletedReason: text('deleted_reason'),
  retentionDays: integer('retention_days'),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});

export const emailStatus = pgEnum('email_status', ['pending', 'sent', 'failed']);

/** One row per (call, recipient): the guard that makes every email go out exactly once. */
export const emailDeliveries = pgTable(
  'email_deliveries',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    callId: uuid('call_id')
      .notNull()
      .references(() => calls.id, { onDelete: 'cascade' }),
    recipient: text('recipient').notNull(),
    status: emailStatus('status').notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    messageId: text('message_id'),
    lastError: text('last_error'),
    sentAt: timestamp('sent_at', { withTimezone: true }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex('email_deliveries_call_recipient_unique').on(t.callId, t.recipient)],
);

export const pinChannel = pgEnum('pin_channel', ['twilio', 'sip', 'api']);

/** Every PIN entry, right or wrong, keyed by caller number for lock-outs. The PIN itself is never stored. */
export const pinAttempts = pgTable(
  'pin_attempts',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    /** The caller's lock-out bucket: the number in E.164, or 'anonymous'. */
    callerNumber: text('caller_number').notNull(),
    /** The called number in E.164 (the line or trunk number), or null when the carrier sent none. */
    calledNumber: text('called_number'),
    /** Caller ID vouched for (STIR/SHAKEN full attestation); a spoofer's failures do not lock the real rep's verified calls. */
    callerVerified: boolean('caller_verified').notNull().default(false),
    channel: pinChannel('channel').notNull(),
    success: boolean('success').notNull(),
    reason: text('reason'),
    createdAt: createdAt(),
  },
  (t) => [
    index('pin_attempts_caller_created_idx').on(t.callerNumber, t.createdAt),
    index('pin_attempts_called_created_idx').on(t.calledNumber, t.createdAt),
    index('pin_attempts_created_idx').on(t.createdAt),
  ],
);

export const auditLog = pgTable(
  'audit_log',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    actorUserId: uuid('actor_user_id').references(() => users.id, { onDelete: 'set null' }),
    action: text('action').notNull(),
    entityType: text('entity_type').notNull(),
    entityId: text('entity_id'),
    details: jsonb('details').$type<Record<string, unknown>>().notNull().default({}),
    createdAt: createdAt(),
  },
  (t) => [index('audit_log_entity_idx').on(t.entityType, t.entityId)],
);
