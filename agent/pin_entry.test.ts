import { describe, expect, it } from 'vitest';
import { createPinCollector, digitsFromSpeech } from './pin_entry.js';

describe('createPinCollector', () => {
  it('collects digits until #', () => {
    const pin = createPinCollector();
    expect([...'4821'].map((key) => pin.press(key).kind)).toEqual(['collecting', 'collecting', 'collecting', 'collecting']);
    expect(pin.pending).toBe('4821');
    expect(pin.press('#')).toEqual({ kind: 'submitted', digits: '4821' });
    expect(pin.pending).toBe('');
  });

  it('treats # alone as invalid and * as start over', () => {
    const pin = createPinCollector();
    expect(pin.press('#')).toEqual({ kind: 'invalid' });
    pin.press('1');
    pin.press('2');
    pin.press('*');
    pin.press('7');
    expect(pin.press('#')).toEqual({ kind: 'submitted', digits: '7' });
  });

  it('refuses absurdly long input', () => {
    const pin = createPinCollector();
    let last = pin.press('1');
    for (let i = 0; i < 12; i += 1) last = pin.press('1');
    expect(last).toEqual({ kind: 'invalid' });
    expect(pin.pending).toBe('');
  });
});

describe('digitsFromSpeech', () => {
  it('reads spoken and written digits', () => {
    expect(digitsFromSpeech('My PIN is four eight two one.')).toBe('4821');
    expect(digitsFromSpeech('1 2 3 4')).toBe('1234');
    expect(digitsFromSpeech('4821')).toBe('4821');
    expect(digitsFromSpeech('oh seven five nine')).toBe('0759');
  });

  it('ignores sentences without a PIN', () => {
    expect(digitsFromSpeech('I am calling for the demo')).toBeUndefined();
    expect(digitsFromSpeech('one')).toBeUndefined();
    expect(digitsFromSpeech('')).toBeUndefined();
  });
});
