// Composition root of the dispatch service: reads config, wires adapters into the HTTP app.
// It holds no logic of its own.
import { ConfigError, databaseOptions, loadConfig, missingAgentKeys, publicUrlProblem, type Config } from './config.js';
import { startAgentWorkerProcess, type AgentWorkerProcess } from './adapters/agent_process.js';
import { bootstrapDatabase, DatabaseUnavailableError } from './adapters/db/bootstrap.js';
import { createCallRoutingStore } from './adapters/db/call_routing_store.js';
import { EmbeddedPostgresError } from './adapters/db/embedded.js';
import { hasAdmin, seedDemoData, type DemoCredentials } from './adapters/db/seed.js';
import { scorecardModelFromConfig } from './adapters/groq/scorecard_model.js';
import { createLivekitCallerTokens } from './adapters/livekit/caller_token.js';
import { createLivekitRoomService } from './adapters/livekit/room_service.js';
import { createLivekitTokenVerifier, createLivekitWebhookVerifier } from './adapters/livekit/webhooks.js';
import { createLogger, safeStack } from './adapters/logger.js';
import { createMetricsRegistry } from './adapters/metrics.js';
import { createAgentAvailability } from './adapters/agent_availability.js';
import { agentReadiness, databaseReadiness, livekitReadiness, postCallQueueReadiness } from './adapters/readiness.js';
import { createElevenLabsVoiceCatalog } from './adapters/elevenlabs/voice_catalog.js';
import { createSmtpMailer } from './adapters/mail/mailer.js';
import { createPostCallQueue } from './adapters/queue/post_call_queue.js';
import { hashPassword, verifyPassword } from './adapters/password.js';
import { loadSecrets } from './adapters/secrets.js';
import { runShutdown } from './adapters/shutdown.js';
import { createTwilioSignatureVerifier } from './adapters/twilio/signature.js';
import { makeOnCallEnded } from './app/finalize_call.js';
import { LOGIN_THROTTLE_PRUNE_JOB, pruneLoginThrottle } from './app/login_throttle.js';
import { runPostCall } from './app/post_call.js';
import { CALL_SWEEP_JOB, sweepOverdueCalls } from './app/sweep_calls.js';
import { applyRetention, RETENTION_JOB } from './app/retention.js';
import type { CallRoutingDeps } from './app/resolve_call.js';
import { lockoutRuleFromMinutes, windowRuleFromMinutes } from './domain/lockout.js';
import { createHttpApp } from './http/app.js';
import { createOpsApp, type OpsDeps } from './http/ops_router.js';
import { listen, PortInUseError } from './http/server.js';
import { makeWebRouter } from './http/web/web_router.js';
import { createStorage } from './adapters/storage/create_storage.js';

