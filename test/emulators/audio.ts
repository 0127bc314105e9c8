import { spawn } from 'node:child_process';
import alawmulaw from 'alawmulaw';

/** Mono 16-bit PCM with its sample rate; the one audio shape the emulators pass around. */
export interface Pcm16 {
  readonly samples: Int16Array;
  readonly sampleRate: number;
}

export interface RenderSpeechOptions {
  /** espeak-ng voice, e.g. `en-us`, `en-us+f3`, `en-gb`. */
  readonly voice?: string;
  /** Words per minute (espeak-ng `-s`). */
  readonly wordsPerMinute?: number;
}

export const DEFAULT_ESPEAK_VOICE = 'en-us';
export const DEFAULT_WORDS_PER_MINUTE = 165;

/** Runs a filter process (espeak-ng, sox, ffmpeg) feeding `input` on stdin and collecting stdout. */
export function runFilter(command: string, args: readonly string[], input?: Uint8Array): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(Buffer.concat(out));
      else reject(new Error(`${command} exited with ${String(code)}: ${Buffer.concat(err).toString().slice(0, 500)}`));
    });
    // EPIPE when the child exits early is reported through 'close'; ignore it here.
    child.stdin.on('error', () => undefined);
    if (input !== undefined) child.stdin.end(input);
    else child.stdin.end();
  });
}

function int16FromBytes(bytes: Uint8Array): Int16Array {
  const even = bytes.byteLength - (bytes.byteLength % 2);
  const copy = new Uint8Array(even);
  copy.set(bytes.subarray(0, even));
  return new Int16Array(copy.buffer);
}

export function pcm16ToBytes(samples: Int16Array): Buffer {
  return Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength);
}

interface WavInfo {
  readonly format: number;
  readonly channels: number;
  readonly sampleRate: number;
  readonly bitsPerSample: number;
  readonly data: Uint8Array;
}

/** Minimal RIFF/WAVE reader; espeak-ng writes a bogus data length when streaming to stdout, so trust the buffer. */
export function parseWav(buf: Uint8Array): WavInfo | undefined {
  const view = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (view.byteLength < 12 || view.toString('ascii', 0, 4) !== 'RIFF' || view.toString('ascii', 8, 12) !== 'WAVE') {
    return undefined;
  }
  let offset = 12;
  let fmt: Omit<WavInfo, 'data'> | undefined;
  while (offset + 8 <= view.byteLength) {
    const id = view.toString('ascii', offset, offset + 4);
    const size = view.readUInt32LE(offset + 4);
    const body = offset + 8;
    if (id === 'fmt ') {
      let format = view.readUInt16LE(body);
      // WAVE_FORMAT_EXTENSIBLE keeps the real format in the first two bytes of the sub-format GUID.
      if (format === 0xfffe && size >= 26) format = view.readUInt16LE(body + 24);
      fmt = {
        format,
        channels: view.readUInt16LE(body + 2),
        sampleRate: view.readUInt32LE(body + 4),
        bitsPerSample: view.readUInt16LE(body + 14),
      };
    } else if (id === 'data') {
      if (!fmt) return undefined;
      const end = Math.min(view.byteLength, size === 0 || size === 0xffffffff ? view.byteLength : body + size);
      return { ...fmt, data: new Uint8Array(view.buffer, view.byteOffset + body, end - body) };
    }
    offset = body + size + (size % 2);
  }
  return undefined;
}

function downmix(samples: Int16Array, channels: number): Int16Array {
  if (channels <= 1) return samples;
  const out = new Int16Array(Math.floor(samples.length / channels));
  for (let i = 0; i < out.length; i++) {
    let sum = 0;
    for (let c = 0; c < channels; c++) sum += samples[i * channels + c] ?? 0;
    out[i] = Math.round(sum / channels);
  }
  return out;
}

export function encodeWav(pcm: Pcm16): Buffer {
  const data = pcm16ToBytes(pcm.samples);
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'ascii');
  header.writeUInt32LE(36 + data.byteLength, 4);
  header.write('WAVE', 8, 'ascii');
  header.write('fmt ', 12, 'ascii');
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20);
  header.writeUInt16LE(1, 22);
  header.writeUInt32LE(pcm.sampleRate, 24);
  header.writeUInt32LE(pcm.sampleRate * 2, 28);
  header.writeUInt16LE(2, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36, 'ascii');
  header.writeUInt32LE(data.byteLength, 40);
  return Buffer.concat([header, data]);
}

/**
 * Decodes any audio file a client might upload (WAV in PCM/μ-law/A-law, or anything ffmpeg reads:
 * mp3, ogg, flac, webm) to mono PCM16. WAV PCM is parsed in-process to keep the common path cheap.
 */
