import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { type RawData, type WebSocket, WebSocketServer } from 'ws';
import { type Pcm16, mulawEncode, pcm16ToBytes, renderSpeech, resample, runFilter } from './audio.js';
import {
  type Knobs, type RecordedRequest, type RunningServer, createKnobs, flatHeaders, listen, readBody, sendJson, sleep,
} from './knobs.js';

/*
 * ElevenLabs text to speech as the LiveKit plugin and @elevenlabs/elevenlabs-js call it:
 * HTTP streaming (`/v1/text-to-speech/{voice_id}/stream`), the single-context `stream-input` and
 * multi-context `multi-stream-input` WebSockets, and `/v1/voices`. The audio is real espeak-ng speech
 * of exactly the text received, so what a caller hears depends on what the agent sent.
 */

export const ELEVENLABS_EMULATOR_API_KEY = 'sk_emulator_key';

export interface EmulatedVoice {
  readonly voiceId: string;
  readonly name: string;
  readonly gender: 'male' | 'female';
  readonly accent: string;
  /** espeak-ng voice that speaks for it. */
  readonly espeakVoice: string;
}

/** A few premade voices (real ElevenLabs ids, so configs written for the real service work here). */
export const EMULATED_VOICES: readonly EmulatedVoice[] = [
  { voiceId: 'bIHbv24MWmeRgasZH58o', name: 'Will', gender: 'male', accent: 'american', espeakVoice: 'en-us' },
  { voiceId: '21m00Tcm4TlvDq8ikWAM', name: 'Rachel', gender: 'female', accent: 'american', espeakVoice: 'en-us+f3' },
  { voiceId: 'JBFqnCBsd6RMkjVDRZzb', name: 'George', gender: 'male', accent: 'british', espeakVoice: 'en-gb' },
  { voiceId: 'EXAVITQu4vr4xnYQH9Pm', name: 'Sarah', gender: 'female', accent: 'american', espeakVoice: 'en-us+f2' },
  { voiceId: 'pNInz6obpgDQGcFmaJgB', name: 'Adam', gender: 'male', accent: 'american', espeakVoice: 'en-us+m3' },
];

/** espeak-ng voice used for a voice id; unknown ids speak with the first voice (see `strictVoices`). */
export function espeakVoiceFor(voiceId: string): string {
  return (EMULATED_VOICES.find((v) => v.voiceId === voiceId) ?? EMULATED_VOICES[0])?.espeakVoice ?? 'en-us';
}

export interface SynthesisRecord {
  readonly voiceId: string;
  readonly text: string;
  readonly outputFormat: string;
  readonly transport: 'http' | 'stream-input' | 'multi-stream-input';
  readonly contextId?: string;
  readonly audioSeconds: number;
}

export interface ElevenLabsEmulatorOptions {
  readonly port?: number;
  readonly host?: string;
  readonly apiKey?: string;
  readonly knobs?: Knobs;
  /** Answer 404 voice_not_found for ids not in EMULATED_VOICES (default: speak them with the first voice). */
  readonly strictVoices?: boolean;
  /** Bytes per HTTP chunk / WebSocket audio message (default: about 100 ms of audio). */
  readonly chunkMs?: number;
}

export interface ElevenLabsEmulator {
  /** Origin for @elevenlabs/elevenlabs-js `baseUrl` and ELEVENLABS_BASE_URL. */
  readonly url: string;
  /** `${url}/v1`, for the LiveKit plugin's `baseURL`. */
  readonly apiBaseUrl: string;
  readonly apiKey: string;
  readonly knobs: Knobs;
  readonly requests: RecordedRequest[];
  /** Every text synthesised, in order. */
  readonly synthesized: SynthesisRecord[];
  stop(): Promise<void>;
}

interface OutputFormat {
  readonly name: string;
  readonly codec: 'pcm' | 'ulaw' | 'mp3';
  readonly sampleRate: number;
  readonly contentType: string;
  /** Bytes per second of encoded audio (mp3: its bitrate). */
  readonly bytesPerSecond: number;
}

