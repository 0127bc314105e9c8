// The one reader of process.env. Everything else receives the frozen Config built here.
import { existsSync } from 'node:fs';
import { isIP } from 'node:net';
import { z } from 'zod';
import type { DatabaseOptions } from './adapters/db/bootstrap.js';
import type { Logger } from './adapters/logger.js';
import { SUPPORTED_LANGUAGE_TAGS, supportedLanguageTag } from './domain/languages.js';
import { DEFAULT_CALLER_ID_TRUST, DEFAULT_GLOBAL_LIMIT, DEFAULT_LINE_LIMIT, normalisePhoneNumber } from './domain/lockout.js';

const optionalString = z
  .string()
  .trim()
  .transform((value) => (value === '' ? undefined : value))
  .optional();

const optionalUrl = (what: string) =>
  optionalString.pipe(z.url({ message: `expected ${what}` }).optional());

const port = (fallback: number) =>
  z.coerce
    .number({ message: 'expected a port number' })
    .int('expected a whole port number')
    .min(0, 'expected a port between 0 and 65535')
    .max(65535, 'expected a port between 0 and 65535')
    .default(fallback);

const positiveInt = (fallback: number) =>
  z.coerce.number({ message: 'expected a number' }).int('expected a whole number').positive('expected a positive number').default(fallback);

const booleanFlag = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no', ''], { message: 'expected true or false' })
    .optional()
    .transform((value) => (value === undefined || value === '' ? fallback : ['true', '1', 'yes'].includes(value)));

const PROXY_NAMES = ['loopback', 'linklocal', 'uniquelocal'];
/**
 * Which hops' X-Forwarded-* headers to believe (Express "trust proxy"): none (default), a hop count,
 * or addresses/CIDRs/names. "Everything" is refused: any client could then pick its own address.
 */
const trustProxy = optionalString
  .refine(
    (value) =>
      value === undefined ||
      /^\d{1,2}$/.test(value) ||
      value.split(',').every((entry) => {
        const [address, prefix, ...rest] = entry.trim().split('/');
        if (rest.length > 0 || address === undefined) return false;
        if (PROXY_NAMES.includes(address)) return prefix === undefined;
        return isIP(address) !== 0 && (prefix === undefined || /^\d{1,3}$/.test(prefix));
      }),
    'expected a hop count (e.g. 1) or proxy addresses, e.g. "10.0.0.0/8, loopback"',
  )
  .transform((value): false | number | string => (value === undefined ? false : /^\d+$/.test(value) ? Number(value) : value));

