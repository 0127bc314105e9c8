/*
 * Reliability of the emulated STT's utterance matcher on telephone audio.
 * Each registered sentence is rendered by espeak-ng and sent through an 8 kHz μ-law round trip (the
 * SIP path), starting at a random offset to the analysis frame grid. Some copies are then degraded:
 * noise, a level change, silence padding, resampling to 48 kHz as the agent uploads it, or an Opus
 * round trip as LiveKit carries it. Negatives: sentences never registered (some differ by one word),
 * noise, silence, a tone, and time-reversed speech (same spectrum, wrong content).
 * The thresholds were chosen on the tuning set; the held-out set was not looked at while choosing.
 * Prints accuracy and false-match rate for each set.
 * Run: npx tsx bench/utterance_matcher.ts
 */
import os from 'node:os';
import { type Pcm16, decodeAudio, mulawDecode, mulawEncode, pcm16ToBytes, renderSpeech, resample, runFilter } from '../test/emulators/audio.js';
import { createUtteranceMatcher } from '../test/emulators/utterance_matcher.js';

export const REGISTERED = [
  'Hello, this is Dana from Northwind Logistics.',
  'Hi Dana, I am calling about your shipping costs.',
  'We already have a supplier and we are happy with them.',
  'What would it cost us to switch?',
  'Our pricing starts at two hundred dollars a month.',
  'That sounds expensive for a company our size.',
  'Can you send me a proposal by email?',
  'I need to talk to my manager before I decide.',
  'How long does the onboarding take?',
  'Usually about two weeks from signing.',
  'What happens if a delivery is late?',
  'We refund the shipping fee for every late parcel.',
  'Do you integrate with our warehouse software?',
  'Yes, we have a connector for most systems.',
  'I am not sure this is the right time for us.',
  'Could we schedule a demo next Tuesday?',
  'Tuesday works, what time suits you?',
  'Let us say ten in the morning.',
  'Great, I will send you an invitation.',
  'Thanks for your time, goodbye.',
  'Yes.',
  'No, thank you.',
  'Can you repeat that please?',
  'Who else is using your service?',
] as const;

export const UNREGISTERED = [
  'The weather in Lisbon was lovely last spring.',
  'Please press the pound key when you are finished.',
  'I would like to order a large pizza with mushrooms.',
  'Hello, this is Sam from Contoso Freight.',
  'What would it cost us to stay?',
  'Our pricing starts at three hundred euros a year.',
  'Could we schedule a call next Thursday?',
  'Thanks for calling, see you soon.',
] as const;

/** A second set, never used to choose thresholds: the figures that should be believed. */
export const HELD_OUT_REGISTERED = [
  'Good morning, you have reached Contoso Freight.',
  'I only have five minutes before my next meeting.',
  'Our contract renews at the end of March.',
  'Who told you we were looking for a new vendor?',
  'Send the case study to my assistant.',
  'We tried something like this two years ago and it failed.',
  'What kind of discount can you offer for a three year deal?',
  'My team would need training first.',
  'Is there a setup fee?',
  'I like the idea, but the budget is frozen until next quarter.',
  'Sure, go ahead.',
  'Sorry, you broke up there.',
  'Let me check my calendar.',
  'How do you handle data security?',
  'We ship about four hundred pallets a week.',
  'Please call me back on Friday afternoon.',
] as const;

export const HELD_OUT_UNREGISTERED = [
  'Our contract renews at the end of April.',
  'I only have ten minutes before my next call.',
  'Is there a cancellation fee?',
  'Please call me back on Monday morning.',
  'The museum opens at nine on weekdays.',
  'Turn left at the second traffic light.',
] as const;

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

function gaussian(next: () => number): number {
  return Math.sqrt(-2 * Math.log(next() + 1e-12)) * Math.cos(2 * Math.PI * next());
}

function clip(v: number): number {
  return Math.max(-32768, Math.min(32767, Math.round(v)));
}

function rms(x: Int16Array): number {
  let s = 0;
  for (const v of x) s += v * v;
  return Math.sqrt(s / Math.max(1, x.length));
}

const phase = rng(99);

/**
 * The 8 kHz μ-law round trip, starting at a random sample offset: real audio never lines up with
 * the 10 ms frame grid of the candidate's rendering, and aligned audio would flatter the matcher.
 */