export function parseOutputFormat(name: string): OutputFormat | undefined {
  const pcm = /^pcm_(8000|16000|22050|24000|44100|48000)$/.exec(name);
  if (pcm?.[1]) return { name, codec: 'pcm', sampleRate: Number(pcm[1]), contentType: 'audio/pcm', bytesPerSecond: Number(pcm[1]) * 2 };
  if (name === 'ulaw_8000') return { name, codec: 'ulaw', sampleRate: 8000, contentType: 'audio/basic', bytesPerSecond: 8000 };
  const mp3 = /^mp3_(22050|44100)_(32|64|96|128|192)$/.exec(name);
  if (mp3?.[1] && mp3[2]) return { name, codec: 'mp3', sampleRate: Number(mp3[1]), contentType: 'audio/mpeg', bytesPerSecond: (Number(mp3[2]) * 1000) / 8 };
  return undefined;
}

async function encode(pcm: Pcm16, format: OutputFormat): Promise<Buffer> {
  const at = await resample(pcm, format.sampleRate);
  if (format.codec === 'pcm') return Buffer.from(pcm16ToBytes(at.samples));
  if (format.codec === 'ulaw') return Buffer.from(mulawEncode(at.samples));
  const bitrate = `${Math.round((format.bytesPerSecond * 8) / 1000)}k`;
  return runFilter('ffmpeg', [
    '-hide_banner', '-loglevel', 'error', '-f', 's16le', '-ar', String(at.sampleRate), '-ac', '1', '-i', 'pipe:0',
    '-c:a', 'libmp3lame', '-b:a', bitrate, '-f', 'mp3', 'pipe:1',
  ], pcm16ToBytes(at.samples));
}

function chunk(data: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < data.byteLength; i += size) out.push(data.subarray(i, i + size));
  return out;
}

interface Alignment {
  chars: string[];
  charStartTimesMs: number[];
  charDurationsMs: number[];
}

/** Spreads the audio's duration over the characters (spaces and punctuation count less), as alignment data. */
function alignmentFor(text: string, durationMs: number): Alignment {
  const chars = [...text];
  const weights = chars.map((c) => (/\s/.test(c) ? 0.5 : /[.,!?;:]/.test(c) ? 0.3 : 1));
  const total = weights.reduce((a, b) => a + b, 0) || 1;
  const starts: number[] = [];
  const durations: number[] = [];
  let t = 0;
  for (const w of weights) {
    const d = Math.round((durationMs * w) / total);
    starts.push(Math.round(t));
    durations.push(d);
    t += d;
  }
  return { chars, charStartTimesMs: starts, charDurationsMs: durations };
}

/** Alignment for the part of an utterance inside [fromMs, toMs), with times relative to `fromMs`. */
function sliceAlignment(a: Alignment, fromMs: number, toMs: number, last: boolean): Alignment {
  const out: Alignment = { chars: [], charStartTimesMs: [], charDurationsMs: [] };
  a.chars.forEach((c, i) => {
    const start = a.charStartTimesMs[i] ?? 0;
    if (start >= fromMs && (start < toMs || last)) {
      out.chars.push(c);
      out.charStartTimesMs.push(start - fromMs);
      out.charDurationsMs.push(a.charDurationsMs[i] ?? 0);
    }
  });
  return out;
}

function errorBody(status: number, message?: string): { detail: { status: string; message: string } } {
  switch (status) {
    case 401:
      return { detail: { status: 'invalid_api_key', message: message ?? 'Invalid API key' } };
    case 404:
      return { detail: { status: 'voice_not_found', message: message ?? 'A voice with the voice_id was not found.' } };
    case 422:
      return { detail: { status: 'invalid_request', message: message ?? 'Invalid request' } };
    case 429:
      return { detail: { status: 'too_many_concurrent_requests', message: 'Too many concurrent requests. Your current subscription allows 2 concurrent requests.' } };
    default:
      return { detail: { status: 'internal_server_error', message: 'An internal server error occurred.' } };
  }
}

