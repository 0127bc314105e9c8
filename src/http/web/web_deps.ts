import type pg from 'pg';
import type { VoiceCatalog } from '../../adapters/elevenlabs/voice_catalog.js';
import type { Logger } from '../../adapters/logger.js';
import type { LoginThrottleRule } from '../../app/login_throttle.js';
import type { ScoringDeps } from '../../app/score_transcript.js';
import type { SignInDeps } from '../../app/sign_in.js';
import type { AppDeps } from '../../app/use_case.js';
import type { WebCallDeps } from '../../app/web_call.js';

/** What the web view needs; main.ts builds it from config, secrets and the database. */
export interface WebDeps {
  /** The same dependencies the JSON API hands to the use cases. */
  app: AppDeps;
  /** The session store shares the application's pool. */
  pool: pg.Pool;
  sessionSecret: string;
  publicBaseUrl: string;
  verifyPassword(hash: string, password: string): Promise<boolean>;
  logger: Logger;
  /** Present when an ElevenLabs key is configured; the persona form then offers a voice list. */
  voices?: VoiceCatalog | undefined;
  defaultVoiceId: string;
  defaultLlmModel: string;
  /** The scorecard model, for "Re-run scoring" on a call page and persona drafting; absent, neither is offered. */
  scoring?: ScoringDeps;
  /** Persona drafts per user and minute (default 10): each is a paid LLM call on the scorecard model. */
  draftRateLimit?: number;
  /** Re-scoring requests per user and minute (default 5): each is a paid LLM call. */
  rescoreRateLimit?: number;
  loginRateLimit?: { windowMs: number; limit: number };
  /** Failed logins per account, across addresses and replicas (config LOGIN_ACCOUNT_*); default 10 per 15 min. */
  accountLoginLimit?: LoginThrottleRule;
  /** Absolute session lifetime from login, however active (config WEB_SESSION_MAX_DAYS; default 7 days). */
  sessionMaxMs?: number;
  /** Live transcript streams one user may hold open at once (default 5). */
  maxLiveStreamsPerUser?: number;
  /** Sends reps' sign-in links and invites (the post-call Mailer); without it no link can go out. */
  mailer?: SignInDeps['mailer'] | undefined;
  signInRateLimit?: { windowMs: number; perAddress: number; perIp: number };
  /** Browser practice calls; absent until LiveKit is configured (the page then says so). */
  practice?: WebCallDeps | null | undefined;
  /** The number reps dial, shown on their page; absent when no Twilio number is configured. */
  practiceNumber?: string | null | undefined;
  /** How often the live transcript stream looks for new turns. */
  livePollMs?: number;
  /** Off in tests so no timer outlives them. */
  pruneExpiredSessions?: boolean;
}

export const signInDeps = (deps: WebDeps): SignInDeps => ({ db: deps.app.db, mailer: deps.mailer ?? null, publicBaseUrl: deps.publicBaseUrl, logger: deps.logger });
