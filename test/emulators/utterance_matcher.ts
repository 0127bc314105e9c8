import { type Pcm16, type RenderSpeechOptions, renderSpeech, resample } from './audio.js';

/*
 * Recognises test speech by comparison instead of recognition: each candidate sentence is rendered
 * with espeak-ng, and received audio is compared with every rendering by MFCC features aligned with
 * dynamic time warping. pocketsphinx recognises espeak-ng's voice badly (see docs/architecture.md, "Known
 * traps"); comparison against the exact synthetic renderings survives the 8 kHz μ-law phone path,
 * while silence, noise and unrelated speech stay far from every candidate.
 */

const RATE = 8000; // telephone band: every signal is compared at the rate the phone path leaves
const FRAME = 200; // 25 ms
const HOP = 80; // 10 ms
const FFT_SIZE = 256;
const MEL_BANDS = 24;
const CEPSTRA = 12; // c1..c12; c0 (level) is dropped so loudness changes do not matter
const MIN_VOICED_FRAMES = 15; // 150 ms of speech or it is "nothing heard"
const FLOOR_DB = 45;
const MIN_DYNAMIC_DB = 12;
const SMOOTH_FRAMES = 2;
const WINDOW_STEPS = 30; // ~300 ms of path: about a word

/** Default limit on the normalised DTW distance (mean over the path); chosen with bench/utterance_matcher.ts. */
export const DEFAULT_MATCH_THRESHOLD = 12;
/** Default limit on the worst word-sized stretch of the alignment; chosen from the same bench. */
export const DEFAULT_WINDOW_THRESHOLD = 23;

export interface Features {
  /** Frames x CEPSTRA, row-major, mean-normalised over the voiced span. */
  readonly mfcc: Float32Array;
  readonly frames: number;
  /** Start and end of the voiced span in the source audio, seconds. */
  readonly startSeconds: number;
  readonly endSeconds: number;
}

export interface MatchResult {
  readonly text: string;
  /** Normalised DTW distance of the best candidate (lower is closer). */
  readonly distance: number;
  /** Best candidate whether or not it passed the threshold, for diagnostics. */
  readonly nearest?: { readonly text: string; readonly distance: number; readonly worstWindow: number };
  /** Second-best candidate, to judge how clear the decision was. */
  readonly runnerUp?: { readonly text: string; readonly distance: number };
}

export interface LocateResult {
  readonly text: string;
  readonly distance: number;
  readonly startSeconds: number;
  readonly endSeconds: number;
}

export interface UtteranceMatcherOptions {
  /** espeak-ng settings used to render candidates; must match how the speech under test was made. */
  readonly speech?: RenderSpeechOptions;
  readonly threshold?: number;
  /** Limit on the worst ~300 ms stretch of the alignment (see dtwWorstWindow). */
  readonly windowThreshold?: number;
  /**
   * Also recognise each registered sentence's clauses (runs between punctuation pauses) on their own,
   * as a real Whisper does when a VAD sends it the speech before a pause as one segment.
   */
  readonly clauses?: boolean;
}

/**
 * Every contiguous run of a sentence's clauses except the whole sentence, split where espeak-ng
 * pauses (after , ; . ? !). Runs under two words are left out: too short to tell apart reliably.
 */
export function clauseRuns(text: string): string[] {
  const clauses = text.split(/(?<=[,;.?!])\s+/).filter((clause) => clause.trim() !== '');
  const runs: string[] = [];
  for (let i = 0; i < clauses.length; i++) {
    for (let j = i; j < clauses.length; j++) {
      if (i === 0 && j === clauses.length - 1) continue;
      const run = clauses.slice(i, j + 1).join(' ');
      if (run.split(/\s+/).length >= 2) runs.push(run);
    }
  }
  return runs;
}

