// One practice call, from dispatch to hang-up: parse the room metadata, (direct trunk) collect the
// PIN, greet as soon as the caller joins, converse, record every turn as it happens, and end the
// call on every path (end_call, time limit, caller hang-up, providers down) by deleting the room and
// shutting the job down.
import { type JobContext, llm, type tts as ttsNs, type VAD, voice } from '@livekit/agents';
import { type AudioFrame, ParticipantKind, type RemoteParticipant, type Room, RoomEvent } from '@livekit/rtc-node';
import { ReadableStream } from 'node:stream/web';
import type { Logger } from 'pino';
import type { DispatchResolveRequest, DispatchResolveResponse } from '../src/domain/dispatch_resolve.js';
import { parseRoomMetadata, type ReadyRoomMetadata } from '../src/domain/room_metadata.js';
import { createBargeIn } from './barge_in.js';
import type { CallEndStatus, CallStore } from './call_store.js';
import {
  buildPersonaInstructions,
  PROVIDER_FALLBACK_LINE,
  PROVIDERS_DOWN_LINE,
  SETUP_FAILED_LINE,
  timeUpLine,
  wrapUpInstructions,
} from './persona_instructions.js';
import { createPinCollector, digitsFromSpeech, PIN_MAX_TRIES } from './pin_entry.js';
import { type CallRecording, RECORDING_DISCLOSURE, type StartRecordingInput } from './recording/call_recorder.js';
import {
  createLlm,
  createPersonaAgent,
  createPersonaSession,
  createStt,
  PersonaAgent,
  createTts,
  type ProviderSettings,
  type TurnSettings,
} from './session_factory.js';
import { type ChatItemMetrics, speculativeLeadMs, turnFromChatItem } from './turns.js';
import type { TurnWriter } from './turn_writer.js';
import { estimateCostUsd, type ModelUsageEntry, usageFromModelUsage } from './usage_cost.js';

export interface PersonaCallDeps {
  logger: Logger;
  vad: VAD;
  providers: ProviderSettings;
  turns: TurnSettings;
  defaultVoiceId: string;
  wrapUpWarningSeconds: number;
  callStore: CallStore;
  createTurnWriter(callId: string | undefined): TurnWriter;
  /** POST /api/dispatch/resolve (direct-trunk path). */
  resolvePin(request: DispatchResolveRequest): Promise<DispatchResolveResponse>;
  /** Idempotent finalisation shared with the webhooks (src/app/finalize_call.ts). */
  finalize(input: { callId: string; status: CallEndStatus; endReason: string; endedAt: Date; unwrittenTurns: number }): Promise<unknown>;
  /** Starts the call's recording (agent/recording/); absent or undefined: the call is not recorded. */
  startRecording?(input: StartRecordingInput): Promise<CallRecording | undefined>;
  /** How long to wait for a keypad PIN before re-prompting. */
  pinTimeoutMs?: number;
}

/** Unrecoverable provider failures in a row before the persona gives up and ends the call. */
const MAX_CONSECUTIVE_PROVIDER_FAILURES = 2;
const TURN_DRAIN_TIMEOUT_MS = 5000;
/** Who can be the caller: a phone (livekit-sip) or a rep's browser on a `web` call (a standard participant). */
const CALLER_KINDS = [ParticipantKind.SIP, ParticipantKind.STANDARD];
const isCaller = (participant: RemoteParticipant): boolean => CALLER_KINDS.includes(participant.info.kind!);
const PIN_PROMPT = 'Welcome to Practice Line. Please enter your PIN, followed by the pound key.';
const PIN_RETRY_PROMPT = "Sorry, that PIN didn't work. Please enter it again, followed by the pound key.";
const PIN_GIVE_UP_LINE = "Sorry, I couldn't verify that PIN. Please check it and call again. Goodbye.";

