// Composition root of the persona agent worker: config -> logger -> database -> providers ->
// @livekit/agents worker registered under LIVEKIT_AGENT_NAME. Only wiring lives here; the call
// itself is persona_call.ts. This file is also the module the worker's job processes import.
import { cli, defineAgent, type JobContext, type JobProcess, ServerOptions, type VAD } from '@livekit/agents';
import * as silero from '@livekit/agents-plugin-silero';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDatabase, type DatabaseHandle } from '../src/adapters/db/client.js';
import { createLogger } from '../src/adapters/logger.js';
import { createCallFinalizer } from '../src/adapters/queue/post_call_queue.js';
import { loadSecrets } from '../src/adapters/secrets.js';
import { createStorage } from '../src/adapters/storage/create_storage.js';
import { type Config, databaseTimeouts, loadConfig, missingAgentKeys } from '../src/config.js';
import { createCallAdmission, hostCpuLoad } from './call_admission.js';
import { createCallStore } from './call_store.js';
import { createDispatchClient, createJobEndedReporter } from './dispatch_client.js';
import { createJobWatch, type JobsView, type JobWatch } from './job_watch.js';
import { createLoadReporter } from './load_report.js';
import { runPersonaCall } from './persona_call.js';
import { startCallRecording } from './recording/call_recorder.js';
import { uploadSpooledChunks } from './recording/chunk_uploader.js';
import { bundledFfmpegPath } from './recording/library_recorder.js';
import { createRecordingStore } from './recording/recording_store.js';
import { earlyVadSettings, type TurnSettings, vadSettings } from './session_factory.js';
import { createTurnWriter } from './turn_writer.js';

interface ProcessData extends Record<string, unknown> {
  vad?: VAD;
  /** AGENT_STT_EARLY_REQUEST_MS set: the second VAD that sends segments to Whisper early. */
  earlyVad?: VAD;
  database?: DatabaseHandle;
}

function turnSettings(config: Readonly<Config>): TurnSettings {
  return {
    pipeline: config.AGENT_TURN_PIPELINE,
    turnDetector: config.AGENT_TURN_DETECTOR,
    endpointingMinDelayMs: config.AGENT_ENDPOINTING_MIN_DELAY_MS,
    endpointingMaxDelayMs: config.AGENT_ENDPOINTING_MAX_DELAY_MS,
    sttSegmentSilenceMs: config.AGENT_STT_SEGMENT_SILENCE_MS,
    sttEarlyRequestMs: config.AGENT_STT_EARLY_REQUEST_MS,
    preemptiveMaxRetries: config.AGENT_PREEMPTIVE_MAX_RETRIES,
    interruptionMinDurationMs: config.AGENT_INTERRUPTION_MIN_DURATION_MS,
    interruptionMinWords: config.AGENT_INTERRUPTION_MIN_WORDS,
  };
}

/** The dispatch service as the agent reaches it (the same host by default, as `npm start` runs it). */
const dispatchBaseUrl = (config: Readonly<Config>) => config.DISPATCH_INTERNAL_URL ?? `http://127.0.0.1:${config.PORT}`;

async function databaseUrl(config: Readonly<Config>): Promise<string> {
  if (config.DATABASE_URL) return config.DATABASE_URL;
  // The dispatch service's embedded PostgreSQL (npm start), same secrets file.
  const secrets = await loadSecrets(config.DATA_DIR, {});
  return `postgresql://postgres:${encodeURIComponent(secrets.databasePassword)}@127.0.0.1:${config.EMBEDDED_PG_PORT}/practice_line`;
}