export interface UtteranceMatcher {
  /** Adds candidate sentences (rendered lazily, once). */
  register(texts: string | readonly string[], speech?: RenderSpeechOptions): void;
  /** Removes every candidate. */
  clear(): void;
  registered(): readonly string[];
  /**
   * Best registered sentence for a single utterance (leading/trailing silence is ignored).
   * `text` is '' when nothing is close enough — as Whisper returns for silence or noise.
   */
  match(audio: Pcm16): Promise<MatchResult>;
  /** Finds where (and whether) a registered sentence occurs inside a longer recording. */
  locate(text: string, recording: Pcm16): Promise<LocateResult | undefined>;
  /** Splits a recording at pauses and matches each piece: the registered sentences heard, in order. */
  transcribe(recording: Pcm16): Promise<LocateResult[]>;
  readonly threshold: number;
  readonly windowThreshold: number;
}

let hamming: Float32Array | undefined;
let melBank: Array<{ readonly start: number; readonly weights: Float32Array }> | undefined;
let dct: Float32Array | undefined;

function tables(): void {
  if (hamming) return;
  hamming = new Float32Array(FRAME);
  for (let i = 0; i < FRAME; i++) hamming[i] = 0.54 - 0.46 * Math.cos((2 * Math.PI * i) / (FRAME - 1));
  const mel = (f: number): number => 2595 * Math.log10(1 + f / 700);
  const hz = (m: number): number => 700 * (10 ** (m / 2595) - 1);
  const low = mel(125);
  const high = mel(3800);
  const edges: number[] = [];
  for (let b = 0; b < MEL_BANDS + 2; b++) edges.push((hz(low + ((high - low) * b) / (MEL_BANDS + 1)) * FFT_SIZE) / RATE);
  melBank = [];
  for (let b = 0; b < MEL_BANDS; b++) {
    const l = edges[b] ?? 0;
    const c = edges[b + 1] ?? 0;
    const r = edges[b + 2] ?? 0;
    const start = Math.floor(l);
    const weights = new Float32Array(Math.ceil(r) - start + 1);
    for (let k = start; k <= Math.ceil(r); k++) {
      const w = k < c ? (k - l) / (c - l) : (r - k) / (r - c);
      weights[k - start] = Math.max(0, w);
    }
    melBank.push({ start, weights });
  }
  dct = new Float32Array(CEPSTRA * MEL_BANDS);
  for (let c = 0; c < CEPSTRA; c++) {
    for (let b = 0; b < MEL_BANDS; b++) dct[c * MEL_BANDS + b] = Math.cos((Math.PI * (c + 1) * (b + 0.5)) / MEL_BANDS);
  }
}

function fftPower(re: Float64Array, im: Float64Array, out: Float64Array): void {
  const n = re.length;
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      const tr = re[i] ?? 0;
      re[i] = re[j] ?? 0;
      re[j] = tr;
      const ti = im[i] ?? 0;
      im[i] = im[j] ?? 0;
      im[j] = ti;
    }
  }
  for (let len = 2; len <= n; len <<= 1) {
    const ang = (-2 * Math.PI) / len;
    for (let i = 0; i < n; i += len) {
      for (let k = 0; k < len / 2; k++) {
        const wr = Math.cos(ang * k);
        const wi = Math.sin(ang * k);
        const a = i + k;
        const b = a + len / 2;
        const br = re[b] ?? 0;
        const bi = im[b] ?? 0;
        const xr = br * wr - bi * wi;
        const xi = br * wi + bi * wr;
        re[b] = (re[a] ?? 0) - xr;
        im[b] = (im[a] ?? 0) - xi;
        re[a] = (re[a] ?? 0) + xr;
        im[a] = (im[a] ?? 0) + xi;
      }
    }
  }
  for (let k = 0; k <= n / 2; k++) out[k] = (re[k] ?? 0) ** 2 + (im[k] ?? 0) ** 2;
}

/** Linear mel spectrum of the voiced span of a signal, kept so candidates can be adapted to the channel. */
export interface Analysis {
  /** Frames x MEL_BANDS mel-band power over the voiced span. */
  readonly mel: Float64Array;
  readonly voiced: Uint8Array;
  readonly frames: number;
  /** Mel-band power of the quietest frames: the channel's noise floor. */
  readonly noise: Float64Array;
  /** Typical loud-frame power (90th percentile of voiced frames), to align levels. */
  readonly level: number;
  readonly startSeconds: number;
  readonly endSeconds: number;
}