export async function runPersonaCall(ctx: JobContext, deps: PersonaCallDeps): Promise<void> {
  const jobStartedAt = Date.now();
  await ctx.connect();
  const room = ctx.room;
  const parsed = parseRoomMetadata(ctx.job.metadata !== '' ? ctx.job.metadata : room.metadata);
  const logger = deps.logger.child({ room: room.name, jobId: ctx.job.id });

  if (!parsed.ok) {
    logger.error({ code: parsed.code, problems: parsed.problems }, 'room metadata refused; apologising and hanging up');
    await apologiseAndHangUp(ctx, deps, logger, SETUP_FAILED_LINE);
    return;
  }

  const defaultTts = createTts(deps.providers, deps.defaultVoiceId, 'en');
  let callId = parsed.metadata.callId;
  const writer = deps.createTurnWriter(callId);
  let ready: ReadyRoomMetadata | undefined = parsed.metadata.stage === 'ready' ? parsed.metadata : undefined;
  let personaTts: ttsNs.TTS | undefined;
  let greeting: Promise<AudioFrame[] | undefined> | undefined;
  if (ready) {
    personaTts = createTts(deps.providers, ready.persona.voiceId, ready.persona.language);
    // Synthesised while the phone is still connecting, so the greeting plays the moment the caller joins.
    greeting = prerender(personaTts, ready.persona.openingLine, logger);
  }

  const bargeIn = createBargeIn(deps.vad, { minSpeechMs: deps.turns.interruptionMinDurationMs, onInterrupt: () => logger.info('caller interrupted the persona') });
  const segmentVad = deps.turns.pipeline === 'overlapped' ? bargeIn.vad : undefined;
  const stt = createStt(deps.providers, parsed.metadata.stage === 'ready' ? parsed.metadata.persona.language : 'en', segmentVad);
  const session = createPersonaSession({ vad: bargeIn.vad, stt, tts: personaTts ?? defaultTts }, deps.turns);
  const state = createCallState();
  let ending: Promise<void> | undefined;
  const timers: NodeJS.Timeout[] = [];
  let endStatus: CallEndStatus = 'completed';
  let endReason = 'caller_hung_up';
  let answeredAt: Date | undefined;

  const endCall = (reason: string, status: CallEndStatus, goodbye?: string): Promise<void> => {
    if (ending) return ending;
    endReason = reason;
    endStatus = status;
    ending = (async () => {
      for (const timer of timers) clearTimeout(timer);
      logger.info({ reason, status }, 'ending call');
      try {
        if (goodbye !== undefined) await session.say(goodbye, { allowInterruptions: false }).waitForPlayout();
      } catch (error) {
        logger.warn({ err: error }, 'goodbye could not be spoken');
      }
      await session.close().catch((error: unknown) => logger.warn({ err: error }, 'session close failed'));
      // Deleting the room is what hangs up the phone: livekit-sip sends BYE.
      await ctx.deleteRoom().catch((error: unknown) => logger.warn({ err: error }, 'room delete failed'));
      ctx.shutdown(reason);
    })();
    return ending;
  };

  ctx.addShutdownCallback(async () => {
    const endedAt = new Date();
    const left = await writer.drain(TURN_DRAIN_TIMEOUT_MS);
    if (left > 0) logger.error({ unwritten: left }, 'turns still unwritten at shutdown');
    if (callId === undefined) return;
    const entries = session.usage.modelUsage as ModelUsageEntry[];
    const usage = usageFromModelUsage(entries, answeredAt ? (endedAt.getTime() - answeredAt.getTime()) / 1000 : 0);
    usage.ttsCharacters += state.prerenderedCharacters;
    const estimatedCostUsd = estimateCostUsd(usage);
    try {
      await deps.callStore.recordEnd(callId, { at: endedAt, status: endStatus, reason: endReason, usage, estimatedCostUsd });
      await deps.finalize({ callId, status: endStatus, endReason, endedAt, unwrittenTurns: left });
      logger.info({ callId, usage, estimatedCostUsd, status: endStatus, reason: endReason, jobMs: Date.now() - jobStartedAt }, 'call recorded');
    } catch (error) {
      logger.error({ err: error, callId }, 'call end could not be recorded; the room_finished webhook will close it');
    }
  });

  // Turns, as they finish.
  let previousUserMetrics: ChatItemMetrics | undefined;
  session.on(voice.AgentSessionEventTypes.ConversationItemAdded, (event) => {
    const item = event.item;
    if (item.type !== 'message') return;
    const turn = turnFromChatItem(
      { role: item.role, text: item.textContent ?? '', interrupted: item.interrupted, createdAt: item.createdAt, metrics: item.metrics as ChatItemMetrics },
      previousUserMetrics,
      Date.now(),
      item.role === 'assistant' ? speculativeLeadMs(state.replyGenerationStartedAt, state.repTurnCommittedAt) : null,
    );
    if (item.role === 'user') {
      // Emitted when the rep's turn commits (the reply is scheduled at the same moment).
      state.repTurnCommittedAt = Date.now();
      previousUserMetrics = { ...(item.metrics as ChatItemMetrics), ...(state.lastSttRequestMs === undefined ? {} : { sttRequestMs: state.lastSttRequestMs }) };
      state.lastSttRequestMs = undefined;
    }
    if (turn === undefined || state.suppressTurns) return;
    if (turn.speaker === 'persona') {
      state.lastPersonaTurnAt = Date.now();
      // A reply reached the caller: the providers are working again. (Fallback lines are not chat items.)
      state.consecutiveFailures = 0;
    }
    else state.lastRepTurnAt = Date.now();
    const seq = writer.record(turn);
    logger.info({ seq, speaker: turn.speaker, interrupted: turn.interrupted, metrics: turn.metrics, pii: { text: turn.text } }, 'turn');
  });

  // Provider failures: say something natural, record it, give up politely if it keeps happening.
  session.on(voice.AgentSessionEventTypes.Error, (event) => {
    const error = event.error;
    const provider = error.type === 'tts_error' ? 'elevenlabs' : 'groq';
    const inner: unknown = 'error' in error ? (error as { error: unknown }).error : error;
    const message = `${error.type}: ${inner instanceof Error ? inner.message : String(inner)}`;
    if (error.recoverable) {
      logger.warn({ provider, message }, 'provider error; retrying');
      return;
    }
    state.consecutiveFailures += 1;
    logger.error({ provider, message, consecutive: state.consecutiveFailures }, 'provider failure on a turn');
    if (callId !== undefined) {
      deps.callStore.recordProviderError(callId, { at: new Date(), provider, message }).catch((dbError: unknown) => logger.warn({ err: dbError }, 'provider error not recorded'));
    }
    if (ending || state.suppressTurns) return;
    if (state.consecutiveFailures >= MAX_CONSECUTIVE_PROVIDER_FAILURES) {
      void endCall('providers_down', 'failed', error.type === 'tts_error' ? undefined : PROVIDERS_DOWN_LINE);
    } else if (error.type !== 'tts_error') {
      try {
        session.say(PROVIDER_FALLBACK_LINE, { addToChatCtx: false });
      } catch {
        // session closing
      }
    }
  });

  session.on(voice.AgentSessionEventTypes.MetricsCollected, (event) => {
    if (event.metrics.type === 'stt_metrics' && event.metrics.durationMs > 0) state.lastSttRequestMs = event.metrics.durationMs;
  });

  session.on(voice.AgentSessionEventTypes.AgentStateChanged, (event) => {
    if (event.newState === 'speaking') state.lastSpeakingStartedAt = Date.now();
  });

  session.on(voice.AgentSessionEventTypes.Close, (event) => {
    if (event.reason === voice.CloseReason.PARTICIPANT_DISCONNECTED) void endCall('caller_hung_up', 'completed');
    else if (event.reason === voice.CloseReason.ERROR) void endCall('session_error', 'failed');
    else void endCall(endReason, endStatus);
  });

  const endCallTool = llm.tool({
    name: 'end_call',
    description:
      'Hang up the phone. Use only when the conversation is naturally over and you have already said goodbye in this reply. No further words are possible after this.',
    execute: async (_args, { ctx: run }) => {
      // Text the model sent with this call (its goodbye) plays while tools run; let it finish.
      await run.waitForPlayout();
      // Say a goodbye only if the persona has not spoken since the rep's last turn.
      const saidGoodbye = state.lastSpeakingStartedAt > state.lastRepTurnAt;
      // Detached: the reply that carries this call only finishes once the tool has returned.
      void endCall('persona_ended', 'completed', saidGoodbye ? undefined : 'Alright, thanks for calling. Goodbye.');
      return undefined;
    },
  });

  const becomePersona = (metadata: ReadyRoomMetadata): voice.Agent => {
    const personaLlm = createLlm(deps.providers, metadata.persona.llmModel, metadata.persona.temperature);
    personaLlm.prewarm();
    const agent = new PersonaAgent(
      {
        instructions: buildPersonaInstructions(metadata),
        tools: [endCallTool],
        llm: personaLlm,
        ...(personaTts ? { tts: personaTts } : {}),
      },
      () => {
        state.replyGenerationStartedAt = Date.now();
      },
    );
    return agent;
  };

  const startTimers = (metadata: ReadyRoomMetadata) => {
    const limitMs = metadata.scenario.timeLimitSeconds * 1000;
    const warnMs = limitMs - deps.wrapUpWarningSeconds * 1000;
    if (warnMs > 0) {
      timers.push(
        setTimeout(() => {
          if (ending) return;
          logger.info('time limit near; persona wraps up');
          try {
            session.generateReply({ instructions: wrapUpInstructions(metadata) });
          } catch {
            // session closing
          }
        }, warnMs),
      );
    }
    timers.push(
      setTimeout(() => {
        logger.info('time limit reached');
        session.interrupt();
        void endCall('time_limit', 'completed', timeUpLine(metadata));
      }, limitMs),
    );
  };

  // The caller: the phone's SIP participant, or the rep's browser.
  const callerPromise = waitForCaller(room);
  const initialAgent = ready ? becomePersona(ready) : createPersonaAgent('You are the automated PIN prompt of Practice Line. You never improvise.');
  await session.start({
    agent: initialAgent,
    room,
    // 16 kHz end to end: Silero and Whisper want it, and the phone side is 8 kHz anyway.
    inputOptions: { participantKinds: CALLER_KINDS, closeOnDisconnect: true, audioSampleRate: 16000 },
    outputOptions: { audioSampleRate: 16000 },
    record: false,
  });
  bargeIn.attach(session);

  let caller: RemoteParticipant;
  try {
    caller = await callerPromise;
  } catch (error) {
    logger.warn({ err: error }, 'caller never joined');
    await endCall('caller_never_joined', 'abandoned');
    return;
  }
  answeredAt = new Date();
  logger.info({ pii: { caller: caller.attributes['sip.phoneNumber'] }, sinceJobStartMs: Date.now() - jobStartedAt }, 'caller joined');

  if (!ready) {
    state.suppressTurns = true;
    const resolved = await collectPin(ctx, session, caller, deps, logger, (line) => endCall('pin_failed', 'abandoned', line));
    if (resolved === undefined) return;
    state.suppressTurns = false;
    ready = resolved;
    callId = resolved.callId;
    writer.setCallId(callId);
    personaTts = defaultTts;
    if (resolved.persona.voiceId !== deps.defaultVoiceId) personaTts = createTts(deps.providers, resolved.persona.voiceId, resolved.persona.language);
    session.updateAgent(becomePersona(resolved));
  }

  deps.callStore.markAnswered(ready.callId, answeredAt).catch((error: unknown) => logger.warn({ err: error }, 'answer time not recorded'));
  startTimers(ready);

  const recording = await deps.startRecording?.({ session, room, caller, callId: ready.callId, scenarioAllows: ready.scenario.recordCalls !== false, logger });
  if (recording) {
    ctx.addShutdownCallback(() => recording.stop());
    session.say(RECORDING_DISCLOSURE, { addToChatCtx: false, allowInterruptions: false });
  }
  const frames = greeting ? await greeting : undefined;
  state.prerenderedCharacters = frames ? ready.persona.openingLine.length : 0;
  const greetingSpeech = session.say(ready.persona.openingLine, frames ? { audio: framesStream(frames) } : {});
  logger.info({ prerendered: frames !== undefined, sinceAnswerMs: Date.now() - answeredAt.getTime() }, 'greeting queued');
  await greetingSpeech.waitForPlayout().catch(() => undefined);
}