export async function decodeAudio(file: Uint8Array): Promise<Pcm16> {
  const wav = parseWav(file);
  if (wav) {
    if (wav.format === 1 && wav.bitsPerSample === 16) {
      return { samples: downmix(int16FromBytes(wav.data), wav.channels), sampleRate: wav.sampleRate };
    }
    if (wav.format === 7 && wav.bitsPerSample === 8) {
      return { samples: downmix(alawmulaw.mulaw.decode(wav.data), wav.channels), sampleRate: wav.sampleRate };
    }
    if (wav.format === 6 && wav.bitsPerSample === 8) {
      return { samples: downmix(alawmulaw.alaw.decode(wav.data), wav.channels), sampleRate: wav.sampleRate };
    }
  }
  const sampleRate = 16000;
  const raw = await runFilter('ffmpeg', [
    '-hide_banner', '-loglevel', 'error', '-i', 'pipe:0', '-ac', '1', '-ar', String(sampleRate), '-f', 's16le', 'pipe:1',
  ], file);
  return { samples: int16FromBytes(raw), sampleRate };
}

/** Resamples with sox (band-limited, so 22.05 kHz speech folded to 8 kHz sounds like a phone, not aliasing). */
export async function resample(pcm: Pcm16, sampleRate: number): Promise<Pcm16> {
  if (pcm.sampleRate === sampleRate) return pcm;
  if (pcm.samples.length === 0) return { samples: new Int16Array(0), sampleRate };
  const raw = ['-t', 'raw', '-e', 'signed-integer', '-b', '16', '-c', '1', '-L'];
  const out = await runFilter('sox', [
    '-V1', ...raw, '-r', String(pcm.sampleRate), '-', ...raw, '-r', String(sampleRate), '-',
  ], pcm16ToBytes(pcm.samples));
  return { samples: int16FromBytes(out), sampleRate };
}

const speechCache = new Map<string, Promise<Pcm16>>();

/** Speaks `text` with espeak-ng (22.05 kHz mono PCM16). Renderings are cached: espeak-ng is deterministic. */
export function renderSpeech(text: string, options: RenderSpeechOptions = {}): Promise<Pcm16> {
  const voice = options.voice ?? DEFAULT_ESPEAK_VOICE;
  const wpm = options.wordsPerMinute ?? DEFAULT_WORDS_PER_MINUTE;
  const key = `${voice}\u0000${wpm}\u0000${text}`;
  let cached = speechCache.get(key);
  if (!cached) {
    // Text goes in on stdin so a leading '-' in a sentence is never parsed as an espeak-ng option.
    cached = runFilter('espeak-ng', ['--stdout', '-v', voice, '-s', String(wpm)], Buffer.from(text, 'utf8')).then((buf) => {
      const wav = parseWav(buf);
      if (!wav) throw new Error('espeak-ng produced no WAV');
      return { samples: int16FromBytes(wav.data), sampleRate: wav.sampleRate };
    });
    cached.catch(() => speechCache.delete(key));
    speechCache.set(key, cached);
  }
  return cached;
}

/** Speech rendered and resampled in one step. */
export async function renderSpeechAt(text: string, sampleRate: number, options: RenderSpeechOptions = {}): Promise<Pcm16> {
  return resample(await renderSpeech(text, options), sampleRate);
}

export function mulawEncode(samples: Int16Array): Uint8Array {
  return alawmulaw.mulaw.encode(samples);
}

export function mulawDecode(bytes: Uint8Array): Int16Array {
  return alawmulaw.mulaw.decode(bytes);
}

/** Root-mean-square level in dBFS, -Infinity for digital silence. */
export function rmsDbfs(samples: Int16Array): number {
  if (samples.length === 0) return -Infinity;
  let sum = 0;
  for (const s of samples) sum += s * s;
  return 10 * Math.log10(sum / samples.length / (32768 * 32768));
}

/**
 * Seconds of audio whose 20 ms frames are within 30 dB of the loudest frame and above -55 dBFS:
 * a crude voiced-duration measure for "contains speech of plausible length" assertions.
 */
export function voicedSeconds(pcm: Pcm16): number {
  const frame = Math.max(1, Math.round(pcm.sampleRate * 0.02));
  const levels: number[] = [];
  for (let i = 0; i + frame <= pcm.samples.length; i += frame) levels.push(rmsDbfs(pcm.samples.subarray(i, i + frame)));
  const peak = Math.max(...levels, -Infinity);
  const floor = Math.max(peak - 30, -55);
  return (levels.filter((l) => l > floor).length * frame) / pcm.sampleRate;
}