/** Mel analysis of `audio`, or undefined when it holds no speech-like energy (silence, a dead line). */
export async function analyse(audio: Pcm16): Promise<Analysis | undefined> {
  tables();
  const pcm = await resample(audio, RATE);
  const x = new Float64Array(pcm.samples.length);
  let prev = 0;
  for (let i = 0; i < x.length; i++) {
    const s = (pcm.samples[i] ?? 0) / 32768;
    x[i] = s - 0.97 * prev; // pre-emphasis flattens speech's spectral tilt
    prev = s;
  }
  const frames = Math.max(0, Math.floor((x.length - FRAME) / HOP) + 1);
  const energyDb = new Float64Array(frames);
  const mel = new Float64Array(frames * MEL_BANDS);
  const total = new Float64Array(frames);
  const re = new Float64Array(FFT_SIZE);
  const im = new Float64Array(FFT_SIZE);
  const power = new Float64Array(FFT_SIZE / 2 + 1);
  const win = hamming ?? new Float32Array(0);
  const bank = melBank ?? [];
  for (let f = 0; f < frames; f++) {
    re.fill(0);
    im.fill(0);
    let e = 0;
    for (let i = 0; i < FRAME; i++) {
      const raw = (pcm.samples[f * HOP + i] ?? 0) / 32768;
      e += raw * raw;
      re[i] = (x[f * HOP + i] ?? 0) * (win[i] ?? 0);
    }
    energyDb[f] = 10 * Math.log10(e / FRAME + 1e-12);
    fftPower(re, im, power);
    for (let b = 0; b < MEL_BANDS; b++) {
      const band = bank[b];
      if (!band) continue;
      let sum = 0;
      for (let k = 0; k < band.weights.length; k++) sum += (band.weights[k] ?? 0) * (power[band.start + k] ?? 0);
      mel[f * MEL_BANDS + b] = sum;
      total[f] = (total[f] ?? 0) + sum;
    }
  }
  let peak = -Infinity;
  for (const e of energyDb) peak = Math.max(peak, e);
  const sortedDb = [...energyDb].sort((a, b) => a - b);
  const noiseDb = sortedDb[Math.floor(sortedDb.length / 10)] ?? -Infinity;
  // Stationary noise (hiss, a tone, a stuck buffer) has no loud/quiet structure; speech always does.
  if (peak - noiseDb < MIN_DYNAMIC_DB) return undefined;
  // Voiced = within 35 dB of the loudest frame, clear of the noise floor and above -60 dBFS: relative
  // so levels do not matter, absolute so a silent or near-silent path never looks like speech.
  const floor = Math.max(peak - 35, noiseDb + 6, -60);
  let first = -1;
  let last = -1;
  let voicedCount = 0;
  for (let f = 0; f < frames; f++) {
    if ((energyDb[f] ?? -Infinity) > floor) {
      if (first < 0) first = f;
      last = f;
      voicedCount++;
    }
  }
  if (voicedCount < MIN_VOICED_FRAMES || first < 0) return undefined;
  const n = last - first + 1;
  const voiced = new Uint8Array(n);
  const loud: number[] = [];
  for (let f = 0; f < n; f++) {
    if ((energyDb[first + f] ?? -Infinity) > floor) {
      voiced[f] = 1;
      loud.push(total[first + f] ?? 0);
    }
  }
  loud.sort((a, b) => a - b);
  const order = [...total.keys()].sort((a, b) => (total[a] ?? 0) - (total[b] ?? 0));
  // The quietest 5% of frames: a VAD-cut utterance may have little pause around it, and speech
  // counted as noise would drown the candidate.
  const quiet = order.slice(0, Math.max(1, Math.floor(frames / 20)));
  const noise = new Float64Array(MEL_BANDS);
  for (const f of quiet) for (let b = 0; b < MEL_BANDS; b++) noise[b] = (noise[b] ?? 0) + (mel[f * MEL_BANDS + b] ?? 0) / quiet.length;
  return {
    mel: mel.slice(first * MEL_BANDS, (last + 1) * MEL_BANDS),
    voiced,
    frames: n,
    noise,
    level: loud[Math.floor(loud.length * 0.9)] ?? 0,
    startSeconds: (first * HOP) / RATE,
    endSeconds: (last * HOP + FRAME) / RATE,
  };
}

