// One practice call, from dispatch to hang-up: parse the room metadata, (direct trunk) pass the PIN
// gate, greet as soon as the caller joins, converse, record every turn as it happens, and end the
// call on every path (end_call, time limit, caller hang-up, providers down) by deleting the room and
// shutting the job down. Each step is its own module; this file is the story.
import type { JobContext, stt as sttNs, tts as ttsNs, VAD } from '@livekit/agents';
import type { AudioFrame } from '@livekit/rtc-node';
import type { Logger } from 'pino';
import type { DispatchResolveRequest, DispatchResolveResponse } from '../src/domain/dispatch_resolve.js';
import { baseLanguage, personaLines } from '../src/domain/languages.js';
import { parseRoomMetadata, type ReadyRoomMetadata, type RoomMetadata } from '../src/domain/room_metadata.js';
import { startAmbience } from './ambience.js';
import { createBargeIn } from './barge_in.js';
import { apologiseAndHangUp, createCallEnding } from './call_ending.js';
import { type CallFacts, recordCallEnd } from './call_record.js';
import type { CallStore } from './call_store.js';
import { startTimeLimit } from './call_timers.js';
import { CALLER_KINDS, waitForCaller } from './caller.js';
import { framesStream, prerender } from './greeting.js';
import { handOver } from './hand_over.js';
import { firstStage, type StageDeps } from './handoff.js';
import { createPersonaAgent, createPinPromptAgent, speakingAgent } from './persona_agent.js';
import { SETUP_FAILED_LINE } from './persona_instructions.js';
import { resolveRequestFor, runPinGate, sessionPinLine } from './pin_gate.js';
import { watchProviderFailures } from './provider_failures.js';
import { type CallRecording, recordWithDisclosure, type StartRecordingInput } from './recording/call_recorder.js';
import { createPersonaSession, createStt, createTts, type ProviderSettings, type TurnSettings } from './session_factory.js';
import { captureTurns, type TurnCapture } from './turn_capture.js';
import type { TurnWriter } from './turn_writer.js';

export interface PersonaCallDeps {
  logger: Logger;
  vad: VAD;
  /** AGENT_STT_EARLY_REQUEST_MS: the shorter-silence VAD that sends segments to Whisper early. */
  earlyVad?: VAD;
  providers: ProviderSettings;
  turns: TurnSettings;
  defaultVoiceId: string;
  wrapUpWarningSeconds: number;
  /** The call row: answered, provider errors, usage and the end (which also finalises). */
  callStore: CallStore;
  createTurnWriter(callId: string | undefined): TurnWriter;
  /** POST /api/dispatch/resolve (direct-trunk path). */
  resolvePin(request: DispatchResolveRequest): Promise<DispatchResolveResponse>;
  /** How long to wait for a keypad PIN before re-prompting. */
  pinTimeoutMs?: number;
  /** Starts the call's recording (agent/recording/); absent or undefined: the call is not recorded. */
  startRecording?(input: StartRecordingInput): Promise<CallRecording | undefined>;
}

/** What a call does to the world outside its session: the room (JobContext) in the worker, recorded in tests. */
export interface CallIo {
  /** Deletes the room: the phone hears BYE. */
  hangUp(): Promise<void>;
  /** Ends the job; the job then runs `call.recordEnd`. */
  shutdown(reason: string): void;
}

export type Call = ReturnType<typeof assembleCall>;

/** 16 kHz end to end: Silero and Whisper want it, and the phone side is 8 kHz anyway. */
const CALL_SAMPLE_RATE = 16000;