export async function startElevenLabsEmulator(options: ElevenLabsEmulatorOptions = {}): Promise<ElevenLabsEmulator> {
  const apiKey = options.apiKey ?? ELEVENLABS_EMULATOR_API_KEY;
  const knobs = options.knobs ?? createKnobs();
  const chunkMs = options.chunkMs ?? 100;
  const requests: RecordedRequest[] = [];
  const synthesized: SynthesisRecord[] = [];
  const sockets = new Set<WebSocket>();
  let server: RunningServer | undefined;

  const knownVoice = (voiceId: string): boolean => !options.strictVoices || EMULATED_VOICES.some((v) => v.voiceId === voiceId);

  async function synthesize(text: string, voiceId: string, format: OutputFormat): Promise<{ audio: Buffer; durationMs: number }> {
    if (text.trim() === '') return { audio: Buffer.alloc(0), durationMs: 0 };
    const pcm = await renderSpeech(text, { voice: espeakVoiceFor(voiceId) });
    return { audio: await encode(pcm, format), durationMs: (pcm.samples.length / pcm.sampleRate) * 1000 };
  }

  async function httpTts(req: IncomingMessage, res: ServerResponse, record: RecordedRequest, voiceId: string, streaming: boolean): Promise<void> {
    const body = record.body as { text?: unknown; model_id?: unknown } | undefined;
    const formatName = record.query['output_format'] ?? 'mp3_44100_128';
    const format = parseOutputFormat(formatName);
    if (typeof body?.text !== 'string' || !format) {
      record.status = 422;
      sendJson(res, 422, { detail: [{ loc: ['body', 'text'], msg: format ? 'Field required' : `Invalid output format ${formatName}`, type: 'value_error' }] });
      return;
    }
    if (!knownVoice(voiceId)) {
      record.status = 404;
      sendJson(res, 404, errorBody(404, `A voice with the voice_id ${voiceId} was not found.`));
      return;
    }
    const failure = knobs.takeFailure('tts');
    if (failure?.kind === 'timeout') {
      await new Promise<void>((resolve) => {
        res.on('close', () => resolve());
        server?.closing.addEventListener('abort', () => resolve(), { once: true });
      });
      return;
    }
    if (failure?.kind === 'malformed') {
      record.status = 200;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"detail":{"status":"');
      return;
    }
    if (failure?.kind === 'status') {
      record.status = failure.status;
      sendJson(res, failure.status, errorBody(failure.status), failure.retryAfterSeconds === undefined ? {} : { 'retry-after': String(failure.retryAfterSeconds) });
      return;
    }
    const started = Date.now();
    const { audio, durationMs } = await synthesize(body.text, voiceId, format);
    synthesized.push({ voiceId, text: body.text, outputFormat: format.name, transport: 'http', audioSeconds: durationMs / 1000 });
    record.outcome = { text: body.text, audioBytes: audio.byteLength, audioSeconds: durationMs / 1000 };
    const latency = knobs.latency('tts');
    await sleep(latency.firstByteMs - (Date.now() - started), server?.closing);
    if (res.destroyed) return;
    record.status = 200;
    const headers: Record<string, string> = {
      'content-type': format.contentType,
      'request-id': randomBytes(10).toString('hex'),
      'history-item-id': randomBytes(10).toString('hex'),
      'character-cost': String(body.text.length),
    };
    if (!streaming) {
      res.writeHead(200, { ...headers, 'content-length': String(audio.byteLength) });
      res.end(audio);
      return;
    }
    // Chunked transfer, one chunk per ~chunkMs of audio, as the service streams while it generates.
    res.writeHead(200, headers);
    const size = Math.max(64, Math.round((format.bytesPerSecond * chunkMs) / 1000));
    for (const [i, piece] of chunk(audio, size).entries()) {
      if (i > 0) await sleep(latency.perUnitMs, server?.closing);
      if (res.destroyed) return;
      res.write(piece);
    }
    res.end();
  }

  function voicesPayload(): unknown {
    return EMULATED_VOICES.map((v) => ({
      voice_id: v.voiceId,
      name: v.name,
      category: 'premade',
      description: `${v.gender}, ${v.accent} (espeak-ng ${v.espeakVoice})`,
      labels: { accent: v.accent, gender: v.gender, age: 'middle_aged', use_case: 'conversational' },
      preview_url: null,
      available_for_tiers: [],
      settings: null,
      high_quality_base_model_ids: ['eleven_turbo_v2_5', 'eleven_flash_v2_5', 'eleven_multilingual_v2'],
      verified_languages: [{ language: 'en', model_id: 'eleven_turbo_v2_5', accent: v.accent }],
    }));
  }

  server = await listen(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://emulator');
    const raw = await readBody(req);
    let body: unknown = raw.byteLength === 0 ? undefined : raw.toString('utf8');
    if ((req.headers['content-type'] ?? '').includes('json') && raw.byteLength > 0) {
      try {
        body = JSON.parse(raw.toString('utf8'));
      } catch {
        res.writeHead(400).end();
        return;
      }
    }
    const path = url.pathname.replace(/\/+$/, '');
    const tts = /^\/v1\/text-to-speech\/([^/]+)(\/stream)?$/.exec(path);
    const endpoint = tts ? 'tts' : /^\/v[12]\/voices/.test(path) ? 'voices' : 'unknown';
    const record: RecordedRequest = {
      endpoint, method: req.method ?? 'GET', path, query: Object.fromEntries(url.searchParams), headers: flatHeaders(req), body, receivedAt: Date.now(), status: 0,
    };
    requests.push(record);
    if (req.headers['xi-api-key'] !== apiKey) {
      record.status = 401;
      sendJson(res, 401, req.headers['xi-api-key'] === undefined
        ? { detail: { status: 'needs_authorization', message: 'Neither authorization header nor xi-api-key received, please provide one.' } }
        : errorBody(401));
      return;
    }
    if (tts?.[1] && req.method === 'POST') return httpTts(req, res, record, decodeURIComponent(tts[1]), tts[2] !== undefined);
    if (endpoint === 'voices' && req.method === 'GET') {
      const failure = knobs.takeFailure('voices');
      if (failure?.kind === 'status') {
        record.status = failure.status;
        sendJson(res, failure.status, errorBody(failure.status));
        return;
      }
      const voices = voicesPayload() as Array<{ voice_id: string }>;
      const one = /^\/v1\/voices\/([^/]+)$/.exec(path)?.[1];
      record.status = 200;
      if (one !== undefined) {
        const found = voices.find((v) => v.voice_id === one);
        if (found) sendJson(res, 200, found);
        else {
          record.status = 404;
          sendJson(res, 404, errorBody(404, `A voice with the voice_id ${one} was not found.`));
        }
        return;
      }
      if (path.startsWith('/v2/')) sendJson(res, 200, { voices, has_more: false, total_count: voices.length, next_page_token: null });
      else sendJson(res, 200, { voices });
      return;
    }
    record.status = 404;
    sendJson(res, 404, { detail: 'Not Found' });
  }, { ...(options.port === undefined ? {} : { port: options.port }), ...(options.host === undefined ? {} : { host: options.host }) });

  const running = server;
  const wss = new WebSocketServer({ noServer: true });
  running.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://emulator');
    const match = /^\/v1\/text-to-speech\/([^/]+)\/(stream-input|multi-stream-input)$/.exec(url.pathname);
    const record: RecordedRequest = {
      endpoint: 'tts', method: 'GET', path: url.pathname, query: Object.fromEntries(url.searchParams), headers: flatHeaders(req), body: [], receivedAt: Date.now(), status: 0,
    };
    requests.push(record);
    const refuse = (status: number, payload: unknown): void => {
      record.status = status;
      const text = JSON.stringify(payload);
      socket.end(`HTTP/1.1 ${status} ${status === 401 ? 'Unauthorized' : status === 429 ? 'Too Many Requests' : status === 404 ? 'Not Found' : 'Error'}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(text)}\r\nconnection: close\r\n\r\n${text}`);
    };
    if (!match?.[1] || !match[2]) return refuse(404, { detail: 'Not Found' });
    const multi = match[2] === 'multi-stream-input';
    const headerKey = req.headers['xi-api-key'];
    // stream-input may carry the key in its first message instead; multi-stream-input needs the header.
    if (headerKey !== undefined && headerKey !== apiKey) return refuse(401, errorBody(401));
    if (headerKey === undefined && multi) return refuse(401, errorBody(401));
    const format = parseOutputFormat(url.searchParams.get('output_format') ?? 'mp3_44100_128');
    if (!format) return refuse(422, errorBody(422, 'Invalid output format'));
    const voiceId = decodeURIComponent(match[1]);
    if (!knownVoice(voiceId)) return refuse(404, errorBody(404, `A voice with the voice_id ${voiceId} was not found.`));
    const failure = knobs.takeFailure('tts');
    if (failure?.kind === 'status') return refuse(failure.status, errorBody(failure.status));
    if (failure?.kind === 'timeout') {
      // The handshake is never answered; the socket is destroyed when the emulator stops.
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      record.status = 101;
      sockets.add(ws);
      ws.on('close', () => sockets.delete(ws));
      serveSocket(ws, { multi, voiceId, format, record, authenticated: headerKey !== undefined, malformed: failure?.kind === 'malformed', autoMode: url.searchParams.get('auto_mode') === 'true', inactivitySeconds: Number(url.searchParams.get('inactivity_timeout') ?? '20') });
    });
  });

  interface Context {
    text: string;
    chain: Promise<void>;
    closed: boolean;
    generations: number;
    /** Failed or stalled by a knob: further input for it is ignored. */
    dead: boolean;
  }

  function serveSocket(ws: WebSocket, s: {
    multi: boolean; voiceId: string; format: OutputFormat; record: RecordedRequest; authenticated: boolean; malformed: boolean; autoMode: boolean; inactivitySeconds: number;
  }): void {
    const contexts = new Map<string, Context>();
    const received = s.record.body as unknown[];
    const spoken: Array<{ contextId: string; text: string }> = [];
    s.record.outcome = spoken;
    let authenticated = s.authenticated;
    let chunkSchedule = 120;
    let inactivity: NodeJS.Timeout | undefined;
    const latency = (): ReturnType<Knobs['latency']> => knobs.latency('tts');
    const resetInactivity = (): void => {
      clearTimeout(inactivity);
      inactivity = setTimeout(() => ws.close(1008, 'Have not received new text for the inactivity timeout'), s.inactivitySeconds * 1000);
    };
    resetInactivity();
    ws.on('close', () => clearTimeout(inactivity));

    const send = (payload: unknown): void => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(payload));
    };

    const generate = (contextId: string, ctx: Context): void => {
      const text = ctx.text;
      ctx.text = '';
      if (text.trim() === '') return;
      const triggered = Date.now();
      spoken.push({ contextId, text });
      const rendering = synthesize(text, s.voiceId, s.format);
      ctx.chain = ctx.chain.then(async () => {
        const { audio, durationMs } = await rendering;
        synthesized.push({ voiceId: s.voiceId, text, outputFormat: s.format.name, transport: s.multi ? 'multi-stream-input' : 'stream-input', contextId, audioSeconds: durationMs / 1000 });
        if (s.malformed) {
          if (ws.readyState === ws.OPEN) ws.send('{"audio": "AAAA');
          ws.close(1011, 'internal error');
          return;
        }
        // Time to first byte counts from when the text was complete enough to speak.
        await sleep(latency().firstByteMs - (Date.now() - triggered), running.closing);
        const size = Math.max(64, Math.round((s.format.bytesPerSecond * chunkMs) / 1000));
        const pieces = chunk(audio, size);
        const alignment = alignmentFor(text, durationMs);
        for (const [i, piece] of pieces.entries()) {
          if (i > 0) await sleep(latency().perUnitMs, running.closing);
          const fromMs = (i * size * 1000) / s.format.bytesPerSecond;
          const toMs = ((i + 1) * size * 1000) / s.format.bytesPerSecond;
          const part = sliceAlignment(alignment, fromMs, toMs, i === pieces.length - 1);
          const aligned = part.chars.length > 0 ? { normalizedAlignment: part, alignment: part } : { normalizedAlignment: null, alignment: null };
          send({ audio: piece.toString('base64'), ...(s.multi ? {} : { isFinal: null }), ...aligned, ...(s.multi ? { contextId } : {}) });
        }
        ctx.generations++;
      });
    };

    const finish = (contextId: string, ctx: Context): void => {
      if (ctx.closed) return;
      ctx.closed = true;
      generate(contextId, ctx);
      ctx.chain = ctx.chain.then(() => {
        send(s.multi ? { isFinal: true, contextId } : { isFinal: true });
        contexts.delete(contextId);
        if (!s.multi) ws.close(1000);
      });
    };

    let contextsSeen = 0;
    const contextFor = (contextId: string): Context => {
      let ctx = contexts.get(contextId);
      if (!ctx) {
        ctx = { text: '', chain: Promise.resolve(), closed: false, generations: 0, dead: false };
        contexts.set(contextId, ctx);
        // The connection's first context had its failure check at the handshake; later ones (the
        // plugin keeps one socket for a whole call) are checked here, so knobs work mid-call.
        const failure = contextsSeen++ > 0 ? knobs.takeFailure('tts') : undefined;
        if (failure?.kind === 'status') {
          ctx.dead = true;
          send({ message: errorBody(failure.status).detail.message, error: errorBody(failure.status).detail.status, code: failure.status, ...(s.multi ? { contextId } : {}) });
        } else if (failure?.kind === 'timeout') {
          ctx.dead = true;
        } else if (failure?.kind === 'malformed') {
          if (ws.readyState === ws.OPEN) ws.send('{"audio": "AAAA');
          ws.close(1011, 'internal error');
          ctx.dead = true;
        }
      }
      return ctx;
    };

    ws.on('message', (data: RawData) => {
      resetInactivity();
      let msg: Record<string, unknown>;
      try {
        msg = JSON.parse(data.toString()) as Record<string, unknown>;
      } catch {
        send({ message: 'Invalid message received', error: 'invalid_message', code: 1008 });
        ws.close(1008, 'Invalid message');
        return;
      }
      received.push(msg);
      if (!authenticated) {
        if (msg['xi_api_key'] !== apiKey) {
          send({ message: 'Invalid API key', error: 'invalid_api_key', code: 1008 });
          ws.close(1008, 'Invalid API key');
          return;
        }
        authenticated = true;
      }
      const schedule = (msg['generation_config'] as { chunk_length_schedule?: unknown } | undefined)?.chunk_length_schedule;
      if (Array.isArray(schedule) && typeof schedule[0] === 'number') chunkSchedule = schedule[0];
      if (msg['close_socket'] === true) {
        for (const [id, ctx] of contexts) if (!ctx.dead) finish(id, ctx);
        void Promise.all([...contexts.values()].map((c) => c.chain)).then(() => ws.close(1000));
        return;
      }
      const contextId = s.multi ? (typeof msg['context_id'] === 'string' ? msg['context_id'] : 'default') : 'default';
      if (msg['close_context'] === true) {
        const ctx = contexts.get(contextId);
        if (ctx && !ctx.dead) finish(contextId, ctx);
        return;
      }
      const text = typeof msg['text'] === 'string' ? msg['text'] : undefined;
      if (text === undefined) return;
      const ctx = contextFor(contextId);
      if (ctx.dead) return;
      // In stream-input an empty text ends the input; in multi-stream-input contexts end with close_context.
      if (text === '' && !s.multi) {
        finish(contextId, ctx);
        return;
      }
      if (text !== ' ' || ctx.text !== '') ctx.text += text;
      const sentenceDone = /[.!?]["')\]]?\s*$/.test(ctx.text);
      if (msg['flush'] === true || msg['try_trigger_generation'] === true || ctx.text.length >= chunkSchedule || (s.autoMode && sentenceDone)) {
        generate(contextId, ctx);
      }
    });
  }

  return {
    url: running.url,
    apiBaseUrl: `${running.url}/v1`,
    apiKey,
    knobs,
    requests,
    synthesized,
    async stop() {
      for (const ws of sockets) ws.terminate();
      wss.close();
      await running.stop();
    },
  };
}