/**
 * MFCCs of an analysis as heard through a channel: scaled by `gain`, with `noise` added and every band
 * floored `FLOOR_DB` below the channel's level. Adapting the clean candidate to the received audio's
 * level and noise floor (instead of hoping features ignore noise) keeps noisy speech close to its
 * sentence while noise alone stays far from every sentence.
 */
export function cepstra(a: Analysis, gain: number, noise: Float64Array | undefined, level: number): Features {
  tables();
  const coeffs = dct ?? new Float32Array(0);
  const floor = (level / MEL_BANDS) * 10 ** (-FLOOR_DB / 10);
  const n = a.frames;
  const mfcc = new Float32Array(n * CEPSTRA);
  const mean = new Float64Array(CEPSTRA);
  let voicedCount = 0;
  for (const v of a.voiced) voicedCount += v;
  const raw = new Float64Array(n * MEL_BANDS);
  for (let f = 0; f < n; f++) {
    for (let b = 0; b < MEL_BANDS; b++) {
      raw[f * MEL_BANDS + b] = Math.log(Math.max((a.mel[f * MEL_BANDS + b] ?? 0) * gain + (noise?.[b] ?? 0), floor));
    }
  }
  const logMel = new Float64Array(MEL_BANDS);
  for (let f = 0; f < n; f++) {
    // Smoothing over neighbouring frames makes the features insensitive to where the 10 ms frame
    // grid falls: synthetic speech otherwise scores far better in phase with its rendering than not.
    for (let b = 0; b < MEL_BANDS; b++) {
      let sum = 0;
      let weight = 0;
      for (let k = -SMOOTH_FRAMES; k <= SMOOTH_FRAMES; k++) {
        const g = f + k;
        if (g < 0 || g >= n) continue;
        const w = SMOOTH_FRAMES + 1 - Math.abs(k);
        sum += w * (raw[g * MEL_BANDS + b] ?? 0);
        weight += w;
      }
      logMel[b] = sum / weight;
    }
    const isVoiced = a.voiced[f] === 1;
    for (let c = 0; c < CEPSTRA; c++) {
      let v = 0;
      for (let b = 0; b < MEL_BANDS; b++) v += (coeffs[c * MEL_BANDS + b] ?? 0) * (logMel[b] ?? 0);
      mfcc[f * CEPSTRA + c] = v;
      // The mean is taken over voiced frames only, so pauses (or gaps between sentences in a long
      // recording) do not shift it and a sentence normalises the same alone or inside a call.
      if (isVoiced) mean[c] = (mean[c] ?? 0) + v / Math.max(1, voicedCount);
    }
  }
  // Cepstral mean normalisation removes the fixed colouring of a channel (codec, filters).
  for (let f = 0; f < n; f++) for (let c = 0; c < CEPSTRA; c++) mfcc[f * CEPSTRA + c] = (mfcc[f * CEPSTRA + c] ?? 0) - (mean[c] ?? 0);
  return { mfcc, frames: n, startSeconds: a.startSeconds, endSeconds: a.endSeconds };
}

/** `candidate` adapted to the channel `heard` came through, and `heard` itself, as comparable features. */
export function comparable(heard: Analysis, candidate: Analysis): { heard: Features; candidate: Features } {
  const gain = candidate.level > 0 ? heard.level / candidate.level : 1;
  return {
    heard: cepstra(heard, 1, undefined, heard.level),
    candidate: cepstra(candidate, gain, heard.noise, heard.level),
  };
}

function frameDistance(a: Float32Array, i: number, b: Float32Array, j: number): number {
  let sum = 0;
  for (let c = 0; c < CEPSTRA; c++) {
    const d = (a[i * CEPSTRA + c] ?? 0) - (b[j * CEPSTRA + c] ?? 0);
    sum += d * d;
  }
  return Math.sqrt(sum);
}

