import { describe, expect, it } from 'vitest';
import { parseTranscript, TranscriptError } from './transcript.js';

describe('parseTranscript', () => {
  it('reads timed "Speaker: text" lines, ending each turn where the next starts', () => {
    const parsed = parseTranscript(['[00:00] Diane: Hello, Diane speaking.', '[00:03] Rep: Hi Diane, this is Riley.', '  I work at Acme.', '[00:09] Diane: Go on.'].join('\n'));
    expect(parsed.timed).toBe(true);
    expect(parsed.turns.map((turn) => [turn.speaker, turn.text, turn.startMs, turn.endMs])).toEqual([
      ['persona', 'Hello, Diane speaking.', 0, 3000],
      ['rep', 'Hi Diane, this is Riley. I work at Acme.', 3000, 9000],
      ['persona', 'Go on.', 9000, 10_000],
    ]);
  });

  it('lays untimed lines out in order and says they are untimed', () => {
    const parsed = parseTranscript('Rep: Hello there, how are you today?\nBuyer: Fine.');
    expect(parsed.timed).toBe(false);
    expect(parsed.turns.map((turn) => turn.speaker)).toEqual(['rep', 'persona']);
    expect(parsed.turns[1]!.startMs).toBe(parsed.turns[0]!.endMs);
  });

  it('reads JSON arrays and { turns } objects with seconds or ISO times', () => {
    const parsed = parseTranscript(JSON.stringify({ turns: [
      { speaker: 'persona', text: 'Hello.', start: 0, end: 1.5 },
      { speaker: 'rep', text: 'Hi!', start: 2, end: 3, interrupted: true },
    ] }));
    expect(parsed.timed).toBe(true);
    expect(parsed.turns[1]).toEqual({ speaker: 'rep', text: 'Hi!', startMs: 2000, endMs: 3000, interrupted: true });
    const iso = parseTranscript(JSON.stringify([{ speaker: 'Rep', text: 'Hi', startedAt: '2026-01-01T00:00:00.000Z', endedAt: '2026-01-01T00:00:02.000Z' }]));
    expect(iso.turns[0]!.endMs - iso.turns[0]!.startMs).toBe(2000);
  });

  it('accepts a custom rep label', () => {
    const parsed = parseTranscript('Riley: Hello?\nDiane: Yes?', { repLabels: ['Riley'] });
    expect(parsed.turns.map((turn) => turn.speaker)).toEqual(['rep', 'persona']);
  });

  it('refuses transcripts with no rep lines, bad JSON shapes and stray first lines', () => {
    expect(() => parseTranscript('Diane: Hello\nTom: Hi')).toThrow(/no rep lines found \(labels seen: Diane, Tom\)/);
    expect(() => parseTranscript('[{"who":"rep"}]')).toThrow(TranscriptError);
    expect(() => parseTranscript('hello there\nRep: hi')).toThrow(/expected "Speaker: text"/);
    expect(() => parseTranscript('   ')).toThrow(/empty/);
  });
});