const databaseUrl = optionalString.pipe(
  z
    .string()
    .regex(/^postgres(ql)?:\/\/[^\s]+$/, 'expected a postgres:// or postgresql:// connection URL')
    .refine((value) => URL.canParse(value), 'expected a valid postgres:// connection URL')
    .optional(),
);

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  HOST: z.string().default('0.0.0.0'),
  PORT: port(3000),
  PUBLIC_BASE_URL: optionalUrl('an http(s) URL such as https://practice.example.com'),
  /** On SIGTERM the service stops within this many seconds, whatever hangs (keep it under the orchestrator's kill grace). */
  SHUTDOWN_TIMEOUT_SECONDS: positiveInt(25),
  /** The ops listener (/metrics, detailed /readyz): loopback by default, so only a local scraper reaches it. */
  METRICS_HOST: z.string().default('127.0.0.1'),
  METRICS_PORT: port(9464),
  /** When set, /metrics is also served on PORT to `Authorization: Bearer <token>`. */
  METRICS_TOKEN: optionalString.pipe(z.string().min(24, 'expected at least 24 characters').optional()),
  /** Reverse proxies whose X-Forwarded-For/-Proto are believed; none by default. */
  TRUST_PROXY: trustProxy,

  DATABASE_URL: databaseUrl,
  DATA_DIR: z.string().default('.data'),
  EMBEDDED_PG_PORT: port(54329),
  /** Longest wait (ms) for a pooled database connection before the request fails instead of hanging. */
  DB_CONNECTION_TIMEOUT_MS: positiveInt(5_000),
  /** Server-side limit (ms) on one SQL statement. */
  DB_STATEMENT_TIMEOUT_MS: positiveInt(30_000),
  /** Server-side limit (ms) on a transaction left idle; the server then ends it and frees its locks. */
  DB_IDLE_IN_TRANSACTION_TIMEOUT_MS: positiveInt(60_000),

  PIN_SECRET: optionalString.pipe(z.string().min(32, 'expected at least 32 characters').optional()),
  SESSION_SECRET: optionalString.pipe(z.string().min(32, 'expected at least 32 characters').optional()),
  PIN_LOCKOUT_MAX_FAILURES: positiveInt(5),
  PIN_LOCKOUT_WINDOW_MINUTES: positiveInt(15),
  PIN_LOCKOUT_MINUTES: positiveInt(15),
  /** Failed web logins on one account (from any address) before it is locked for LOGIN_ACCOUNT_LOCK_MINUTES. */
  LOGIN_ACCOUNT_MAX_FAILURES: positiveInt(10),
  LOGIN_ACCOUNT_LOCK_MINUTES: positiveInt(15),
  /** A web session ends this many days after login however active it is (it also ends after 12 h idle). */
  WEB_SESSION_MAX_DAYS: positiveInt(7),
  /** Seconds the browser practice page waits for the persona to join before it gives the attempt back. */
  WEB_AGENT_JOIN_TIMEOUT_SECONDS: positiveInt(10),
  /** A call still open this long (s) past its scenario's time limit is closed as failed by the sweeper. */
  CALL_SWEEP_GRACE_SECONDS: positiveInt(120),
  /** Wrong PINs (any callers) on one called number within the window before PIN entry on it pauses. */
  PIN_LINE_MAX_FAILURES: positiveInt(DEFAULT_LINE_LIMIT.maxFailures),
  PIN_LINE_WINDOW_MINUTES: positiveInt(DEFAULT_LINE_LIMIT.windowMinutes),
  /** Wrong PINs on the whole service within the window before PIN entry pauses everywhere. */
  PIN_GLOBAL_MAX_FAILURES: positiveInt(DEFAULT_GLOBAL_LIMIT.maxFailures),
  PIN_GLOBAL_WINDOW_MINUTES: positiveInt(DEFAULT_GLOBAL_LIMIT.windowMinutes),
  /** When caller ID alone may name the rep (extensions, direct lines) on the Twilio path: attested (STIR/SHAKEN A), any, none. */
  CALLER_ID_TRUST_TWILIO: z.enum(['attested', 'any', 'none'], { message: 'expected attested, any or none' }).default(DEFAULT_CALLER_ID_TRUST.twilio),
  /** On the direct trunk: carrier (the trunk takes only the carrier's addresses) or none (always a PIN). */
  CALLER_ID_TRUST_SIP: z.enum(['carrier', 'none'], { message: 'expected carrier or none' }).default(DEFAULT_CALLER_ID_TRUST.sip),

  LIVEKIT_URL: optionalUrl('a ws(s):// or http(s):// LiveKit server URL'),
  LIVEKIT_API_KEY: optionalString,
  LIVEKIT_API_SECRET: optionalString,
  /** The LiveKit URL browsers join practice calls at, when it differs from LIVEKIT_URL (e.g. wss:// behind TLS vs ws://livekit:7880 inside compose). */
  LIVEKIT_PUBLIC_URL: optionalUrl('a ws(s):// LiveKit URL reachable from reps\' browsers'),
  LIVEKIT_SIP_HOST: optionalString,
  LIVEKIT_AGENT_NAME: z.string().default('practice-line-persona'),
  /** Digest credentials of the LiveKit inbound trunk Twilio's <Dial><Sip> authenticates with (sip:provision sets them on the trunk). */
  LIVEKIT_SIP_USERNAME: optionalString,
  LIVEKIT_SIP_PASSWORD: optionalString,
  DISPATCH_SHARED_SECRET: optionalString.pipe(z.string().min(16, 'expected at least 16 characters').optional()),
  /** Where the agent worker reaches the dispatch service (direct-trunk PIN resolution); defaults to http://127.0.0.1:PORT. */
  DISPATCH_INTERNAL_URL: optionalUrl('an http(s) URL of the dispatch service'),
  /** How a turn's stages run: 'overlapped' transcribes during the silence and prepares the reply speculatively; 'serial' is the first wave's pipeline (decision 011). */
  AGENT_TURN_PIPELINE: z.enum(['overlapped', 'serial'], { message: "expected 'overlapped' or 'serial'" }).default('overlapped'),
  /** 'vad': a fixed silence ends the rep's turn; 'model': LiveKit's local end-of-turn model waits longer when the rep sounds unfinished. */
  AGENT_TURN_DETECTOR: z.enum(['vad', 'model'], { message: "expected 'vad' or 'model'" }).default('vad'),
  /** Silence (ms) after the caller stops before the persona answers (the rep's turn commits). */
  AGENT_ENDPOINTING_MIN_DELAY_MS: positiveInt(700),
  /** Turn detector 'model': the longest silence (ms) waited when the rep sounds unfinished. */
  AGENT_ENDPOINTING_MAX_DELAY_MS: positiveInt(2000),
  /** Overlapped pipeline: silence (ms) that closes a speech segment and sends it to Whisper while the turn is still open. */
  AGENT_STT_SEGMENT_SILENCE_MS: positiveInt(200),
  /** Overlapped pipeline: silence (ms) after which the open segment is already sent to Whisper, answering sooner if the segment then ends; 0: off. Below AGENT_STT_SEGMENT_SILENCE_MS. */
  AGENT_STT_EARLY_REQUEST_MS: z.coerce.number({ message: 'expected a number' }).int('expected a whole number').min(0, 'expected 0 (off) or more').default(120),
  /** Overlapped pipeline: speculative replies started at most per rep turn (each costs an LLM request and some TTS). */
  AGENT_PREEMPTIVE_MAX_RETRIES: positiveInt(5),
  /** Voiced caller speech over the persona must last this long (ms) to cut it off; shorter is a backchannel. */
  AGENT_INTERRUPTION_MIN_DURATION_MS: positiveInt(600),
  /** A transcript heard over the persona needs this many words to cut it off ("yeah", "mm-hm" do not). */
  AGENT_INTERRUPTION_MIN_WORDS: positiveInt(2),
  /** Seconds before the scenario time limit at which the persona starts wrapping up. */
  AGENT_WRAP_UP_WARNING_SECONDS: positiveInt(30),
  /** Port of the agent worker's health endpoint (0 is not allowed by the agents framework in production). */
  AGENT_HTTP_PORT: port(8081),
  /**
   * The agent workers' health endpoints (http://HOST:AGENT_HTTP_PORT), comma-separated. When set, the dispatch service
   * asks them before a caller keys a PIN (free: one answers and holds fewer than AGENT_MAX_CALLS calls) and /readyz
   * reports it; `npm start --with-agent` sets it for its own worker.
   */
  AGENT_HEALTH_URL: optionalString.pipe(
    z
      .string()
      .refine((value) => value.split(',').every((part) => z.url().safeParse(part.trim()).success), { message: 'expected http(s) URLs of agent worker health endpoints, comma-separated' })
      .optional(),
  ),
  /** Warm job processes the worker keeps ready, so a call never waits for a cold start. */
  AGENT_IDLE_PROCESSES: positiveInt(1),
  /** CPU load (0-1) above which the worker stops accepting new calls (1: never for CPU). */
  AGENT_LOAD_THRESHOLD: z.coerce.number({ message: 'expected a number' }).gt(0, 'expected a load above 0').max(1, 'expected a load of at most 1').default(0.7),
  /** Calls one agent worker holds at most; the next goes to another worker, or hears "no practice partner is free". 0: no limit. */
  AGENT_MAX_CALLS: z.coerce.number({ message: 'expected a whole number' }).int('expected a whole number').min(0, 'expected 0 or more').default(0),
  /** Postgres connections each agent job process (one call) may open; the worker's total is at most this times (calls + idle processes). */
  AGENT_DB_POOL_MAX: positiveInt(2),

  TWILIO_ACCOUNT_SID: optionalString,
  TWILIO_AUTH_TOKEN: optionalString,
  TWILIO_PHONE_NUMBER: optionalString,
  TWILIO_API_BASE_URL: optionalUrl('an http(s) URL'),
  /**
   * The language each called number's prompts speak before a scenario is known, e.g.
   * "+34911234567=es-ES,+4930123456=de" (decision 017); unlisted numbers speak English.
   */
  LINE_LANGUAGES: optionalString.pipe(
    z
      .string()
      .transform((value, ctx): ReadonlyMap<string, string> => {
        const lines = new Map<string, string>();
        for (const entry of value.split(',').map((part) => part.trim()).filter((part) => part !== '')) {
          const [rawNumber = '', rawTag = ''] = entry.split('=').map((part) => part.trim());
          const number = normalisePhoneNumber(rawNumber);
          const tag = supportedLanguageTag(rawTag);
          if (!number || !tag) {
            ctx.addIssue({ code: 'custom', message: `expected number=language pairs with an E.164 number and one of ${SUPPORTED_LANGUAGE_TAGS.join(', ')}; got "${entry}"` });
            return z.NEVER;
          }
          lines.set(number, tag);
        }
        return lines;
      })
      .optional(),
  ),

  GROQ_API_KEY: optionalString,
  GROQ_BASE_URL: z.url({ message: 'expected an http(s) URL' }).default('https://api.groq.com'),
  GROQ_LLM_MODEL: z.string().default('llama-3.3-70b-versatile'),
  GROQ_STT_MODEL: z.string().default('whisper-large-v3-turbo'),
  // Structured outputs (json_schema) are only offered on some Groq models; gpt-oss is one of them.
  GROQ_SCORECARD_MODEL: z.string().default('openai/gpt-oss-120b'),

  ELEVENLABS_API_KEY: optionalString,
  ELEVENLABS_BASE_URL: z.url({ message: 'expected an http(s) URL' }).default('https://api.elevenlabs.io'),
  ELEVENLABS_MODEL: z.string().default('eleven_flash_v2_5'),
  ELEVENLABS_DEFAULT_VOICE_ID: z.string().default('21m00Tcm4TlvDq8ikWAM'),

  /** Record practice calls (stereo Ogg/Opus, rep left, persona right) with a spoken disclosure; false switches recording off everywhere. */
  RECORDING_ENABLED: booleanFlag(true),
  /** Seconds of recorded audio per stored chunk: a crash loses at most about this much plus the encoder's few seconds. */
  RECORDING_CHUNK_SECONDS: positiveInt(4),
  /** Opus bitrate (bits/s) of the stereo recording; speech needs little. */
  RECORDING_BITRATE: positiveInt(32_000),
  /** Where recordings are stored: 'disk' (DATA_DIR/storage, the default) or 's3' (any S3-compatible service). */
  STORAGE_BACKEND: z.enum(['disk', 's3'], { message: "expected 'disk' or 's3'" }).default('disk'),
  S3_BUCKET: optionalString,
  /** An S3-compatible endpoint (MinIO, SeaweedFS, R2...); unset means AWS itself. */
  S3_ENDPOINT: optionalUrl('an http(s) URL of the S3 endpoint'),
  S3_REGION: z.string().default('us-east-1'),
  S3_ACCESS_KEY_ID: optionalString,
  S3_SECRET_ACCESS_KEY: optionalString,
  /** Path-style URLs (endpoint/bucket/key), which most S3-compatible servers need. */
  S3_FORCE_PATH_STYLE: booleanFlag(true),
  /** Days a call's audio is kept; 0 keeps it. A daily job deletes older recordings. */
  RETENTION_AUDIO_DAYS: z.coerce.number({ message: 'expected a number' }).int('expected a whole number').min(0, 'expected 0 or more days').default(0),
  /** Days a call's transcript (turns, scorecard) is kept; 0 keeps it. */
  RETENTION_TRANSCRIPT_DAYS: z.coerce.number({ message: 'expected a number' }).int('expected a whole number').min(0, 'expected 0 or more days').default(0),

  SMTP_HOST: optionalString,
  SMTP_PORT: port(587),
  SMTP_SECURE: booleanFlag(false),
  SMTP_USER: optionalString,
  SMTP_PASSWORD: optionalString,
  MAIL_FROM: z.string().default('Practice Line <practice-line@localhost>'),
});

