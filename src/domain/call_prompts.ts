// What a caller hears while being routed, in one place: the Twilio TwiML and the agent's own PIN
// prompt on the direct-trunk path speak the same lines. The phone is the UI, so every refusal
// says what to do next.
import type { ResolveFailure } from './resolver.js';

export const MAX_PIN_TRIES = 3;

export const prompts = {
  greeting: 'Welcome to Practice Line. Please enter your practice PIN, or a scenario extension followed by the pound key.',
  enterAgain: 'Please enter your PIN, or an extension followed by pound.',
  tooManyTries: 'Sorry, we could not find your practice call. Please check your PIN with your manager and call again. Goodbye.',
  unavailable: 'Sorry, the practice line is having trouble connecting your call. Please try again in a few minutes. Goodbye.',
  noPartnerFree: 'Thanks for calling Practice Line. No practice partner is free right now, please try again in a minute. Goodbye.',
  notConfigured: 'Thanks for calling Practice Line. The practice line is not configured yet, so we cannot take your call. Goodbye.',
} as const;

/** The line for a refused attempt; the caller may try again unless `final`. */
export function refusalLine(failure: ResolveFailure): string {
  switch (failure.kind) {
    case 'no_digits':
      return 'I did not catch any digits.';
    case 'wrong_pin':
      return 'Sorry, that PIN or extension was not recognised.';
    // One line whether the number is unknown or merely unverified: a refusal never tells a caller
    // whether a number is registered (decision 012).
    case 'unknown_caller':
    case 'caller_unverified':
      return failure.via === 'extension'
        ? 'That extension needs your personal PIN on this call. Please enter your PIN instead.'
        : 'Please enter your personal practice PIN, then press the pound key.';
    case 'expired':
      return 'That practice assignment is past its due date. Please ask your manager for a new one.';
    case 'exhausted':
      return 'You have used all the attempts for that practice assignment. Please ask your manager for more.';
    case 'inactive':
      return 'That practice scenario is no longer available. Please ask your manager.';
  }
}

/**
 * The same calm line for every limit (this caller, this line, the whole service), so it never
 * says which one tripped (decision 012).
 */
export function lockedOutLine(until: Date, now: Date): string {
  const minutes = Math.max(1, Math.ceil((until.getTime() - now.getTime()) / 60_000));
  return `For security, PIN entry is paused after too many wrong PINs. Please try again in ${minutes} ${minutes === 1 ? 'minute' : 'minutes'}. Goodbye.`;
}
