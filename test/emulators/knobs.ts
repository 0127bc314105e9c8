import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** How the next request(s) to an endpoint should fail. */
export type Failure =
  | { readonly kind: 'status'; readonly status: number; readonly retryAfterSeconds?: number }
  /** Accept the request and never answer, so the client's own timeout fires. */
  | { readonly kind: 'timeout' }
  /** Answer 200 with a body the client cannot parse. */
  | { readonly kind: 'malformed' };

export interface Latency {
  /** Delay before the first byte/token of a response. */
  readonly firstByteMs: number;
  /** Pace after the first unit: per token (LLM), per audio chunk (TTS); 0 streams as fast as possible. */
  readonly perUnitMs: number;
}

export type PresetName = 'zero' | 'published';

/**
 * Published provider figures the benchmarks emulate: Groq Whisper ~150 ms, Groq LLM time to first
 * token ~150 ms then ~300 tokens/s, ElevenLabs Flash/Turbo time to first byte ~150 ms.
 */
export const PRESETS: Readonly<Record<PresetName, Readonly<Record<string, Latency>>>> = {
  zero: {},
  published: {
    chat: { firstByteMs: 150, perUnitMs: 1000 / 300 },
    transcription: { firstByteMs: 150, perUnitMs: 0 },
    tts: { firstByteMs: 150, perUnitMs: 0 },
  },
};

const NO_LATENCY: Latency = { firstByteMs: 0, perUnitMs: 0 };

/** Per-endpoint latency and failure injection, shared by every emulator. */
export interface Knobs {
  latency(endpoint: string): Latency;
  setLatency(endpoint: string, latency: Partial<Latency>): void;
  /** Makes the next `count` requests to `endpoint` fail as described. */
  failNext(endpoint: string, failure: Failure, count?: number): void;
  /** Removes and returns the failure queued for the next request to `endpoint`, if any. */
  takeFailure(endpoint: string): Failure | undefined;
  pendingFailures(endpoint: string): number;
  preset(name: PresetName): void;
  /** Back to zero latency and no queued failures. */
  reset(): void;
}

export function createKnobs(preset: PresetName = 'zero'): Knobs {
  const latencies = new Map<string, Latency>();
  const failures = new Map<string, Failure[]>();
  const knobs: Knobs = {
    latency: (endpoint) => latencies.get(endpoint) ?? NO_LATENCY,
    setLatency(endpoint, latency) {
      latencies.set(endpoint, { ...knobs.latency(endpoint), ...latency });
    },
    failNext(endpoint, failure, count = 1) {
      const queue = failures.get(endpoint) ?? [];
      for (let i = 0; i < count; i++) queue.push(failure);
      failures.set(endpoint, queue);
    },
    takeFailure: (endpoint) => failures.get(endpoint)?.shift(),
    pendingFailures: (endpoint) => failures.get(endpoint)?.length ?? 0,
    preset(name) {
      latencies.clear();
      for (const [endpoint, latency] of Object.entries(PRESETS[name])) latencies.set(endpoint, latency);
    },
    reset() {
      latencies.clear();
      failures.clear();
    },
  };
  knobs.preset(preset);
  return knobs;
}

/**
 * Parses knob settings from an environment-like map for standalone runs:
 * `EMULATOR_PRESET=published|zero`, `EMULATOR_LATENCY_<ENDPOINT>=firstByteMs[,perUnitMs]`,
 * `EMULATOR_FAIL_<ENDPOINT>=<429|500|...|timeout|malformed>[:count[:retryAfterSeconds]]`.
 */
export function applyKnobSettings(knobs: Knobs, env: Readonly<Record<string, string | undefined>>): void {
  const preset = env['EMULATOR_PRESET'];
  if (preset === 'zero' || preset === 'published') knobs.preset(preset);
  else if (preset !== undefined && preset !== '') throw new Error(`EMULATOR_PRESET must be zero or published, not ${preset}`);
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined) continue;
    const latency = /^EMULATOR_LATENCY_([A-Z_]+)$/.exec(key);
    if (latency?.[1]) {
      const [first, per] = value.split(',').map(Number);
      knobs.setLatency(latency[1].toLowerCase(), { firstByteMs: first ?? 0, ...(per === undefined ? {} : { perUnitMs: per }) });
    }
    const fail = /^EMULATOR_FAIL_([A-Z_]+)$/.exec(key);
    if (fail?.[1]) {
      const [mode = '', count = '1', retryAfter] = value.split(':');
      const failure: Failure = mode === 'timeout' || mode === 'malformed'
        ? { kind: mode }
        : { kind: 'status', status: Number(mode), ...(retryAfter === undefined ? {} : { retryAfterSeconds: Number(retryAfter) }) };
      knobs.failNext(fail[1].toLowerCase(), failure, Number(count));
    }
  }
}

/** One request as the emulator received it, for assertions. */
export interface RecordedRequest {
  readonly endpoint: string;
  readonly method: string;
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly headers: Readonly<Record<string, string>>;
  /** Parsed JSON body, multipart fields (files summarised), WebSocket messages, or raw text. */
  readonly body: unknown;
  readonly receivedAt: number;
  /** Status answered (101 for an accepted WebSocket, 0 while pending or for a held timeout). */
  status: number;
  /** Endpoint-specific outcome, e.g. the transcription match or the text synthesised. */
  outcome?: unknown;
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

export function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export function flatHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) out[k] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

export interface RunningServer {
  readonly server: Server;
  readonly port: number;
  readonly url: string;
  /** Aborted when the server stops, so held (timeout-knob) requests and streams end. */
  readonly closing: AbortSignal;
  stop(): Promise<void>;
}

/** Starts an HTTP server on loopback that can be stopped even while requests are held open. */
export async function listen(
  handler: (req: IncomingMessage, res: ServerResponse) => Promise<void>,
  options: { readonly port?: number; readonly host?: string } = {},
): Promise<RunningServer> {
  const sockets = new Set<Socket>();
  const closing = new AbortController();
  const server = createServer((req, res) => {
    handler(req, res).catch((error: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { error: { message: String(error), type: 'emulator_error' } });
      else res.destroy();
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    port,
    url: `http://${host}:${port}`,
    closing: closing.signal,
    async stop() {
      closing.abort();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}