/** Printed straight to the terminal, once: credentials must never reach the structured logs. */
function printDemoCredentials(credentials: DemoCredentials, config: Config): void {
  const lines = [
    '',
    '  Practice Line is seeded with demo data. These secrets are shown ONCE and are not stored in plain text:',
    `    admin    ${credentials.admin.email}  password: ${credentials.admin.password}`,
    `    manager  ${credentials.manager.email}  password: ${credentials.manager.password}`,
    ...credentials.pins.map((entry) => `    PIN ${entry.pin}  ${entry.rep} -> ${entry.scenario}`),
    ...credentials.extensions.map((entry) => `    extension ${entry.extension}  -> ${entry.scenario} (rep found by caller ID)`),
    `  Web view: ${config.PUBLIC_BASE_URL}`,
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

function reportMissingKeys(config: Config, logger: ReturnType<typeof createLogger>): void {
  for (const [name, status] of Object.entries(config.integrations)) {
    if (!status.configured) logger.warn({ integration: name, missing: status.missing }, 'integration not configured');
  }
}

/** Where the agent worker's health endpoint is: configured, or the worker `--with-agent` starts beside us. */
function agentHealthUrl(config: Config): string | undefined {
  if (config.AGENT_HEALTH_URL) return config.AGENT_HEALTH_URL;
  const withAgent = process.argv.includes('--with-agent') && missingAgentKeys(config).length === 0;
  return withAgent ? `http://127.0.0.1:${config.AGENT_HTTP_PORT}` : undefined;
}

/** `npm start` (--with-agent) runs the persona worker too, once its keys are set; production runs it separately. */
function startAgentIfWanted(config: Config, logger: ReturnType<typeof createLogger>, port: number): AgentWorkerProcess | undefined {
  if (!process.argv.includes('--with-agent')) return undefined;
  const missing = missingAgentKeys(config);
  if (missing.length > 0) {
    logger.warn({ missing }, 'agent worker not started: calls cannot be answered until these keys are set');
    return undefined;
  }
  return startAgentWorkerProcess({ logger, dispatchUrl: `http://127.0.0.1:${port}` });
}

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ level: config.LOG_LEVEL, redactPii: config.NODE_ENV === 'production' });
  const secrets = await loadSecrets(config.DATA_DIR, { pinSecret: config.PIN_SECRET, sessionSecret: config.SESSION_SECRET });

  const database = await bootstrapDatabase(databaseOptions(config, secrets.databasePassword, logger));

  // Demo data carries live PINs and passwords: never in production, where init-admin makes the first account.
  if (config.NODE_ENV === 'production') {
    if (!(await hasAdmin(database.db))) logger.warn({ command: 'npm run cli -- init-admin' }, 'no admin yet: create the first one with the admin CLI');
  } else {
    const credentials = await seedDemoData({ db: database.db, pinSecret: secrets.pinSecret, hashPassword, llmModel: config.GROQ_LLM_MODEL });
    if (credentials) printDemoCredentials(credentials, config);
  }

  // Post-call: the pg-boss queue lives in the same database; its worker runs in this process.
  const scorecardModel = scorecardModelFromConfig(config);
  const mailer = config.SMTP_HOST
    ? createSmtpMailer({ host: config.SMTP_HOST, port: config.SMTP_PORT, secure: config.SMTP_SECURE, user: config.SMTP_USER, password: config.SMTP_PASSWORD, from: config.MAIL_FROM })
    : null;
  const postCallQueue = createPostCallQueue({ pool: database.pool, logger });
  await postCallQueue.start();
  await postCallQueue.work(async (job) => {
    await runPostCall({ db: database.db, scorecardModel, scorecardModelName: config.GROQ_SCORECARD_MODEL, mailer, publicBaseUrl: config.PUBLIC_BASE_URL, logger }, job);
  });
  let postCallWorkerRunning = true;

  // Call routing: every terminal call state converges on finalisation (the post-call job).
  const onCallEnded = makeOnCallEnded({
    pool: database.pool,
    enqueuePostCall: (callId, tx, delaySeconds) => postCallQueue.enqueue(callId, tx, delaySeconds),
    logger,
  });
  const livekitKeys =
    config.LIVEKIT_URL && config.LIVEKIT_API_KEY && config.LIVEKIT_API_SECRET
      ? { url: config.LIVEKIT_URL, apiKey: config.LIVEKIT_API_KEY, apiSecret: config.LIVEKIT_API_SECRET }
      : null;
  const routing: CallRoutingDeps | null = livekitKeys
    ? {
        db: database.db,
        store: createCallRoutingStore(database.db),
        pinSecret: secrets.pinSecret,
        lockout: lockoutRuleFromMinutes(config.PIN_LOCKOUT_MAX_FAILURES, config.PIN_LOCKOUT_WINDOW_MINUTES, config.PIN_LOCKOUT_MINUTES),
        limits: {
          line: windowRuleFromMinutes(config.PIN_LINE_MAX_FAILURES, config.PIN_LINE_WINDOW_MINUTES),
          global: windowRuleFromMinutes(config.PIN_GLOBAL_MAX_FAILURES, config.PIN_GLOBAL_WINDOW_MINUTES),
        },
        callerIdTrust: { twilio: config.CALLER_ID_TRUST_TWILIO, sip: config.CALLER_ID_TRUST_SIP },
        rooms: createLivekitRoomService(livekitKeys),
        agentName: config.LIVEKIT_AGENT_NAME,
        onCallEnded,
        logger,
      }
    : null;

  // Calls whose end nobody reported are closed once past their time limit plus a grace period.
  await postCallQueue.every(CALL_SWEEP_JOB, '* * * * *', async () => {
    await sweepOverdueCalls({ db: database.db, onCallEnded, logger, graceSeconds: config.CALL_SWEEP_GRACE_SECONDS, rooms: routing?.rooms ?? null });
  });

  const accountLoginLimit = { maxFailures: config.LOGIN_ACCOUNT_MAX_FAILURES, lockMs: config.LOGIN_ACCOUNT_LOCK_MINUTES * 60_000 };
  await postCallQueue.every(LOGIN_THROTTLE_PRUNE_JOB, '17 * * * *', async () => {
    await pruneLoginThrottle(database.db, accountLoginLimit, new Date());
  });

  // Recordings (disk under DATA_DIR, or S3): played on call pages, deleted by retention and delete-rep.
  const storage = createStorage(config);
  // Once a day: audio and transcripts past RETENTION_*_DAYS go (counts in the log).
  await postCallQueue.every(RETENTION_JOB, '41 3 * * *', async () => {
    await applyRetention({ db: database.db, storage, logger }, { audioDays: config.RETENTION_AUDIO_DAYS, transcriptDays: config.RETENTION_TRANSCRIPT_DAYS });
  });
  const healthUrl = agentHealthUrl(config);
  const agentAvailability = healthUrl ? createAgentAvailability(healthUrl, { maxCalls: config.AGENT_MAX_CALLS }) : null;

  const voices = config.ELEVENLABS_API_KEY
    ? createElevenLabsVoiceCatalog({
        apiKey: config.ELEVENLABS_API_KEY,
        baseUrl: config.ELEVENLABS_BASE_URL,
        onError: (error) => logger.warn({ err: error }, 'elevenlabs voice list unavailable'),
      })
    : undefined;
  const web = makeWebRouter({
    app: { db: database.db, pinSecret: secrets.pinSecret, hashPassword, verifyPassword, storage },
    pool: database.pool,
    sessionSecret: secrets.sessionSecret,
    publicBaseUrl: config.PUBLIC_BASE_URL,
    verifyPassword,
    logger,
    voices,
    defaultVoiceId: config.ELEVENLABS_DEFAULT_VOICE_ID,
    defaultLlmModel: config.GROQ_LLM_MODEL,
    scoring: { scorecardModel, scorecardModelName: config.GROQ_SCORECARD_MODEL, logger },
    sessionMaxMs: config.WEB_SESSION_MAX_DAYS * 24 * 60 * 60_000,
    accountLoginLimit,
    mailer,
    practice:
      routing && livekitKeys
        ? { ...routing, tokens: createLivekitCallerTokens(livekitKeys), livekitUrl: config.LIVEKIT_PUBLIC_URL ?? livekitKeys.url, agentJoinTimeoutSeconds: config.WEB_AGENT_JOIN_TIMEOUT_SECONDS, agentAvailability }
        : null,
    practiceNumber: config.TWILIO_PHONE_NUMBER ?? null,
  });
  let acceptingCalls = true;
  const ops: OpsDeps = {
    checks: {
      database: databaseReadiness(database.ping),
      livekit: livekitReadiness(livekitKeys),
      postCallQueue: postCallQueueReadiness(database.pool, () => postCallWorkerRunning),
      agent: agentReadiness(agentAvailability),
      // Not ready once shutdown begins, so a load balancer sends new calls elsewhere.
      callIntake: async () => (acceptingCalls ? { state: 'ok' } : { state: 'failing', detail: 'shutting down' }),
    },
    metrics: createMetricsRegistry({ pool: database.pool }),
    onMetricsError: (error) => logger.warn({ err: error }, 'metrics scrape failed'),
  };
  const app = createHttpApp({
    logger,
    trustProxy: config.TRUST_PROXY,
    health: { pingDatabase: database.ping, integrations: config.integrations },
    // The public port: readiness without details; metrics only to the METRICS_TOKEN bearer.
    ops: config.METRICS_TOKEN ? { ...ops, readinessDetail: false, metricsToken: config.METRICS_TOKEN } : { checks: ops.checks, readinessDetail: false },
    managementApi: {
      db: database.db,
      pinSecret: secrets.pinSecret,
      hashPassword,
      verifyPassword,
      storage,
      personaDefaults: { llmModel: config.GROQ_LLM_MODEL, voiceId: config.ELEVENLABS_DEFAULT_VOICE_ID },
      personaDrafts: { draftModel: scorecardModel, voices, personaDefaults: { llmModel: config.GROQ_LLM_MODEL, voiceId: config.ELEVENLABS_DEFAULT_VOICE_ID } },
    },
    scorecardApi: { db: database.db, scorecardModel, scorecardModelName: config.GROQ_SCORECARD_MODEL, logger },
    twilio: {
      acceptingCalls: () => acceptingCalls,
      publicBaseUrl: config.PUBLIC_BASE_URL,
      verifySignature: config.TWILIO_AUTH_TOKEN ? createTwilioSignatureVerifier(config.TWILIO_AUTH_TOKEN) : null,
      routing,
      sip: config.LIVEKIT_SIP_HOST
        ? {
            host: config.LIVEKIT_SIP_HOST,
            ...(config.LIVEKIT_SIP_USERNAME ? { username: config.LIVEKIT_SIP_USERNAME } : {}),
            ...(config.LIVEKIT_SIP_PASSWORD ? { password: config.LIVEKIT_SIP_PASSWORD } : {}),
          }
        : null,
      agentAvailability,
      ...(config.LINE_LANGUAGES ? { lineLanguages: config.LINE_LANGUAGES } : {}),
      logger,
    },
    dispatch: {
      sharedSecret: config.DISPATCH_SHARED_SECRET,
      verifyLivekitToken: livekitKeys ? createLivekitTokenVerifier(livekitKeys) : null,
      routing,
      ...(config.LINE_LANGUAGES ? { lineLanguages: config.LINE_LANGUAGES } : {}),
      logger,
    },
    livekitWebhook: {
      verifyWebhook: livekitKeys ? createLivekitWebhookVerifier(livekitKeys) : null,
      calls: { db: database.db, onCallEnded, logger },
      rooms: routing?.rooms ?? null,
      agentAvailability,
      logger,
    },
    web: web.router,
  });
  const http = await listen(app, config.PORT, config.HOST).catch(async (error: unknown) => {
    await postCallQueue.stop(5_000);
    await database.shutdown();
    throw error;
  });
  const opsHttp = await listen(createOpsApp(ops), config.METRICS_PORT, config.METRICS_HOST).catch(async (error: unknown) => {
    await http.close();
    await postCallQueue.stop(5_000);
    await database.shutdown();
    throw error;
  });
  logger.info({ port: http.port, publicBaseUrl: config.PUBLIC_BASE_URL, embeddedDatabase: database.embedded }, 'dispatch service listening');
  logger.info({ host: config.METRICS_HOST, port: opsHttp.port }, 'metrics listening');
  reportMissingKeys(config, logger);
  const urlProblem = config.TWILIO_AUTH_TOKEN ? publicUrlProblem(config.PUBLIC_BASE_URL) : undefined;
  // Printed on its own as well as logged: an operator watching the start must not miss it.
  if (urlProblem !== undefined) {
    logger.warn({ publicBaseUrl: config.PUBLIC_BASE_URL }, 'PUBLIC_BASE_URL cannot be reached by Twilio');
    process.stderr.write(`\n${urlProblem}\n\n`);
  }
  const agentWorker = startAgentIfWanted(config, logger, http.port);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal, deadlineSeconds: config.SHUTDOWN_TIMEOUT_SECONDS }, 'shutting down');
    const report = await runShutdown(
      [
        // First: no new calls (Twilio callers hear "call again in a minute"; another instance takes them).
        { name: 'call intake', run: async () => void (acceptingCalls = false) },
        // Live transcript streams never end by themselves: close them so the server can stop.
        { name: 'live transcript streams', run: () => web.close() },
        // The worker drains its calls while the dispatch service still answers its PIN look-ups.
        { name: 'agent worker', run: async () => agentWorker?.stop() },
        { name: 'http server', run: () => http.close() },
        { name: 'ops listener', run: () => opsHttp.close() },
        // Lets the job in hand finish (or hands it back for a retry) before the pool closes.
        { name: 'post-call worker', run: async () => {
          postCallWorkerRunning = false;
          await postCallQueue.stop(10_000);
        } },
        { name: 'mailer', run: async () => mailer?.close?.() },
        { name: 'database', run: () => database.shutdown() },
      ],
      config.SHUTDOWN_TIMEOUT_SECONDS * 1000,
      logger,
    );
    logger.info({ completed: report.completed, failed: report.failed, ...(report.hung ? { hung: report.hung } : {}) }, 'stopped');
    process.exit(report.completed && report.failed.length === 0 ? 0 : 1);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

const expected = [ConfigError, DatabaseUnavailableError, EmbeddedPostgresError, PortInUseError];

main().catch((error: unknown) => {
  // Known start-up problems get one clear sentence, not a stack trace.
  if (expected.some((kind) => error instanceof kind)) {
    process.stderr.write(`practice-line: ${(error as Error).message}\n`);
  } else {
    process.stderr.write(`practice-line: unexpected error during start-up\n${safeStack(error)}\n`);
  }
  process.exit(1);
});
