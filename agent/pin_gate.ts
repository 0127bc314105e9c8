// The PIN gate of a direct-trunk call: until the caller is known there is no persona, only the
// prompts of src/domain/call_prompts.ts (the same lines the Twilio path speaks). A called number
// that is a scenario's direct line needs no PIN; otherwise the caller keys the PIN (DTMF, `#` ends)
// or says it, and the dispatch service resolves it, at most MAX_PIN_TRIES times. The service's first
// answer (by called number alone) names the line's language; the prompts speak it from the first word.
import { voice } from '@livekit/agents';
import { type RemoteParticipant, RoomEvent } from '@livekit/rtc-node';
import type { Logger } from 'pino';
import { callPrompts, MAX_PIN_TRIES } from '../src/domain/call_prompts.js';
import { baseLanguage } from '../src/domain/languages.js';
import type { DispatchResolveRequest, DispatchResolveResponse } from '../src/domain/dispatch_resolve.js';
import type { ReadyRoomMetadata } from '../src/domain/room_metadata.js';
import { handOver } from './hand_over.js';
import { createPinCollector, digitsFromSpeech, type PinCollector } from './pin_entry.js';

/** What the gate needs of the line: speak a prompt, stop it, hear keys and speech. */
export interface PinLine {
  /** Speaks a prompt; not part of the conversation. */
  prompt(text: string): void;
  /** The caller answered: stop prompting. */
  stopPrompt(): void;
  /** Each keypad key the caller presses; returns the unsubscribe. */
  onKey(listener: (key: string) => void): () => void;
  /** Each final transcript of the caller's speech; returns the unsubscribe. */
  onSpeech(listener: (transcript: string) => void): () => void;
  /** Prompts from now on are in this language (not English): speak and hear it; resolves once it does. */
  speakIn?(language: string): Promise<void> | void;
}

export interface PinGateDeps {
  logger: Logger;
  /** POST /api/dispatch/resolve, with the caller's SIP attributes filled in (resolveRequestFor). */
  resolve(digits: string): Promise<DispatchResolveResponse>;
  /** How long to wait for a keypad PIN before re-prompting. */
  timeoutMs: number;
}

export type PinGateResult = { kind: 'resolved'; metadata: ReadyRoomMetadata } | { kind: 'refused'; goodbye: string };

export async function runPinGate(line: PinLine, deps: PinGateDeps): Promise<PinGateResult> {
  // An empty try is not a failed attempt: only a refusal that forbids retrying ends the call here.
  const byNumber = await tryResolve(deps, '', 'en');
  if (byNumber.kind !== 'retry') return byNumber;
  let language = 'en';
  const useLanguage = async (next: string) => {
    const previous = language;
    language = next;
    if (baseLanguage(next) !== baseLanguage(previous)) await line.speakIn?.(next);
  };
  await useLanguage(byNumber.language);
  const collector = createPinCollector();
  let prompt: string = callPrompts(language).greeting;
  for (let attempt = 1; attempt <= MAX_PIN_TRIES; attempt += 1) {
    const entry = waitForEntry(line, collector, deps.timeoutMs);
    line.prompt(prompt);
    const digits = await entry;
    line.stopPrompt();
    if (digits === undefined || digits === '') {
      prompt = callPrompts(language).enterAgain;
      continue;
    }
    const outcome = await tryResolve(deps, digits, language);
    deps.logger.info({ outcome: outcome.kind, attempt }, 'PIN tried');
    if (outcome.kind !== 'retry') return outcome;
    await useLanguage(outcome.language);
    prompt = outcome.say.trim() === '' ? callPrompts(language).enterAgain : outcome.say;
  }
  return { kind: 'refused', goodbye: callPrompts(language).tooManyTries };
}

