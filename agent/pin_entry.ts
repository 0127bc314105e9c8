// Collecting a PIN on the direct-trunk path: keypad digits (RFC 4733 DTMF, which LiveKit delivers
// as RoomEvent.DtmfReceived) with `#` to finish, or the digits spoken aloud as a fallback.

const MAX_DIGITS = 12;

export type PinKeyResult =
  | { kind: 'collecting' }
  | { kind: 'submitted'; digits: string }
  /** `#` with nothing before it, or too many digits: the caller should be re-prompted. */
  | { kind: 'invalid' };

export interface PinCollector {
  press(key: string): PinKeyResult;
  /** Digits so far; used when the caller stops keying without `#`. */
  readonly pending: string;
  reset(): void;
}

export function createPinCollector(): PinCollector {
  let digits = '';
  return {
    press(key) {
      if (/^[0-9]$/.test(key)) {
        digits += key;
        if (digits.length > MAX_DIGITS) {
          digits = '';
          return { kind: 'invalid' };
        }
        return { kind: 'collecting' };
      }
      if (key === '#') {
        const submitted = digits;
        digits = '';
        return submitted === '' ? { kind: 'invalid' } : { kind: 'submitted', digits: submitted };
      }
      // `*` (and anything else) starts over, as on most phone menus.
      digits = '';
      return { kind: 'collecting' };
    },
    get pending() {
      return digits;
    },
    reset() {
      digits = '';
    },
  };
}

const spokenDigits: Record<string, string> = {
  zero: '0', oh: '0', o: '0', one: '1', two: '2', to: '2', too: '2', three: '3', four: '4', for: '4',
  five: '5', six: '6', seven: '7', eight: '8', nine: '9',
};

/**
 * Digits from a transcript such as "my pin is one two three four" or "1 2 3 4". Returns undefined
 * unless it finds at least 3 digits, so a stray "for" in a sentence does not become a PIN.
 */
export function digitsFromSpeech(transcript: string): string | undefined {
  const words = transcript.toLowerCase().replace(/[^a-z0-9\s]/g, ' ').split(/\s+/).filter(Boolean);
  let digits = '';
  for (const word of words) {
    if (/^[0-9]+$/.test(word)) digits += word;
    else if (word !== 'for' && word !== 'to' && word !== 'too' && word !== 'o' && spokenDigits[word] !== undefined) digits += spokenDigits[word];
    else if (digits !== '' && spokenDigits[word] !== undefined) digits += spokenDigits[word];
  }
  return digits.length >= 3 && digits.length <= MAX_DIGITS ? digits : undefined;
}