async function phonePath(pcm: Pcm16): Promise<Pcm16> {
  const narrow = await resample(pcm, 8000);
  const lead = Math.floor(phase() * 160);
  const samples = new Int16Array(lead + narrow.samples.length);
  samples.set(narrow.samples, lead);
  return { samples: mulawDecode(mulawEncode(samples)), sampleRate: 8000 };
}

function degrade(pcm: Pcm16, opts: { gainDb: number; snrDb?: number; padSeconds?: number; seed: number }): Pcm16 {
  const next = rng(opts.seed);
  const gain = 10 ** (opts.gainDb / 20);
  const pad = Math.round((opts.padSeconds ?? 0) * pcm.sampleRate);
  const out = new Int16Array(pcm.samples.length + 2 * pad);
  const noiseRms = opts.snrDb === undefined ? 0 : (rms(pcm.samples) * gain) / 10 ** (opts.snrDb / 20);
  for (let i = 0; i < out.length; i++) {
    const s = i >= pad && i < pad + pcm.samples.length ? (pcm.samples[i - pad] ?? 0) * gain : 0;
    out[i] = clip(s + noiseRms * gaussian(next));
  }
  return { samples: out, sampleRate: pcm.sampleRate };
}

function noise(seconds: number, rate: number, level: number, seed: number): Pcm16 {
  const next = rng(seed);
  const out = new Int16Array(Math.round(seconds * rate));
  for (let i = 0; i < out.length; i++) out[i] = clip(level * gaussian(next));
  return { samples: out, sampleRate: rate };
}

function tone(seconds: number, rate: number, hz: number): Pcm16 {
  const out = new Int16Array(Math.round(seconds * rate));
  for (let i = 0; i < out.length; i++) out[i] = clip(8000 * Math.sin((2 * Math.PI * hz * i) / rate));
  return { samples: out, sampleRate: rate };
}

/** LiveKit carries the call to the agent as Opus at 48 kHz: one encode/decode at 32 kbit/s. */
async function opusRoundTrip(pcm: Pcm16): Promise<Pcm16> {
  const wide = await resample(pcm, 48000);
  const ogg = await runFilter('ffmpeg', [
    '-hide_banner', '-loglevel', 'error', '-f', 's16le', '-ar', '48000', '-ac', '1', '-i', 'pipe:0',
    '-c:a', 'libopus', '-b:a', '32k', '-f', 'ogg', 'pipe:1',
  ], pcm16ToBytes(wide.samples));
  return decodeAudio(ogg);
}

function reversed(pcm: Pcm16): Pcm16 {
  return { samples: pcm.samples.slice().reverse(), sampleRate: pcm.sampleRate };
}

interface Trial {
  readonly label: string;
  readonly expected: string; // '' = must not match
  readonly audio: Pcm16;
}