export default defineAgent<ProcessData>({
  // Runs once per warm job process, before any call is assigned to it.
  prewarm: async (proc: JobProcess<ProcessData>) => {
    const config = loadConfig();
    const turns = turnSettings(config);
    proc.userData.vad = await silero.VAD.load(vadSettings(turns));
    const early = earlyVadSettings(turns);
    if (early) proc.userData.earlyVad = await silero.VAD.load(early);
    // One call per job process, and its writes are small and in order. Two, not one: finalisation
    // holds a transaction while pg-boss's enqueue may ask the pool for another connection, and a
    // turn write may arrive meanwhile. Bounds the worker at 2 x (calls + idle processes) (docs/scale-out.md).
    const database = createDatabase(await databaseUrl(config), { max: config.AGENT_DB_POOL_MAX, ...databaseTimeouts(config) });
    proc.userData.database = database;
    await database.ping();
  },
  entry: async (ctx: JobContext<ProcessData>) => {
    const config = loadConfig();
    const logger = createLogger({ level: config.LOG_LEVEL, redactPii: config.NODE_ENV === 'production', name: 'agent' });
    const turns = turnSettings(config);
    const vad = ctx.proc.userData.vad ?? (await silero.VAD.load(vadSettings(turns)));
    const early = earlyVadSettings(turns);
    const earlyVad = early === undefined ? undefined : (ctx.proc.userData.earlyVad ?? (await silero.VAD.load(early)));
    const database = ctx.proc.userData.database ?? createDatabase(await databaseUrl(config), { max: config.AGENT_DB_POOL_MAX, ...databaseTimeouts(config) });
    const storage = createStorage(config);
    const spoolDir = join(config.DATA_DIR, 'recording-spool');
    // Chunks an earlier job could not upload (storage down, job killed) go up now, in the background.
    void uploadSpooledChunks(storage, spoolDir, logger).catch((error: unknown) => logger.warn({ err: error }, 'spool sweep failed'));
    const recordingSettings = {
      enabled: config.RECORDING_ENABLED,
      storage,
      store: createRecordingStore(database.db),
      spoolDir,
      ffmpegPath: bundledFfmpegPath(),
      bitrate: config.RECORDING_BITRATE,
      chunkMs: config.RECORDING_CHUNK_SECONDS * 1000,
    };
    await runPersonaCall(ctx, {
      logger,
      vad,
      ...(earlyVad === undefined ? {} : { earlyVad }),
      providers: {
        groqApiKey: config.GROQ_API_KEY ?? '',
        groqBaseUrl: config.GROQ_BASE_URL,
        sttModel: config.GROQ_STT_MODEL,
        elevenLabsApiKey: config.ELEVENLABS_API_KEY ?? '',
        elevenLabsBaseUrl: config.ELEVENLABS_BASE_URL,
        elevenLabsModel: config.ELEVENLABS_MODEL,
      },
      turns,
      defaultVoiceId: config.ELEVENLABS_DEFAULT_VOICE_ID,
      wrapUpWarningSeconds: config.AGENT_WRAP_UP_WARNING_SECONDS,
      callStore: createCallStore({ db: database.db, logger, finalize: createCallFinalizer({ pool: database.pool, logger }) }),
      createTurnWriter: (callId) => createTurnWriter({ db: database.db, logger, ...(callId === undefined ? {} : { callId }) }),
      resolvePin: createDispatchClient({ baseUrl: dispatchBaseUrl(config), sharedSecret: config.DISPATCH_SHARED_SECRET ?? '' }),
      startRecording: (input) => startCallRecording(recordingSettings, input),
    });
  },
});

/** A job process that exits while its call is live hangs the call up at once (job_watch.ts); needs the dispatch service's secret. */
function watchJobs(config: Readonly<Config>): JobWatch | undefined {
  if (!config.DISPATCH_SHARED_SECRET) return undefined;
  const logger = createLogger({ level: config.LOG_LEVEL, redactPii: config.NODE_ENV === 'production', name: 'agent-worker' });
  const reportJobEnded = createJobEndedReporter({ baseUrl: dispatchBaseUrl(config), sharedSecret: config.DISPATCH_SHARED_SECRET });
  return createJobWatch(({ jobId, roomName }) => {
    reportJobEnded({ roomName }).catch((error: unknown) => logger.warn({ err: error, jobId, roomName }, 'job end not reported; livekit-server will report a lost agent later'));
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const config = loadConfig();
  const missing = missingAgentKeys(config);
  if (missing.length > 0) {
    console.error(`The agent worker cannot start; set: ${missing.join(', ')}`);
    process.exit(1);
  }
  // Real load (CPU and calls held against AGENT_MAX_CALLS), and a refusal LiveKit passes on to the next worker.
  const callAdmission = createCallAdmission({ maxCalls: config.AGENT_MAX_CALLS, loadThreshold: config.AGENT_LOAD_THRESHOLD }, () => hostCpuLoad());
  // A call that ends (or is accepted) reaches livekit-server at once, not at the next 2.5 s report.
  const reporter = createLoadReporter(callAdmission, (error) => console.warn('load report not sent:', error));
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => reporter.stop());
  const jobWatch = watchJobs(config);
  const admission = {
    loadThreshold: callAdmission.loadThreshold,
    // The framework hands its AgentServer only to loadFunc: the load reporter and the job watch both read it.
    loadFunc: (worker: Parameters<typeof reporter.loadFunc>[0] & JobsView) => {
      jobWatch?.watch(worker);
      return reporter.loadFunc(worker);
    },
    requestFunc: callAdmission.requestFunc,
  };
  cli.runApp(
    new ServerOptions({
      agent: fileURLToPath(import.meta.url),
      agentName: config.LIVEKIT_AGENT_NAME,
      wsURL: config.LIVEKIT_URL ?? '',
      apiKey: config.LIVEKIT_API_KEY ?? '',
      apiSecret: config.LIVEKIT_API_SECRET ?? '',
      host: config.HOST,
      port: config.AGENT_HTTP_PORT,
      numIdleProcesses: config.AGENT_IDLE_PROCESSES,
      ...admission,
    }),
  );
}