interface CallState {
  consecutiveFailures: number;
  lastPersonaTurnAt: number;
  lastRepTurnAt: number;
  lastSpeakingStartedAt: number;
  /** When the latest reply generation (speculative or not) started, and when the latest rep turn committed. */
  replyGenerationStartedAt: number | undefined;
  repTurnCommittedAt: number | undefined;
  /** Duration of the latest STT request, for the turn it completes. */
  lastSttRequestMs: number | undefined;
  prerenderedCharacters: number;
  /** While the PIN is collected, nothing is a conversation turn. */
  suppressTurns: boolean;
}

function createCallState(): CallState {
  return { consecutiveFailures: 0, lastPersonaTurnAt: 0, lastRepTurnAt: 0, lastSpeakingStartedAt: 0, replyGenerationStartedAt: undefined, repTurnCommittedAt: undefined, lastSttRequestMs: undefined, prerenderedCharacters: 0, suppressTurns: false };
}

function waitForCaller(room: Room): Promise<RemoteParticipant> {
  for (const participant of room.remoteParticipants.values()) {
    if (isCaller(participant)) return Promise.resolve(participant);
  }
  return new Promise((resolve, reject) => {
    const onJoin = (participant: RemoteParticipant) => {
      if (!isCaller(participant)) return;
      cleanup();
      resolve(participant);
    };
    const onGone = () => {
      cleanup();
      reject(new Error('room disconnected before the caller joined'));
    };
    const cleanup = () => {
      room.off(RoomEvent.ParticipantConnected, onJoin);
      room.off(RoomEvent.Disconnected, onGone);
    };
    room.on(RoomEvent.ParticipantConnected, onJoin);
    room.on(RoomEvent.Disconnected, onGone);
  });
}

