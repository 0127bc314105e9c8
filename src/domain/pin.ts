import { createHmac, randomInt, timingSafeEqual } from 'node:crypto';

export const PIN_LENGTH = 6;

/** A uniformly random numeric PIN; leading zeros are kept because callers key digits, not numbers. */
export function generatePin(length = PIN_LENGTH): string {
  let pin = '';
  for (let i = 0; i < length; i += 1) pin += String(randomInt(10));
  return pin;
}

/**
 * PINs are short, so a plain hash could be brute-forced from a database dump in seconds.
 * A keyed HMAC needs the server secret too, which lives outside the database.
 */
export function hashPin(secret: string, pin: string): string {
  return createHmac('sha256', secret).update(pin).digest('hex');
}

export function pinMatches(secret: string, pin: string, pinHash: string): boolean {
  const candidate = Buffer.from(hashPin(secret, pin), 'hex');
  const stored = Buffer.from(pinHash, 'hex');
  return candidate.length === stored.length && timingSafeEqual(candidate, stored);
}