export type Env = z.input<typeof envSchema>;

/** Every environment key the app reads; .env.example must list exactly these. */
export const configKeys: readonly string[] = Object.freeze(Object.keys(envSchema.shape));
type ParsedEnv = z.output<typeof envSchema>;

export type Integration = 'livekit' | 'twilio' | 'groq' | 'elevenlabs' | 'smtp';

/** Which keys each optional integration needs before it can be switched on. */
const integrationKeys: Record<Integration, (keyof ParsedEnv)[]> = {
  livekit: ['LIVEKIT_URL', 'LIVEKIT_API_KEY', 'LIVEKIT_API_SECRET'],
  twilio: ['TWILIO_ACCOUNT_SID', 'TWILIO_AUTH_TOKEN', 'PUBLIC_BASE_URL'],
  groq: ['GROQ_API_KEY'],
  elevenlabs: ['ELEVENLABS_API_KEY'],
  smtp: ['SMTP_HOST'],
};

export interface IntegrationStatus {
  configured: boolean;
  missing: string[];
}

export interface Config extends Omit<ParsedEnv, 'PUBLIC_BASE_URL'> {
  /** Where Twilio and emails reach us; defaults to http://localhost:PORT for local runs. */
  PUBLIC_BASE_URL: string;
  integrations: Record<Integration, IntegrationStatus>;
}

