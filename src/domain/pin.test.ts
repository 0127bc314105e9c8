import { describe, expect, it } from 'vitest';
import { generatePin, hashPin, pinMatches, PIN_LENGTH } from './pin.js';

describe('PINs', () => {
  it('generates numeric PINs of the requested length, keeping leading zeros', () => {
    const pins = Array.from({ length: 500 }, () => generatePin());
    expect(pins.every((pin) => new RegExp(`^\\d{${PIN_LENGTH}}$`).test(pin))).toBe(true);
    expect(new Set(pins).size).toBeGreaterThan(490);
    expect(generatePin(4)).toMatch(/^\d{4}$/);
  });

  it('hashes with the secret so the same PIN under another secret does not match', () => {
    const hash = hashPin('a'.repeat(32), '012345');
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(hash).not.toContain('012345');
    expect(pinMatches('a'.repeat(32), '012345', hash)).toBe(true);
    expect(pinMatches('b'.repeat(32), '012345', hash)).toBe(false);
    expect(pinMatches('a'.repeat(32), '012346', hash)).toBe(false);
  });
});
