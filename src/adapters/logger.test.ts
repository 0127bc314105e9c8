import { DrizzleQueryError } from 'drizzle-orm/errors';
import { describe, expect, it } from 'vitest';
import { safeStack, serializeError } from './logger.js';

describe('serializeError', () => {
  const failure = () => {
    const cause = Object.assign(new Error('invalid input syntax for type uuid: "4711-secret"'), { code: '22P02', detail: 'Key (email)=(riley@example.test)' });
    return new DrizzleQueryError('select * from calls where id = $1 and pin_hash = $2', ['4711-secret', 'a1b2c3-hash'], cause);
  };

  it('keeps the statement, code and stack frames but no parameter, detail or quoted input', () => {
    const serialized = JSON.stringify(serializeError(failure()));
    expect(serialized).toContain('select * from calls where id = $1');
    expect(serialized).toContain('22P02');
    expect(serialized).toMatch(/at /);
    for (const secret of ['4711-secret', 'a1b2c3-hash', 'riley@example.test']) expect(serialized).not.toContain(secret);
  });

  it('gives a terminal-safe stack for start-up failures', () => {
    const stack = safeStack(failure());
    expect(stack).toMatch(/^Error: Failed query: select/);
    expect(stack).not.toContain('a1b2c3-hash');
    expect(safeStack('a thrown string')).toBe('[non-error value dropped]');
  });
});