export async function runPersonaCall(ctx: JobContext, deps: PersonaCallDeps): Promise<void> {
  const jobStartedAt = Date.now();
  await ctx.connect();
  const parsed = parseRoomMetadata(ctx.job.metadata !== '' ? ctx.job.metadata : ctx.room.metadata);
  const logger = deps.logger.child({ room: ctx.room.name, jobId: ctx.job.id });
  if (!parsed.ok) {
    logger.error({ code: parsed.code, problems: parsed.problems }, 'room metadata refused; apologising and hanging up');
    await apologiseAndHangUp(ctx, { vad: deps.vad, tts: createTts(deps.providers, deps.defaultVoiceId, 'en'), logger }, SETUP_FAILED_LINE);
    return;
  }

  const call = assembleCall({ hangUp: () => ctx.deleteRoom(), shutdown: (reason) => ctx.shutdown(reason) }, deps, parsed.metadata, logger, jobStartedAt);
  ctx.addShutdownCallback(call.recordEnd);
  const callerJoined = waitForCaller(ctx.room);
  await call.session.start({
    agent: call.ready ? call.persona(call.ready) : createPinPromptAgent(),
    room: ctx.room,
    inputOptions: { participantKinds: CALLER_KINDS, closeOnDisconnect: true, audioSampleRate: CALL_SAMPLE_RATE },
    outputOptions: { audioSampleRate: CALL_SAMPLE_RATE },
    record: false,
  });
  call.bargeIn.attach(call.session);

  const caller = await callerJoined.catch((error: unknown) => logger.warn({ err: error }, 'caller never joined'));
  if (!caller) return call.ending.end('caller_never_joined');
  call.facts.answeredAt = new Date();
  logger.info({ pii: { caller: caller.attributes['sip.phoneNumber'] }, sinceJobStartMs: Date.now() - jobStartedAt }, 'caller joined');

  const ready = call.ready ?? (await passPinGate(ctx, deps, call, caller, logger));
  if (!ready) return;
  // From the persona's first word to the hang-up; not awaited, so the greeting never waits on it.
  void startAmbience(ctx.room, ready.scenario.backgroundNoise, logger).then((ambience) => {
    if (ambience) ctx.addShutdownCallback(ambience.close);
  });
  await recordWithDisclosure(deps.startRecording, ctx, { session: call.session, room: ctx.room, caller, callId: ready.callId, scenarioAllows: ready.scenario.recordCalls !== false, logger }, ready.persona.language);
  await converse(call, ready, deps, logger);
}

/** The caller is through to the persona: the answer is recorded, the clock starts, the persona greets. */
export async function converse(call: Call, ready: ReadyRoomMetadata, deps: PersonaCallDeps, logger: Logger): Promise<void> {
  const answeredAt = (call.facts.answeredAt ??= new Date());
  call.facts.answerRecorded = deps.callStore.markAnswered(ready.callId, answeredAt).catch((error: unknown) => logger.warn({ err: error }, 'answer time not recorded'));
  startTimeLimit({ session: call.session, ending: call.ending, logger, speakingPersona: () => speakingAgent(call.session)?.persona }, ready, deps.wrapUpWarningSeconds);
  await greet(call, ready, logger);
}