export class ConfigError extends Error {
  readonly code = 'config_invalid';
  constructor(readonly problems: string[]) {
    super(`Configuration is invalid:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const key = issue.path.join('.') || '(environment)';
  if (issue.code === 'invalid_value' && !issue.message.startsWith('expected')) {
    return `${key}: expected one of ${issue.values.join(', ')}`;
  }
  return `${key}: ${issue.message}`;
}

/** Parses the environment once; every bad key is reported together so a user fixes them in one go. */
/**
 * The process environment, completed by a `.env` file when there is one (ENV_FILE names another
 * file; ENV_FILE= with no value turns it off). Variables already set always win over the file.
 */
export function processEnvironment(): Record<string, string | undefined> {
  const file = process.env.ENV_FILE ?? '.env';
  if (file !== '' && existsSync(file)) process.loadEnvFile(file);
  return process.env;
}

export function loadConfig(env: Record<string, string | undefined> = processEnvironment()): Readonly<Config> {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) throw new ConfigError(parsed.error.issues.map(describeIssue));
  const values = parsed.data;

  const integrations = Object.fromEntries(
    (Object.keys(integrationKeys) as Integration[]).map((name) => {
      const missing = integrationKeys[name].filter((key) => values[key] === undefined).map(String);
      return [name, { configured: missing.length === 0, missing }];
    }),
  ) as Record<Integration, IntegrationStatus>;

  const partial = (Object.keys(integrations) as Integration[]).filter((name) => {
    const { missing } = integrations[name];
    return missing.length > 0 && missing.length < integrationKeys[name].length && name !== 'twilio';
  });
  if (partial.length > 0) {
    throw new ConfigError(
      partial.map((name) => `${integrations[name].missing.join(', ')}: required once any ${name} key is set`),
    );
  }

  if (values.AGENT_STT_EARLY_REQUEST_MS > 0 && values.AGENT_STT_EARLY_REQUEST_MS >= values.AGENT_STT_SEGMENT_SILENCE_MS) {
    throw new ConfigError([`AGENT_STT_EARLY_REQUEST_MS: expected 0 (off) or less than AGENT_STT_SEGMENT_SILENCE_MS (${values.AGENT_STT_SEGMENT_SILENCE_MS})`]);
  }
  if (values.STORAGE_BACKEND === 's3' && values.S3_BUCKET === undefined) {
    throw new ConfigError(['S3_BUCKET: required when STORAGE_BACKEND is s3']);
  }
  if ((values.S3_ACCESS_KEY_ID === undefined) !== (values.S3_SECRET_ACCESS_KEY === undefined)) {
    throw new ConfigError(['S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY: set both or neither (neither: the AWS default credential chain)']);
  }

  return Object.freeze({
    ...values,
    PUBLIC_BASE_URL: (values.PUBLIC_BASE_URL ?? `http://localhost:${values.PORT}`).replace(/\/+$/, ''),
    integrations,
  });
}