/** Resolved, refused for good, or refused with a line (in `language`) to re-prompt with. */
async function tryResolve(deps: PinGateDeps, digits: string, current: string): Promise<PinGateResult | { kind: 'retry'; say: string; language: string }> {
  let response: DispatchResolveResponse;
  try {
    response = await deps.resolve(digits);
  } catch (error) {
    deps.logger.error({ err: error }, 'dispatch resolve failed');
    return { kind: 'refused', goodbye: callPrompts(current).unavailable };
  }
  if (response.outcome === 'ok') {
    // Whether the line resolved without digits; the digits themselves are never logged.
    deps.logger.info({ callId: response.callId, byNumber: digits === '' }, 'caller resolved');
    return { kind: 'resolved', metadata: response.metadata };
  }
  if (digits !== '') deps.logger.info({ reason: response.reason }, 'PIN refused');
  return response.retry ? { kind: 'retry', say: response.say, language: response.language } : { kind: 'refused', goodbye: response.say };
}

/** The digits entered: `#`-terminated keys, a spoken PIN, what was keyed before a pause, or '' / undefined for nothing usable. */
function waitForEntry(line: PinLine, collector: PinCollector, timeoutMs: number): Promise<string | undefined> {
  collector.reset();
  return new Promise((resolve) => {
    const pending = () => (collector.pending === '' ? undefined : collector.pending);
    let timer = setTimeout(() => finish(pending()), timeoutMs);
    const stopKeys = line.onKey((key) => {
      clearTimeout(timer);
      timer = setTimeout(() => finish(pending()), timeoutMs);
      const result = collector.press(key);
      if (result.kind === 'submitted') finish(result.digits);
      else if (result.kind === 'invalid') finish('');
    });
    const stopSpeech = line.onSpeech((transcript) => {
      const spoken = digitsFromSpeech(transcript);
      if (spoken !== undefined) finish(spoken);
    });
    const finish = (digits: string | undefined) => {
      clearTimeout(timer);
      stopKeys();
      stopSpeech();
      resolve(digits);
    };
  });
}

/** The resolve request for this caller: its SIP attributes as livekit-sip sets them. */
export function resolveRequestFor(roomName: string, caller: RemoteParticipant, digits: string): DispatchResolveRequest {
  return {
    roomName,
    digits,
    callerNumber: caller.attributes['sip.phoneNumber'] ?? null,
    calledNumber: caller.attributes['sip.trunkPhoneNumber'] ?? null,
    sipCallId: caller.attributes['sip.callID'] ?? null,
  };
}

/**
 * The PIN line of a call in a room: prompts through the session, DTMF from the caller, speech via
 * STT; `promptAgentFor` gives the prompt agent that speaks and hears another language.
 */
export function sessionPinLine(session: voice.AgentSession, room: PinRoom, caller: Pick<RemoteParticipant, 'identity'>, promptAgentFor?: (language: string) => voice.Agent): PinLine {
  return {
    ...(promptAgentFor ? { speakIn: (language: string) => handOver(session, promptAgentFor(language)) } : {}),
    prompt: (text) => void session.say(text, { addToChatCtx: false }),
    stopPrompt: () => session.interrupt(),
    onKey(listener) {
      const onDtmf = (_code: number, digit: string, participant: RemoteParticipant) => {
        if (participant.identity === caller.identity) listener(digit);
      };
      room.on(RoomEvent.DtmfReceived, onDtmf);
      return () => void room.off(RoomEvent.DtmfReceived, onDtmf);
    },
    onSpeech(listener) {
      const onTranscript = (event: voice.UserInputTranscribedEvent) => {
        if (event.isFinal) listener(event.transcript);
      };
      session.on(voice.AgentSessionEventTypes.UserInputTranscribed, onTranscript);
      return () => void session.off(voice.AgentSessionEventTypes.UserInputTranscribed, onTranscript);
    },
  };
}

/** The slice of a Room the PIN line listens to. */
export interface PinRoom {
  on(event: RoomEvent.DtmfReceived, listener: (code: number, digit: string, participant: RemoteParticipant) => void): unknown;
  off(event: RoomEvent.DtmfReceived, listener: (code: number, digit: string, participant: RemoteParticipant) => void): unknown;
}
