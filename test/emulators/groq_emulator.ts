import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { decodeAudio } from './audio.js';
import {
  type Knobs, type RecordedRequest, type RunningServer, createKnobs, flatHeaders, listen, readBody, sendJson, sleep,
} from './knobs.js';
import { type ChatRequest, type PersonaScript, type ReplyRule, createPersonaScript, exampleForSchema, messageText } from './persona_script.js';
import { type MatchResult, type UtteranceMatcher, createUtteranceMatcher } from './utterance_matcher.js';

/*
 * Groq's OpenAI-compatible API under /openai/v1, as groq-sdk (bare origin) and the LiveKit OpenAI
 * plugin's Groq mode (base URL ending in /openai/v1) call it. Response shapes follow Groq's wire
 * format: SSE chunks with `x_groq`, whole tool calls in one delta, a usage-only chunk before
 * `data: [DONE]` when stream_options.include_usage is set, and Groq's error bodies.
 */

export const GROQ_EMULATOR_API_KEY = 'gsk_emulator_key';

export const GROQ_MODELS = [
  'llama-3.3-70b-versatile',
  'llama-3.1-8b-instant',
  'openai/gpt-oss-120b',
  'openai/gpt-oss-20b',
  'meta-llama/llama-4-scout-17b-16e-instruct',
  'whisper-large-v3',
  'whisper-large-v3-turbo',
] as const;

export interface GroqEmulatorOptions {
  readonly port?: number;
  readonly host?: string;
  /** Accepted bearer token (default GROQ_EMULATOR_API_KEY). */
  readonly apiKey?: string;
  readonly knobs?: Knobs;
  readonly script?: readonly ReplyRule[];
  /** Sentences the transcription endpoint can recognise. */
  readonly utterances?: readonly string[];
  readonly matcher?: UtteranceMatcher;
}

export interface GroqEmulator {
  /** Origin for groq-sdk / GROQ_BASE_URL, e.g. http://127.0.0.1:41234. */
  readonly url: string;
  /** `${url}/openai/v1`, for OpenAI-style clients such as the LiveKit plugin's withGroq(). */
  readonly openaiBaseUrl: string;
  readonly apiKey: string;
  readonly knobs: Knobs;
  readonly script: PersonaScript;
  readonly utterances: UtteranceMatcher;
  readonly requests: RecordedRequest[];
  stop(): Promise<void>;
}

/** Groq's bodies for the errors the knobs inject, as its API returns them. */
function errorBody(status: number, model: string): { error: { message: string; type: string; code?: string } } {
  if (status === 401) return { error: { message: 'Invalid API Key', type: 'invalid_request_error', code: 'invalid_api_key' } };
  if (status === 429) {
    return {
      error: {
        message: `Rate limit reached for model \`${model}\` in organization \`org_emulator\` service tier \`on_demand\` on requests per minute (RPM): Limit 30, Used 30, Requested 1. Please try again in 2s. Need more tokens? Upgrade to Dev Tier today at https://console.groq.com/settings/billing`,
        type: 'requests',
        code: 'rate_limit_exceeded',
      },
    };
  }
  if (status === 503) return { error: { message: 'Service Unavailable', type: 'internal_server_error' } };
  return { error: { message: 'Internal Server Error', type: 'internal_server_error' } };
}

function id(prefix: string): string {
  return `${prefix}${randomBytes(12).toString('base64url')}`;
}

/** Splits text into streamed tokens the way a BPE model roughly does: words with their leading space. */
export function tokenise(text: string): string[] {
  return text.match(/\s*[^\s]+/g) ?? (text === '' ? [] : [text]);
}

