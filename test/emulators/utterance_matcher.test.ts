import { describe, expect, it } from 'vitest';
import { type Pcm16, mulawDecode, mulawEncode, renderSpeechAt, resample } from './audio.js';
import { clauseRuns, createUtteranceMatcher } from './utterance_matcher.js';

const SENTENCES = [
  'Hello, this is Dana from Northwind Logistics.',
  'What would it cost us to switch?',
  'Could we schedule a demo next Tuesday?',
  'Thanks for your time, goodbye.',
];

async function phone(text: string): Promise<Pcm16> {
  const pcm = await renderSpeechAt(text, 8000);
  return { samples: mulawDecode(mulawEncode(pcm.samples)), sampleRate: 8000 };
}

function concat(rate: number, ...parts: Array<Pcm16 | number>): Pcm16 {
  const arrays = parts.map((p) => (typeof p === 'number' ? new Int16Array(Math.round(p * rate)) : p.samples));
  const out = new Int16Array(arrays.reduce((n, a) => n + a.length, 0));
  let offset = 0;
  for (const a of arrays) {
    out.set(a, offset);
    offset += a.length;
  }
  return { samples: out, sampleRate: rate };
}

describe('utterance matcher', () => {
  it('recognises each registered sentence after the 8 kHz μ-law phone path, at any upload rate', async () => {
    const matcher = createUtteranceMatcher();
    matcher.register(SENTENCES);
    for (const text of SENTENCES) {
      const heard = await phone(text);
      expect((await matcher.match(heard)).text).toBe(text);
      expect((await matcher.match(await resample(heard, 48000))).text).toBe(text);
    }
  });

  it('with clauses on, recognises the stretch before a pause on its own, and still prefers the whole sentence', async () => {
    const whole = 'Hi Diane, this is Riley from Parcel Point. Do you have two minutes to talk about shipping costs?';
    expect(clauseRuns(whole)).toEqual([
      'Hi Diane,',
      'Hi Diane, this is Riley from Parcel Point.',
      'this is Riley from Parcel Point.',
      'this is Riley from Parcel Point. Do you have two minutes to talk about shipping costs?',
      'Do you have two minutes to talk about shipping costs?',
    ]);
    const matcher = createUtteranceMatcher({ clauses: true });
    matcher.register([whole, ...SENTENCES]);
    expect((await matcher.match(await phone('Hi Diane, this is Riley from Parcel Point.'))).text).toBe('Hi Diane, this is Riley from Parcel Point.');
    expect((await matcher.match(await phone('Do you have two minutes to talk about shipping costs?'))).text).toBe('Do you have two minutes to talk about shipping costs?');
    expect((await matcher.match(await phone(whole))).text).toBe(whole);
    // Off by default: a clause is not a sentence that was registered.
    const strict = createUtteranceMatcher();
    strict.register(whole);
    expect((await strict.match(await phone('Do you have two minutes to talk about shipping costs?'))).text).toBe('');
  });

  it('hears nothing in silence, noise, reversed speech or an unregistered sentence', async () => {
    const matcher = createUtteranceMatcher();
    matcher.register(SENTENCES);
    const noise: Pcm16 = { samples: Int16Array.from({ length: 24000 }, () => Math.round((Math.random() - 0.5) * 6000)), sampleRate: 8000 };
    const reversed = await phone(SENTENCES[2] ?? '');
    const candidates: Pcm16[] = [
      { samples: new Int16Array(24000), sampleRate: 8000 },
      noise,
      { samples: reversed.samples.slice().reverse(), sampleRate: 8000 },
      await phone('I would like to order a large pizza with mushrooms.'),
    ];
    for (const audio of candidates) expect((await matcher.match(audio)).text).toBe('');
  });

  it('locates a sentence inside a longer recording, and not one that was never said', async () => {
    const matcher = createUtteranceMatcher();
    const first = await phone(SENTENCES[0] ?? '');
    const second = await phone(SENTENCES[2] ?? '');
    const recording = concat(8000, 0.5, first, 1.0, second, 0.7);
    const found = await matcher.locate(SENTENCES[2] ?? '', recording);
    const secondStart = 0.5 + first.samples.length / 8000 + 1.0;
    expect(found?.startSeconds).toBeGreaterThan(secondStart - 0.3);
    expect(found?.startSeconds).toBeLessThan(secondStart + 0.3);
    expect(await matcher.locate(SENTENCES[1] ?? '', recording)).toBeUndefined();
  });
});