/** Symmetric DTW distance normalised by n+m; Infinity when durations are too different to be the same sentence. */
export function dtwDistance(a: Features, b: Features): number {
  const n = a.frames;
  const m = b.frames;
  if (n === 0 || m === 0 || n > 2 * m || m > 2 * n) return Infinity;
  const band = Math.max(Math.ceil(0.3 * Math.max(n, m)), 20);
  let prev = new Float64Array(m).fill(Infinity);
  let cur = new Float64Array(m).fill(Infinity);
  for (let i = 0; i < n; i++) {
    cur.fill(Infinity);
    const centre = Math.round((i * (m - 1)) / Math.max(1, n - 1));
    const lo = Math.max(0, centre - band);
    const hi = Math.min(m - 1, centre + band);
    for (let j = lo; j <= hi; j++) {
      const d = frameDistance(a.mfcc, i, b.mfcc, j);
      if (i === 0 && j === 0) {
        cur[j] = 2 * d;
        continue;
      }
      const diag = i > 0 && j > 0 ? (prev[j - 1] ?? Infinity) + 2 * d : Infinity;
      const up = i > 0 ? (prev[j] ?? Infinity) + d : Infinity;
      const left = j > 0 ? (cur[j - 1] ?? Infinity) + d : Infinity;
      cur[j] = Math.min(diag, up, left);
    }
    [prev, cur] = [cur, prev];
  }
  return (prev[m - 1] ?? Infinity) / (n + m);
}

/**
 * Full DTW with the warping path recovered, reporting the worst stretch along it: the mean frame
 * distance over the worst WINDOW_STEPS consecutive path steps. A sentence that differs from the
 * candidate by one word has a low overall mean but a clear local peak where the word differs.
 */
export function dtwWorstWindow(a: Features, b: Features): number {
  const n = a.frames;
  const m = b.frames;
  if (n === 0 || m === 0) return Infinity;
  const cost = new Float64Array(n * m).fill(Infinity);
  const at = (i: number, j: number): number => (i < 0 || j < 0 ? Infinity : cost[i * m + j] ?? Infinity);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < m; j++) {
      const d = frameDistance(a.mfcc, i, b.mfcc, j);
      cost[i * m + j] = i === 0 && j === 0 ? 2 * d : Math.min(at(i - 1, j - 1) + 2 * d, at(i - 1, j) + d, at(i, j - 1) + d);
    }
  }
  const steps: number[] = [];
  let i = n - 1;
  let j = m - 1;
  while (i >= 0 && j >= 0) {
    steps.push(frameDistance(a.mfcc, i, b.mfcc, j));
    if (i === 0 && j === 0) break;
    const diag = at(i - 1, j - 1);
    const up = at(i - 1, j);
    const left = at(i, j - 1);
    if (diag <= up && diag <= left) {
      i--;
      j--;
    } else if (up <= left) i--;
    else j--;
  }
  const w = Math.min(WINDOW_STEPS, steps.length);
  let sum = 0;
  for (let k = 0; k < w; k++) sum += steps[k] ?? 0;
  let worst = sum / w;
  for (let k = w; k < steps.length; k++) {
    sum += (steps[k] ?? 0) - (steps[k - w] ?? 0);
    worst = Math.max(worst, sum / w);
  }
  return worst;
}