async function prerender(tts: ttsNs.TTS, text: string, logger: Logger): Promise<AudioFrame[] | undefined> {
  const started = Date.now();
  try {
    const frames: AudioFrame[] = [];
    for await (const chunk of tts.synthesize(text)) frames.push(chunk.frame);
    logger.debug({ ms: Date.now() - started, frames: frames.length }, 'greeting prerendered');
    return frames.length > 0 ? frames : undefined;
  } catch (error) {
    logger.warn({ err: error }, 'greeting prerender failed; it will be synthesised live');
    return undefined;
  }
}

function framesStream(frames: readonly AudioFrame[]): ReadableStream<AudioFrame> {
  return new ReadableStream<AudioFrame>({
    start(controller) {
      for (const frame of frames) controller.enqueue(frame);
      controller.close();
    },
  });
}

/** Bad metadata: a short apology in the default voice and a hang-up. No persona, no LLM. */
async function apologiseAndHangUp(ctx: JobContext, deps: PersonaCallDeps, logger: Logger, line: string): Promise<void> {
  const session = new voice.AgentSession({ vad: deps.vad, tts: createTts(deps.providers, deps.defaultVoiceId, 'en'), turnHandling: { turnDetection: 'vad' } });
  try {
    const caller = waitForCaller(ctx.room);
    await session.start({ agent: new voice.Agent({ instructions: '' }), room: ctx.room, inputOptions: { participantKinds: CALLER_KINDS }, record: false });
    await Promise.race([caller, new Promise((resolve) => setTimeout(resolve, 30_000))]);
    await session.say(line, { allowInterruptions: false }).waitForPlayout();
  } catch (error) {
    logger.warn({ err: error }, 'apology could not be spoken');
  } finally {
    await session.close().catch(() => undefined);
    await ctx.deleteRoom().catch(() => undefined);
    ctx.shutdown('bad_metadata');
  }
}

