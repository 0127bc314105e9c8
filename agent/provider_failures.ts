// When Groq or ElevenLabs fail a turn: say something natural, record it, and give up politely if it
// keeps happening. The policy is a pure function; watchProviderFailures wires it to a session.
import { voice } from '@livekit/agents';
import type { Logger } from 'pino';
import { personaLines, type PersonaLines } from '../src/domain/languages.js';

/** Unrecoverable provider failures in a row before the persona gives up and ends the call. */
export const MAX_CONSECUTIVE_PROVIDER_FAILURES = 2;

export interface ProviderFailure {
  /** ElevenLabs for speech synthesis, Groq for the rest (transcription and the LLM). */
  provider: 'groq' | 'elevenlabs';
  /** Synthesis failed: the persona has no voice to say a line with. */
  voiceless: boolean;
  /** The framework is retrying; the turn may still succeed. */
  recoverable: boolean;
  message: string;
}

export type ProviderFailureAction = { kind: 'none' } | { kind: 'say'; line: string } | { kind: 'end_call'; goodbye?: string };

export interface ProviderFailureDecision {
  /** Unrecoverable failures in a row, this one included. */
  consecutive: number;
  /** Store it on the call (calls.provider_errors). */
  record: boolean;
  action: ProviderFailureAction;
}

/**
 * Pure. `quiet`: the call is ending or still at the PIN stage, so nothing is said or ended here.
 * A reply that reaches the caller resets the count (the caller passes 0 then).
 */
export function decideOnProviderFailure(
  failure: ProviderFailure,
  state: { consecutiveBefore: number; quiet: boolean; lines?: Pick<PersonaLines, 'fallback' | 'providersDown'> },
): ProviderFailureDecision {
  const lines = state.lines ?? personaLines('en');
  if (failure.recoverable) return { consecutive: state.consecutiveBefore, record: false, action: { kind: 'none' } };
  const consecutive = state.consecutiveBefore + 1;
  const decide = (action: ProviderFailureAction): ProviderFailureDecision => ({ consecutive, record: true, action });
  if (state.quiet) return decide({ kind: 'none' });
  if (consecutive >= MAX_CONSECUTIVE_PROVIDER_FAILURES) return decide(failure.voiceless ? { kind: 'end_call' } : { kind: 'end_call', goodbye: lines.providersDown });
  return decide(failure.voiceless ? { kind: 'none' } : { kind: 'say', line: lines.fallback });
}

/** The framework's error event, in the policy's terms. */
export function describeProviderError(error: voice.ErrorEvent['error']): ProviderFailure {
  const inner: unknown = 'error' in error ? (error as { error: unknown }).error : error;
  const voiceless = error.type === 'tts_error';
  return {
    provider: voiceless ? 'elevenlabs' : 'groq',
    voiceless,
    recoverable: error.recoverable,
    message: `${error.type}: ${inner instanceof Error ? inner.message : String(inner)}`,
  };
}

export interface ProviderFailureWatch {
  /** A persona reply reached the caller: the providers are working again. */
  reset(): void;
}

export function watchProviderFailures(
  session: voice.AgentSession,
  deps: {
    logger: Logger;
    isQuiet(): boolean;
    /** The persona's language's lines (known on the direct trunk only once the PIN resolves). */
    lines?(): PersonaLines;
    record(failure: ProviderFailure): void;
    endCall(goodbye?: string): void;
  },
): ProviderFailureWatch {
  let consecutive = 0;
  session.on(voice.AgentSessionEventTypes.Error, (event) => {
    const failure = describeProviderError(event.error);
    const decision = decideOnProviderFailure(failure, { consecutiveBefore: consecutive, quiet: deps.isQuiet(), ...(deps.lines ? { lines: deps.lines() } : {}) });
    consecutive = decision.consecutive;
    if (!decision.record) {
      deps.logger.warn({ provider: failure.provider, message: failure.message }, 'provider error; retrying');
      return;
    }
    deps.logger.error({ provider: failure.provider, message: failure.message, consecutive }, 'provider failure on a turn');
    deps.record(failure);
    if (decision.action.kind === 'end_call') deps.endCall(decision.action.goodbye);
    else if (decision.action.kind === 'say') sayUnlessClosing(session, decision.action.line);
  });
  return {
    reset() {
      consecutive = 0;
    },
  };
}

function sayUnlessClosing(session: voice.AgentSession, line: string): void {
  try {
    // Not part of the conversation: the model should not answer its own apology.
    session.say(line, { addToChatCtx: false });
  } catch {
    // The session is closing.
  }
}