/** Subsequence DTW: the best-matching stretch of `long` for the whole of `query`. */
export function dtwLocate(query: Features, long: Features): { distance: number; startFrame: number; endFrame: number } {
  const n = query.frames;
  const m = long.frames;
  let best = { distance: Infinity, startFrame: 0, endFrame: 0 };
  if (n === 0 || m === 0) return best;
  let prevCost = new Float64Array(m);
  let prevLen = new Float64Array(m);
  let prevStart = new Int32Array(m);
  let curCost = new Float64Array(m);
  let curLen = new Float64Array(m);
  let curStart = new Int32Array(m);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < m; j++) {
      const d = frameDistance(query.mfcc, i, long.mfcc, j);
      if (i === 0) {
        // Free start anywhere in the recording.
        curCost[j] = d;
        curLen[j] = 1;
        curStart[j] = j;
        continue;
      }
      let cost = (prevCost[j] ?? Infinity) + d;
      let len = (prevLen[j] ?? 0) + 1;
      let start = prevStart[j] ?? 0;
      if (j > 0) {
        const diag = (prevCost[j - 1] ?? Infinity) + 2 * d;
        if (diag / ((prevLen[j - 1] ?? 0) + 2) < cost / len) {
          cost = diag;
          len = (prevLen[j - 1] ?? 0) + 2;
          start = prevStart[j - 1] ?? 0;
        }
        const left = (curCost[j - 1] ?? Infinity) + d;
        if (left / ((curLen[j - 1] ?? 0) + 1) < cost / len) {
          cost = left;
          len = (curLen[j - 1] ?? 0) + 1;
          start = curStart[j - 1] ?? 0;
        }
      }
      curCost[j] = cost;
      curLen[j] = len;
      curStart[j] = start;
    }
    [prevCost, curCost] = [curCost, prevCost];
    [prevLen, curLen] = [curLen, prevLen];
    [prevStart, curStart] = [curStart, prevStart];
  }
  for (let j = 0; j < m; j++) {
    const span = j - (prevStart[j] ?? 0) + 1;
    if (span < n / 2 || span > n * 2) continue;
    const dist = (prevCost[j] ?? Infinity) / (prevLen[j] ?? 1);
    if (dist < best.distance) best = { distance: dist, startFrame: prevStart[j] ?? 0, endFrame: j };
  }
  return best;
}

function slice(pcm: Pcm16, startSeconds: number, endSeconds: number): Pcm16 {
  const from = Math.max(0, Math.floor(startSeconds * pcm.sampleRate));
  const to = Math.min(pcm.samples.length, Math.ceil(endSeconds * pcm.sampleRate));
  return { samples: pcm.samples.subarray(from, to), sampleRate: pcm.sampleRate };
}

/**
 * Voiced stretches of a recording separated by at least `minGapMs` of quiet (20 ms frames, voiced =
 * within 35 dB of the peak, 6 dB over the noise floor and above -60 dBFS), each padded by 150 ms.
 */
export function splitUtterances(pcm: Pcm16, minGapMs = 400): Array<{ startSeconds: number; endSeconds: number }> {
  const frame = Math.max(1, Math.round(pcm.sampleRate * 0.02));
  const levels: number[] = [];
  for (let i = 0; i + frame <= pcm.samples.length; i += frame) {
    let sum = 0;
    for (let k = i; k < i + frame; k++) sum += (pcm.samples[k] ?? 0) ** 2;
    levels.push(10 * Math.log10(sum / frame / 32768 ** 2 + 1e-12));
  }
  if (levels.length === 0) return [];
  const sorted = [...levels].sort((a, b) => a - b);
  const peak = sorted[sorted.length - 1] ?? -Infinity;
  const noise = sorted[Math.floor(sorted.length / 10)] ?? -Infinity;
  if (peak - noise < MIN_DYNAMIC_DB) return [];
  const floor = Math.max(peak - 35, noise + 6, -60);
  const gapFrames = Math.ceil(minGapMs / 20);
  const out: Array<{ startSeconds: number; endSeconds: number }> = [];
  let start = -1;
  let lastVoiced = -1;
  const close = (): void => {
    if (start >= 0 && lastVoiced - start + 1 >= MIN_VOICED_FRAMES / 2) {
      out.push({ startSeconds: Math.max(0, start * 0.02 - 0.15), endSeconds: Math.min(pcm.samples.length / pcm.sampleRate, (lastVoiced + 1) * 0.02 + 0.15) });
    }
    start = -1;
  };
  levels.forEach((level, f) => {
    if (level <= floor) return;
    if (start >= 0 && f - lastVoiced > gapFrames) close();
    if (start < 0) start = f;
    lastVoiced = f;
  });
  close();
  return out;
}