/**
 * Direct-trunk path: speak the PIN prompt, collect DTMF (`#` ends; spoken digits as fallback),
 * resolve through the dispatch service, at most PIN_MAX_TRIES times.
 */
async function collectPin(
  ctx: JobContext,
  session: voice.AgentSession,
  caller: RemoteParticipant,
  deps: PersonaCallDeps,
  logger: Logger,
  giveUp: (line: string) => Promise<void>,
): Promise<ReadyRoomMetadata | undefined> {
  const room = ctx.room;
  const collector = createPinCollector();
  const timeoutMs = deps.pinTimeoutMs ?? 15_000;
  let prompt = PIN_PROMPT;
  const resolve = (digits: string) =>
    deps.resolvePin({
      roomName: room.name ?? '',
      digits,
      callerNumber: caller.attributes['sip.phoneNumber'] ?? null,
      calledNumber: caller.attributes['sip.trunkPhoneNumber'] ?? null,
      sipCallId: caller.attributes['sip.callID'] ?? null,
    });

  // A called number that is a scenario's direct line needs no PIN (an empty try is not a failed attempt).
  try {
    const byNumber = await resolve('');
    if (byNumber.outcome === 'ok') {
      logger.info({ callId: byNumber.callId }, 'resolved by the called number');
      return byNumber.metadata;
    }
    if (!byNumber.retry) {
      await giveUp(byNumber.say);
      return undefined;
    }
  } catch (error) {
    logger.error({ err: error }, 'dispatch resolve failed');
    await giveUp("Sorry, we're having trouble on our side. Please call again in a few minutes. Goodbye.");
    return undefined;
  }

  for (let attempt = 1; attempt <= PIN_MAX_TRIES; attempt += 1) {
    collector.reset();
    const entry = new Promise<string | undefined>((resolve) => {
      let timer = setTimeout(() => finish(collector.pending === '' ? undefined : collector.pending), timeoutMs);
      const onDtmf = (_code: number, digit: string, participant: RemoteParticipant) => {
        if (participant.identity !== caller.identity) return;
        clearTimeout(timer);
        timer = setTimeout(() => finish(collector.pending === '' ? undefined : collector.pending), timeoutMs);
        const result = collector.press(digit);
        if (result.kind === 'submitted') finish(result.digits);
        else if (result.kind === 'invalid') finish('');
      };
      const onTranscript = (event: voice.UserInputTranscribedEvent) => {
        if (!event.isFinal) return;
        const spoken = digitsFromSpeech(event.transcript);
        if (spoken !== undefined) finish(spoken);
      };
      const finish = (digits: string | undefined) => {
        clearTimeout(timer);
        room.off(RoomEvent.DtmfReceived, onDtmf);
        session.off(voice.AgentSessionEventTypes.UserInputTranscribed, onTranscript);
        resolve(digits);
      };
      room.on(RoomEvent.DtmfReceived, onDtmf);
      session.on(voice.AgentSessionEventTypes.UserInputTranscribed, onTranscript);
    });
    session.say(prompt, { addToChatCtx: false });
    const digits = await entry;
    session.interrupt();
    if (digits === undefined || digits === '') {
      prompt = PIN_RETRY_PROMPT;
      continue;
    }
    let response: DispatchResolveResponse;
    try {
      response = await resolve(digits);
    } catch (error) {
      logger.error({ err: error }, 'dispatch resolve failed');
      await giveUp("Sorry, we're having trouble on our side. Please call again in a few minutes. Goodbye.");
      return undefined;
    }
    if (response.outcome === 'ok') {
      logger.info({ callId: response.callId, attempt }, 'PIN resolved');
      return response.metadata;
    }
    logger.info({ reason: response.reason, attempt }, 'PIN refused');
    if (!response.retry) {
      await giveUp(response.say);
      return undefined;
    }
    prompt = response.say.trim() === '' ? PIN_RETRY_PROMPT : response.say;
  }
  await giveUp(PIN_GIVE_UP_LINE);
  return undefined;
}