function roughTokenCount(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

export async function startGroqEmulator(options: GroqEmulatorOptions = {}): Promise<GroqEmulator> {
  const apiKey = options.apiKey ?? GROQ_EMULATOR_API_KEY;
  const knobs = options.knobs ?? createKnobs();
  const script = createPersonaScript(options.script ?? []);
  // Clauses too: the agent's VAD sends Whisper each stretch of speech before a pause on its own.
  const utterances = options.matcher ?? createUtteranceMatcher({ clauses: true });
  if (options.utterances) utterances.register(options.utterances);
  const requests: RecordedRequest[] = [];
  let server: RunningServer | undefined;

  /** Applies the endpoint's injected failure; true when the request was answered (or held) here. */
  async function injectFailure(endpoint: string, res: ServerResponse, record: RecordedRequest, model: string, malformed: () => void): Promise<boolean> {
    const failure = knobs.takeFailure(endpoint);
    if (!failure) return false;
    if (failure.kind === 'timeout') {
      // Held until the client gives up or the emulator stops.
      await new Promise<void>((resolve) => {
        res.on('close', () => resolve());
        server?.closing.addEventListener('abort', () => resolve(), { once: true });
      });
      return true;
    }
    if (failure.kind === 'malformed') {
      record.status = 200;
      malformed();
      return true;
    }
    record.status = failure.status;
    const headers: Record<string, string> = { 'x-request-id': id('req_') };
    if (failure.retryAfterSeconds !== undefined) headers['retry-after'] = String(failure.retryAfterSeconds);
    sendJson(res, failure.status, errorBody(failure.status, model), headers);
    return true;
  }

  async function chat(req: IncomingMessage, res: ServerResponse, record: RecordedRequest & { body: unknown }): Promise<void> {
    const body = record.body as Partial<ChatRequest> & { stream?: boolean; stream_options?: { include_usage?: boolean } };
    const model = typeof body.model === 'string' ? body.model : '';
    if (!Array.isArray(body.messages) || model === '') {
      record.status = 400;
      sendJson(res, 400, { error: { message: "'messages' and 'model' are required", type: 'invalid_request_error' } });
      return;
    }
    if (!(GROQ_MODELS as readonly string[]).includes(model)) {
      record.status = 404;
      sendJson(res, 404, { error: { message: `The model \`${model}\` does not exist or you do not have access to it.`, type: 'invalid_request_error', code: 'model_not_found' } });
      return;
    }
    const stream = body.stream === true;
    const answered = await injectFailure('chat', res, record, model, () => {
      if (stream) {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.end('data: {"id":"chatcmpl-broken","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"Hel\n\n');
      } else {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"id":"chatcmpl-broken","object":"chat.completion","choices":[{"index":0,"message":{"role":"assist');
      }
    });
    if (answered) return;

    const request = body as ChatRequest;
    const reply = script.replyTo(request);
    const format = request.response_format;
    let content = reply.content;
    if ((format?.type === 'json_schema' || format?.type === 'json_object') && reply.source === 'default') {
      content = JSON.stringify(format.type === 'json_schema' ? exampleForSchema(format.json_schema?.schema) : { reply: reply.content });
    }
    record.outcome = { reply: content, toolCalls: reply.toolCalls, rule: reply.source };
    const toolCalls = reply.toolCalls.map((call, index) => ({
      index,
      id: `call_${randomBytes(6).toString('hex')}`,
      type: 'function' as const,
      function: { name: call.name, arguments: typeof call.arguments === 'string' ? call.arguments : JSON.stringify(call.arguments ?? {}) },
    }));
    const finishReason = toolCalls.length > 0 ? 'tool_calls' : 'stop';
    const promptTokens = roughTokenCount(request.messages.map((m) => messageText(m.content)).join(' '));
    const tokens = tokenise(content);
    const completionTokens = tokens.length + toolCalls.reduce((n, c) => n + roughTokenCount(c.function.arguments) + 2, 0);
    const latency = knobs.latency('chat');
    const usage = {
      queue_time: 0.01,
      prompt_tokens: promptTokens,
      prompt_time: 0.002,
      completion_tokens: completionTokens,
      completion_time: (latency.perUnitMs * completionTokens) / 1000,
      total_tokens: promptTokens + completionTokens,
      total_time: (latency.firstByteMs + latency.perUnitMs * completionTokens) / 1000,
    };
    const completionId = id('chatcmpl-');
    const requestId = id('req_');
    const created = Math.floor(Date.now() / 1000);
    const base = { id: completionId, created, model, system_fingerprint: 'fp_emulator' };
    const signal = server?.closing;

    await sleep(latency.firstByteMs, signal);
    if (res.destroyed) return;
    record.status = 200;
    if (!stream) {
      sendJson(res, 200, {
        ...base,
        object: 'chat.completion',
        choices: [{
          index: 0,
          message: { role: 'assistant', content: toolCalls.length > 0 && content === '' ? null : content, ...(toolCalls.length > 0 ? { tool_calls: toolCalls.map(({ index: _i, ...c }) => c) } : {}) },
          logprobs: null,
          finish_reason: finishReason,
        }],
        usage,
        usage_breakdown: null,
        x_groq: { id: requestId },
      }, { 'x-request-id': requestId });
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'x-request-id': requestId });
    const send = (chunk: unknown): void => {
      res.write(`data: ${JSON.stringify(chunk)}\n\n`);
    };
    const choice = (delta: unknown, finish: string | null): unknown => ({ index: 0, delta, logprobs: null, finish_reason: finish });
    send({ ...base, object: 'chat.completion.chunk', choices: [choice({ role: 'assistant', content: '' }, null)], x_groq: { id: requestId } });
    for (const [i, token] of tokens.entries()) {
      if (i > 0) await sleep(latency.perUnitMs, signal);
      if (res.destroyed) return;
      send({ ...base, object: 'chat.completion.chunk', choices: [choice({ content: token }, null)] });
    }
    for (const call of toolCalls) {
      send({ ...base, object: 'chat.completion.chunk', choices: [choice({ tool_calls: [call] }, null)] });
    }
    send({ ...base, object: 'chat.completion.chunk', choices: [choice({}, finishReason)], x_groq: { id: requestId, usage } });
    if (body.stream_options?.include_usage === true) {
      send({ ...base, object: 'chat.completion.chunk', choices: [], usage, x_groq: { id: requestId, usage } });
    }
    res.end('data: [DONE]\n\n');
  }

  async function transcription(req: IncomingMessage, res: ServerResponse, record: RecordedRequest, raw: Buffer): Promise<void> {
    let form: FormData;
    try {
      form = await new Request('http://emulator/', { method: 'POST', headers: { 'content-type': req.headers['content-type'] ?? '' }, body: raw }).formData();
    } catch {
      record.status = 400;
      sendJson(res, 400, { error: { message: 'request Content-Type isn\'t multipart/form-data', type: 'invalid_request_error' } });
      return;
    }
    const fields: Record<string, unknown> = {};
    let file: File | undefined;
    for (const [key, value] of form.entries()) {
      if (typeof value === 'string') fields[key] = value;
      else {
        file = value;
        fields[key] = { filename: value.name, type: value.type, bytes: value.size };
      }
    }
    (record as { body: unknown }).body = fields;
    const model = typeof fields['model'] === 'string' ? fields['model'] : '';
    if (!file) {
      record.status = 400;
      sendJson(res, 400, { error: { message: 'either file or url must be provided', type: 'invalid_request_error' } });
      return;
    }
    if (!model.startsWith('whisper') || !(GROQ_MODELS as readonly string[]).includes(model)) {
      record.status = 404;
      sendJson(res, 404, { error: { message: `The model \`${model}\` does not exist or you do not have access to it.`, type: 'invalid_request_error', code: 'model_not_found' } });
      return;
    }
    const answered = await injectFailure('transcription', res, record, model, () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"text": " Hel');
    });
    if (answered) return;
    const started = Date.now();
    const audio = await decodeAudio(new Uint8Array(await file.arrayBuffer()));
    const match: MatchResult = await utterances.match(audio);
    const duration = audio.samples.length / audio.sampleRate;
    record.outcome = { text: match.text, distance: match.distance, nearest: match.nearest, audioSeconds: duration };
    // Fixed latency counts from arrival, so matching time is inside the emulated figure, not added to it.
    await sleep(knobs.latency('transcription').firstByteMs - (Date.now() - started), server?.closing);
    if (res.destroyed) return;
    // Whisper puts a space before the first word.
    const text = match.text === '' ? '' : ` ${match.text}`;
    const requestId = id('req_');
    const format = typeof fields['response_format'] === 'string' ? fields['response_format'] : 'json';
    record.status = 200;
    if (format === 'text') {
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'x-request-id': requestId });
      res.end(text);
      return;
    }
    if (format === 'verbose_json') {
      const words = text.trim() === '' ? [] : text.trim().split(/\s+/);
      const start = 0;
      const end = Math.round(duration * 100) / 100;
      const granularities = form.getAll('timestamp_granularities[]').map(String);
      sendJson(res, 200, {
        task: 'transcribe',
        language: 'English',
        duration: end,
        text,
        segments: text === '' ? [] : [{
          id: 0, seek: 0, start, end, text, tokens: words.map((_, i) => 50365 + i), temperature: 0,
          avg_logprob: -0.2, compression_ratio: 1, no_speech_prob: 0.01,
        }],
        ...(granularities.includes('word')
          ? { words: words.map((word, i) => ({ word, start: (end * i) / words.length, end: (end * (i + 1)) / words.length })) }
          : {}),
        x_groq: { id: requestId },
      }, { 'x-request-id': requestId });
      return;
    }
    sendJson(res, 200, { text, x_groq: { id: requestId } }, { 'x-request-id': requestId });
  }

  server = await listen(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://emulator');
    const raw = await readBody(req);
    const contentType = req.headers['content-type'] ?? '';
    let body: unknown = raw.byteLength === 0 ? undefined : raw.toString('utf8');
    if (contentType.includes('application/json') && raw.byteLength > 0) {
      try {
        body = JSON.parse(raw.toString('utf8'));
      } catch {
        body = raw.toString('utf8');
      }
    }
    const path = url.pathname.replace(/\/+$/, '');
    const endpoint = path === '/openai/v1/chat/completions' ? 'chat'
      : path === '/openai/v1/audio/transcriptions' ? 'transcription'
        : path.startsWith('/openai/v1/models') ? 'models' : 'unknown';
    const record: RecordedRequest = {
      endpoint, method: req.method ?? 'GET', path, query: Object.fromEntries(url.searchParams), headers: flatHeaders(req),
      body: contentType.startsWith('multipart/') ? undefined : body, receivedAt: Date.now(), status: 0,
    };
    requests.push(record);

    if (req.headers.authorization !== `Bearer ${apiKey}`) {
      record.status = 401;
      sendJson(res, 401, errorBody(401, ''));
      return;
    }
    if (endpoint === 'chat' && req.method === 'POST') return chat(req, res, record);
    if (endpoint === 'transcription' && req.method === 'POST') return transcription(req, res, record, raw);
    if (endpoint === 'models' && req.method === 'GET') {
      if (await injectFailure('models', res, record, '', () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"object":"list","data":[');
      })) return;
      const models = GROQ_MODELS.map((m) => ({
        id: m, object: 'model', created: 1733447754, owned_by: m.startsWith('openai/') ? 'OpenAI' : m.startsWith('whisper') ? 'OpenAI' : 'Meta',
        active: true, context_window: m.startsWith('whisper') ? 448 : 131072, public_apps: null,
        max_completion_tokens: m.startsWith('whisper') ? 448 : 32768,
      }));
      const one = /^\/openai\/v1\/models\/(.+)$/.exec(path)?.[1];
      record.status = 200;
      if (one !== undefined) {
        const found = models.find((m) => m.id === decodeURIComponent(one));
        if (found) sendJson(res, 200, found);
        else {
          record.status = 404;
          sendJson(res, 404, { error: { message: `The model \`${decodeURIComponent(one)}\` does not exist or you do not have access to it.`, type: 'invalid_request_error', code: 'model_not_found' } });
        }
        return;
      }
      sendJson(res, 200, { object: 'list', data: models });
      return;
    }
    record.status = 404;
    sendJson(res, 404, { error: { message: 'Unknown request URL: ' + `${req.method ?? 'GET'} ${path}. Please check the URL for typos, or see the docs at https://console.groq.com/docs/`, type: 'invalid_request_error', code: 'unknown_url' } });
  }, { ...(options.port === undefined ? {} : { port: options.port }), ...(options.host === undefined ? {} : { host: options.host }) });

  const running = server;
  return {
    url: running.url,
    openaiBaseUrl: `${running.url}/openai/v1`,
    apiKey,
    knobs,
    script,
    utterances,
    requests,
    stop: () => running.stop(),
  };
}