/** The session and everything that listens to it, before anyone has joined. Tests build calls with it too. */
export function assembleCall(io: CallIo, deps: PersonaCallDeps, metadata: RoomMetadata, logger: Logger, jobStartedAt = Date.now()) {
  const ready = metadata.stage === 'ready' ? metadata : undefined;
  const facts: CallFacts = { callId: metadata.callId, atPinGate: !ready, language: ready?.persona.language ?? 'en', prerenderedCharacters: 0, jobStartedAt };
  const writer = deps.createTurnWriter(facts.callId);
  const defaultTts = createTts(deps.providers, deps.defaultVoiceId, 'en');
  const personaTts = ready ? createTts(deps.providers, ready.persona.voiceId, ready.persona.language) : undefined;
  const bargeIn = createBargeIn(deps.vad, { minSpeechMs: deps.turns.interruptionMinDurationMs, onInterrupt: () => logger.info('caller interrupted the persona') });
  const sttFor = (language: string) => (deps.turns.pipeline === 'overlapped' ? createStt(deps.providers, language, bargeIn.vad, deps.earlyVad) : createStt(deps.providers, language));
  const stt = sttFor(facts.language);
  const session = createPersonaSession({ vad: bargeIn.vad, stt, tts: personaTts ?? defaultTts }, deps.turns);
  const ending = createCallEnding({ logger, session, ...io });
  const failures = watchProviderFailures(session, {
    logger,
    isQuiet: () => ending.started || facts.atPinGate,
    lines: () => personaLines(facts.language),
    record: (failure) => {
      if (facts.callId === undefined) return;
      deps.callStore.recordProviderError(facts.callId, { at: new Date(), provider: failure.provider, message: failure.message }).catch((error: unknown) => logger.warn({ err: error }, 'provider error not recorded'));
    },
    endCall: (goodbye) => void ending.end('providers_down', goodbye),
  });
  const turns: TurnCapture = captureTurns(session, {
    logger,
    record: (turn) => writer.record(turn),
    isSuppressed: () => facts.atPinGate,
    onPersonaTurn: () => failures.reset(),
    speakingPersonaId: () => speakingAgent(session)?.personaId,
  });
  const stageDeps: StageDeps = {
    logger,
    providers: deps.providers,
    onGenerationStart: () => turns.replyGenerationStarted(),
    personaSpokeSinceRepTurn: () => turns.personaSpokeSinceRepTurn(),
    endCall: (goodbye) => void ending.end('persona_ended', goodbye),
    sttFor,
    sampleRate: CALL_SAMPLE_RATE,
    onPutThrough: (persona, index) => {
      facts.language = persona.language;
      logger.info({ stage: index, voiceId: persona.voiceId }, 'caller put through to the next persona');
    },
    onPrerendered: (characters) => {
      facts.prerenderedCharacters += characters;
    },
  };
  const persona = (resolved: ReadyRoomMetadata, tts: ttsNs.TTS | undefined = personaTts, personaStt?: sttNs.STT) =>
    createPersonaAgent(resolved, {
      ...stageDeps,
      ...(tts ? { tts } : {}),
      ...(personaStt ? { stt: personaStt } : {}),
      ...firstStage(resolved, stageDeps),
    });
  // Synthesised while the phone is still connecting, so the greeting plays the moment the caller joins.
  const greeting: Promise<AudioFrame[] | undefined> = personaTts && ready ? prerender(personaTts, ready.persona.openingLine, logger) : Promise.resolve(undefined);
  const recordEnd = () => recordCallEnd(deps, { facts, writer, session, ending }, logger);
  return { session, ending, facts, writer, bargeIn, ready, persona, sttFor, greeting, defaultTts, recordEnd };
}

/** Direct trunk: the PIN gate, then the persona takes over the same session in its own voice. */
async function passPinGate(ctx: JobContext, deps: PersonaCallDeps, call: Call, caller: Parameters<typeof resolveRequestFor>[1], logger: Logger): Promise<ReadyRoomMetadata | undefined> {
  // A line in another language: the prompt agent speaks it with the default voice, and hears it.
  const promptAgentFor = (language: string) => createPinPromptAgent({ tts: createTts(deps.providers, deps.defaultVoiceId, language), stt: call.sttFor(language) });
  const result = await runPinGate(sessionPinLine(call.session, ctx.room, caller, promptAgentFor), {
    logger,
    resolve: (digits) => deps.resolvePin(resolveRequestFor(ctx.room.name ?? '', caller, digits)),
    timeoutMs: deps.pinTimeoutMs ?? 15_000,
  });
  if (result.kind === 'refused') {
    await call.ending.end('pin_failed', result.goodbye);
    return undefined;
  }
  const resolved = result.metadata;
  call.facts.atPinGate = false;
  call.facts.callId = resolved.callId;
  call.writer.setCallId(resolved.callId);
  const { voiceId, language } = resolved.persona;
  // The session's STT was built for English before anyone was known; the persona brings its own when it speaks another language.
  const personaStt = baseLanguage(language) === baseLanguage(call.facts.language) ? undefined : call.sttFor(language);
  call.facts.language = language;
  const tts = voiceId === deps.defaultVoiceId && baseLanguage(language) === 'en' ? call.defaultTts : createTts(deps.providers, voiceId, language);
  // Awaited: the disclosure and the greeting that follow must be the persona's, in its voice.
  await handOver(call.session, call.persona(resolved, tts, personaStt));
  return resolved;
}

async function greet(call: Call, ready: ReadyRoomMetadata, logger: Logger): Promise<void> {
  const frames = await call.greeting;
  call.facts.prerenderedCharacters += frames ? ready.persona.openingLine.length : 0;
  const greetingSpeech = call.session.say(ready.persona.openingLine, frames ? { audio: framesStream(frames) } : {});
  logger.info({ prerendered: frames !== undefined, sinceAnswerMs: Date.now() - call.facts.answeredAt!.getTime() }, 'greeting queued');
  await greetingSpeech.waitForPlayout().catch(() => undefined);
}