/** The database timeouts of config, in the shape createDatabase takes. */
export function databaseTimeouts(config: Readonly<Config>): { connectionTimeoutMs: number; statementTimeoutMs: number; idleInTransactionTimeoutMs: number } {
  return {
    connectionTimeoutMs: config.DB_CONNECTION_TIMEOUT_MS,
    statementTimeoutMs: config.DB_STATEMENT_TIMEOUT_MS,
    idleInTransactionTimeoutMs: config.DB_IDLE_IN_TRANSACTION_TIMEOUT_MS,
  };
}

/** Where the dispatch service and the admin CLI find the database (bootstrap.ts, cli/database.ts). */
export function databaseOptions(config: Readonly<Config>, embeddedPassword: string, logger: Logger): DatabaseOptions {
  return { databaseUrl: config.DATABASE_URL, dataDir: config.DATA_DIR, embeddedPort: config.EMBEDDED_PG_PORT, embeddedPassword, logger, timeouts: databaseTimeouts(config) };
}

/** What the persona agent worker needs before it can take a call; reported all at once. */
export function missingAgentKeys(config: Readonly<Config>): string[] {
  return [...config.integrations.livekit.missing, ...config.integrations.groq.missing, ...config.integrations.elevenlabs.missing];
}

/**
 * Why Twilio could not use PUBLIC_BASE_URL (loopback, or plain http), or undefined when it can.
 * Printed by `npm run sip:provision` and at start-up as a plain warning, not only a log line.
 */
export function publicUrlProblem(publicBaseUrl: string): string | undefined {
  const { protocol, hostname } = new URL(publicBaseUrl);
  const local = ['localhost', '127.0.0.1', '[::1]'].includes(hostname);
  if (!local && protocol === 'https:') return undefined;
  return `WARNING: PUBLIC_BASE_URL is ${publicBaseUrl}. Twilio will call that URL and cannot reach ${local ? "this machine's loopback" : 'a plain http address safely'}: set PUBLIC_BASE_URL to the public https address of the dispatch service (e.g. https://DOMAIN) and run \`npm run sip:provision\` again.`;
}