export function createUtteranceMatcher(options: UtteranceMatcherOptions = {}): UtteranceMatcher {
  const threshold = options.threshold ?? DEFAULT_MATCH_THRESHOLD;
  const windowThreshold = options.windowThreshold ?? DEFAULT_WINDOW_THRESHOLD;
  const candidates = new Map<string, Promise<Analysis | undefined>>();

  const add = (text: string, speech: RenderSpeechOptions | undefined): Promise<Analysis | undefined> => {
    const found = candidates.get(text);
    if (found) return found;
    const made = renderSpeech(text, speech).then(analyse);
    candidates.set(text, made);
    return made;
  };

  return {
    threshold,
    windowThreshold,
    register(texts, speech) {
      for (const text of typeof texts === 'string' ? [texts] : texts) {
        void add(text, speech ?? options.speech);
        if (options.clauses) for (const run of clauseRuns(text)) void add(run, speech ?? options.speech);
      }
    },
    clear() {
      candidates.clear();
    },
    registered() {
      return [...candidates.keys()];
    },
    async match(audio) {
      const heard = await analyse(audio);
      if (!heard) return { text: '', distance: Infinity };
      const scored: Array<{ text: string; distance: number }> = [];
      for (const [text, pending] of candidates) {
        const cand = await pending;
        if (!cand) continue;
        const pair = comparable(heard, cand);
        scored.push({ text, distance: dtwDistance(pair.heard, pair.candidate) });
      }
      scored.sort((p, q) => p.distance - q.distance);
      const [best, second] = scored;
      if (!best) return { text: '', distance: Infinity };
      const bestPair = comparable(heard, (await candidates.get(best.text)) ?? heard);
      const nearest = { ...best, worstWindow: Number.isFinite(best.distance) ? dtwWorstWindow(bestPair.heard, bestPair.candidate) : Infinity };
      const base = { nearest, ...(second ? { runnerUp: second } : {}) };
      if (best.distance > threshold || nearest.worstWindow > windowThreshold) return { text: '', distance: best.distance, ...base };
      return { text: best.text, distance: best.distance, ...base };
    },
    async locate(text, recording) {
      const cand = await add(text, options.speech);
      if (!cand) return undefined;
      // First as separate utterances (a phone recording is speech between pauses), joining up to three
      // neighbours in case the sentence itself has a long pause; then, for speech run together, by
      // subsequence DTW over the whole recording.
      const pieces = splitUtterances(recording);
      let best: LocateResult | undefined;
      for (let i = 0; i < pieces.length; i++) {
        for (let j = i; j < Math.min(pieces.length, i + 3); j++) {
          const first = pieces[i];
          const last = pieces[j];
          if (!first || !last) continue;
          const span = slice(recording, first.startSeconds, last.endSeconds);
          const heard = await analyse(span);
          if (!heard) continue;
          const pair = comparable(heard, cand);
          const distance = dtwDistance(pair.heard, pair.candidate);
          if (distance <= threshold && (!best || distance < best.distance) && dtwWorstWindow(pair.heard, pair.candidate) <= windowThreshold) {
            best = { text, distance, startSeconds: first.startSeconds + heard.startSeconds, endSeconds: first.startSeconds + heard.endSeconds };
          }
        }
      }
      if (best) return best;
      const long = await analyse(recording);
      if (!long) return undefined;
      const pair = comparable(long, cand);
      const hit = dtwLocate(pair.candidate, pair.heard);
      if (hit.distance > threshold) return undefined;
      return {
        text,
        distance: hit.distance,
        startSeconds: long.startSeconds + (hit.startFrame * HOP) / RATE,
        endSeconds: long.startSeconds + (hit.endFrame * HOP + FRAME) / RATE,
      };
    },
    async transcribe(recording) {
      const out: LocateResult[] = [];
      for (const piece of splitUtterances(recording)) {
        const result = await this.match(slice(recording, piece.startSeconds, piece.endSeconds));
        if (result.text !== '') out.push({ text: result.text, distance: result.distance, startSeconds: piece.startSeconds, endSeconds: piece.endSeconds });
      }
      return out;
    },
  };
}