async function evaluate(title: string, registered: readonly string[], unregistered: readonly string[], seedBase: number): Promise<void> {
  const matcher = createUtteranceMatcher({ threshold: Number.POSITIVE_INFINITY, windowThreshold: Number.POSITIVE_INFINITY });
  matcher.register(registered);
  const trials: Trial[] = [];
  let seed = seedBase;
  for (const text of registered) {
    const clean = await renderSpeech(text);
    const phone = await phonePath(clean);
    trials.push({ label: 'phone', expected: text, audio: phone });
    trials.push({ label: 'phone+noise20dB-10dB', expected: text, audio: degrade(phone, { gainDb: -10, snrDb: 20, seed: seed++ }) });
    trials.push({ label: 'phone+noise10dB+6dB+pad', expected: text, audio: degrade(phone, { gainDb: 6, snrDb: 10, padSeconds: 0.6, seed: seed++ }) });
    // The agent uploads its own frames (16 or 48 kHz) after the phone leg.
    trials.push({ label: 'phone->48k+noise15dB', expected: text, audio: await resample(degrade(phone, { gainDb: 0, snrDb: 15, seed: seed++ }), 48000) });
    trials.push({ label: 'phone->opus 48k', expected: text, audio: await opusRoundTrip(phone) });
    trials.push({ label: 'reversed', expected: '', audio: reversed(phone) });
  }
  for (const text of unregistered) {
    const phone = await phonePath(await renderSpeech(text));
    trials.push({ label: 'unregistered', expected: '', audio: phone });
    trials.push({ label: 'unregistered+noise20dB', expected: '', audio: degrade(phone, { gainDb: 0, snrDb: 20, seed: seed++ }) });
  }
  for (let i = 0; i < 4; i++) trials.push({ label: 'white noise', expected: '', audio: noise(2 + i, 8000, 3000, seed++) });
  trials.push({ label: 'quiet noise', expected: '', audio: noise(3, 8000, 30, seed++) });
  trials.push({ label: 'silence', expected: '', audio: { samples: new Int16Array(24000), sampleRate: 8000 } });
  trials.push({ label: 'tone 440 Hz', expected: '', audio: tone(2, 8000, 440) });

  const rows: Array<{ label: string; expected: string; nearest: string; distance: number; window: number; runnerUp: number }> = [];
  const started = Date.now();
  for (const t of trials) {
    const r = await matcher.match(t.audio);
    rows.push({ label: t.label, expected: t.expected, nearest: r.nearest?.text ?? '', distance: r.nearest?.distance ?? Infinity, window: r.nearest?.worstWindow ?? Infinity, runnerUp: r.runnerUp?.distance ?? Infinity });
  }
  const elapsed = Date.now() - started;
  const { threshold, windowThreshold } = createUtteranceMatcher();
  const passes = (r: { distance: number; window: number }): boolean => r.distance <= threshold && r.window <= windowThreshold;
  const positives = rows.filter((r) => r.expected !== '');
  const negatives = rows.filter((r) => r.expected === '');
    const correct = positives.filter((r) => r.nearest === r.expected && passes(r)).length;
  const wrong = positives.filter((r) => r.nearest !== r.expected && passes(r)).length;
  const falseMatches = negatives.filter(passes).length;
  if (process.argv.includes('--verbose')) {
    for (const r of rows) console.log(`${r.label.padEnd(26)} ${r.distance.toFixed(3)} w${r.window.toFixed(2)} ${r.runnerUp.toFixed(3)} ${r.expected === '' ? '-' : r.nearest === r.expected ? 'ok' : 'WRONG'} ${r.nearest}`);
  }
  const byLabel = new Map<string, Array<{ distance: number; window: number; ok: boolean }>>();
  for (const r of rows) byLabel.set(r.label, [...(byLabel.get(r.label) ?? []), { distance: r.distance, window: r.window, ok: passes(r) }]);
  const stats = (xs: number[]): string => {
    const sorted = [...xs].sort((a, b) => a - b);
    return `min ${sorted[0]?.toFixed(2)} median ${sorted[Math.floor(sorted.length / 2)]?.toFixed(2)} max ${sorted[sorted.length - 1]?.toFixed(2)}`;
  };
  console.log(`${title} (${registered.length} registered, ${unregistered.length} unregistered sentences)`);
  console.log(`thresholds: mean distance <= ${threshold}, worst window <= ${windowThreshold}`);
  for (const [label, xs] of byLabel) {
    console.log(`  ${label.padEnd(26)} n=${String(xs.length).padStart(3)} accepted ${String(xs.filter((x) => x.ok).length).padStart(3)}; distance ${stats(xs.map((x) => x.distance))}; worst window ${stats(xs.map((x) => x.window))}`);
  }
  console.log(`accuracy ${correct}/${positives.length} (${((100 * correct) / positives.length).toFixed(1)}%), wrong sentence ${wrong}, missed ${positives.length - correct - wrong}`);
  console.log(`false matches ${falseMatches}/${negatives.length} (${((100 * falseMatches) / negatives.length).toFixed(1)}%)`);
  console.log(`matching time ${(elapsed / trials.length).toFixed(1)} ms per utterance against ${registered.length} candidates`);
}

console.log(`environment: node ${process.version}, ${os.cpus().length} cpu(s) ${os.cpus()[0]?.model ?? ''}`);
await evaluate('tuning set', REGISTERED, UNREGISTERED, 1);
await evaluate('held-out set', HELD_OUT_REGISTERED, HELD_OUT_UNREGISTERED, 1000);
