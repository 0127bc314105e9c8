import { initializeLogger, llm } from '@livekit/agents';
import * as openai from '@livekit/agents-plugin-openai';
import { AudioFrame } from '@livekit/rtc-node';
import Groq, { toFile } from 'groq-sdk';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { encodeWav, mulawDecode, mulawEncode, renderSpeechAt } from './audio.js';
import { type GroqEmulator, startGroqEmulator } from './groq_emulator.js';

const MODEL = 'llama-3.3-70b-versatile';
const SENTENCES = [
  'Hello, this is Dana from Northwind Logistics.',
  'What would it cost us to switch?',
  'Could we schedule a demo next Tuesday?',
];
const SYSTEM = 'You are Dana Whitfield, head of procurement at Northwind Logistics. Be skeptical.';

/** An espeak-ng sentence as it arrives over the phone: 8 kHz, through a μ-law round trip, in a WAV. */
async function phoneWav(text: string): Promise<Buffer> {
  const pcm = await renderSpeechAt(text, 8000);
  return encodeWav({ samples: mulawDecode(mulawEncode(pcm.samples)), sampleRate: 8000 });
}

let groq: GroqEmulator;
let client: Groq;

beforeAll(async () => {
  initializeLogger({ pretty: false, level: 'warn' });
  groq = await startGroqEmulator({ utterances: SENTENCES });
});
afterAll(async () => {
  await groq.stop();
});
beforeEach(() => {
  groq.knobs.reset();
  groq.script.reset();
  groq.requests.length = 0;
  // groq-sdk reads the bare origin, exactly as GROQ_BASE_URL would give it.
  client = new Groq({ baseURL: groq.url, apiKey: groq.apiKey, maxRetries: 0 });
});

describe('Groq emulator with groq-sdk', () => {
  it('lists models', async () => {
    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toContain(MODEL);
  });

  it('streams a scripted reply with an end_call tool call and usage in x_groq', async () => {
    groq.script.add({ when: /goodbye/i, reply: 'Alright, talk soon.', toolCalls: [{ name: 'end_call', arguments: { reason: 'caller said goodbye' } }] });
    const stream = await client.chat.completions.create({
      model: MODEL,
      stream: true,
      messages: [{ role: 'system', content: SYSTEM }, { role: 'user', content: 'Thanks, goodbye!' }],
      tools: [{ type: 'function', function: { name: 'end_call', description: 'Hang up', parameters: { type: 'object', properties: { reason: { type: 'string' } } } } }],
    });
    let content = '';
    const calls: Array<{ name?: string | undefined; arguments?: string | undefined }> = [];
    let finish: string | null | undefined;
    let usage: { total_tokens: number } | undefined;
    let roleSeen = false;
    for await (const chunk of stream) {
      const choice = chunk.choices[0];
      if (choice?.delta.role === 'assistant') roleSeen = true;
      content += choice?.delta.content ?? '';
      for (const call of choice?.delta.tool_calls ?? []) calls.push({ name: call.function?.name, arguments: call.function?.arguments });
      if (choice?.finish_reason) finish = choice.finish_reason;
      // groq-sdk types usage where Groq sends it on the final chunk; the OpenAI-style usage-only chunk
      // (stream_options.include_usage) is checked through the LiveKit plugin below.
      if (chunk.x_groq?.usage) usage = chunk.x_groq.usage;
    }
    expect(roleSeen).toBe(true);
    expect(content).toBe('Alright, talk soon.');
    expect(calls).toEqual([{ name: 'end_call', arguments: JSON.stringify({ reason: 'caller said goodbye' }) }]);
    expect(finish).toBe('tool_calls');
    expect(usage?.total_tokens).toBeGreaterThan(0);
    expect(groq.requests.at(-1)?.body).toMatchObject({ model: MODEL, stream: true });
  });

  it('answers in character by default, using the persona name from the system prompt', async () => {
    const greeting = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'system', content: SYSTEM }] });
    expect(greeting.choices[0]?.message.content).toContain('Dana');
    const reply = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'system', content: SYSTEM }, { role: 'user', content: 'We sell freight software.' }] });
    expect(reply.choices[0]?.message.content?.length).toBeGreaterThan(0);
  });

  it('returns JSON matching a json_schema response_format, generic or scripted', async () => {
    const schema = {
      type: 'object',
      properties: { score: { type: 'integer', minimum: 0, maximum: 100 }, strengths: { type: 'array', items: { type: 'string' } }, verdict: { type: 'string', enum: ['pass', 'fail'] } },
      required: ['score', 'strengths', 'verdict'],
      additionalProperties: false,
    };
    const ask = (): Promise<Groq.Chat.ChatCompletion> => client.chat.completions.create({
      model: MODEL,
      messages: [{ role: 'system', content: 'Score this call.' }, { role: 'user', content: 'transcript...' }],
      response_format: { type: 'json_schema', json_schema: { name: 'scorecard', schema, strict: true } },
    });
    const generic = JSON.parse((await ask()).choices[0]?.message.content ?? '') as unknown;
    expect(z.object({ score: z.number().int().min(0).max(100), strengths: z.array(z.string()), verdict: z.enum(['pass', 'fail']) }).strict().parse(generic)).toBeTruthy();
    groq.script.add({ when: 'transcript', json: { score: 72, strengths: ['rapport'], verdict: 'pass' } });
    expect(JSON.parse((await ask()).choices[0]?.message.content ?? '')).toEqual({ score: 72, strengths: ['rapport'], verdict: 'pass' });
  });

  it('transcribes an espeak-ng sentence sent at 8 kHz, in json, verbose_json and text formats', async () => {
    const file = await toFile(await phoneWav(SENTENCES[1] ?? ''), 'audio.wav', { type: 'audio/wav' });
    const json = await client.audio.transcriptions.create({ file, model: 'whisper-large-v3-turbo', language: 'en' });
    expect(json.text.trim()).toBe(SENTENCES[1]);
    const verbose = await client.audio.transcriptions.create({ file: await toFile(await phoneWav(SENTENCES[2] ?? ''), 'a.wav'), model: 'whisper-large-v3', response_format: 'verbose_json' });
    expect(verbose.text.trim()).toBe(SENTENCES[2]);
    expect((verbose as unknown as { duration: number }).duration).toBeGreaterThan(1);
    const text = await client.audio.transcriptions.create({ file: await toFile(await phoneWav(SENTENCES[0] ?? ''), 'a.wav'), model: 'whisper-large-v3', response_format: 'text' });
    expect(String(text).trim()).toBe(SENTENCES[0]);
  });

  it('hears nothing in silence, noise or a sentence nobody registered', async () => {
    const silence = encodeWav({ samples: new Int16Array(16000), sampleRate: 8000 });
    const noise = encodeWav({ samples: Int16Array.from({ length: 16000 }, () => Math.round((Math.random() - 0.5) * 8000)), sampleRate: 8000 });
    const stranger = await phoneWav('I would like to order a large pizza with mushrooms.');
    for (const wav of [silence, noise, stranger]) {
      const result = await client.audio.transcriptions.create({ file: await toFile(wav, 'a.wav'), model: 'whisper-large-v3-turbo' });
      expect(result.text).toBe('');
    }
  });

  it('answers 401 with Groq\'s body for a wrong key', async () => {
    const wrong = new Groq({ baseURL: groq.url, apiKey: 'gsk_wrong', maxRetries: 0 });
    const error = await wrong.models.list().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Groq.AuthenticationError);
    expect((error as InstanceType<typeof Groq.AuthenticationError>).error).toMatchObject({ error: { code: 'invalid_api_key' } });
  });

  it('turns each error knob into the error groq-sdk raises', async () => {
    const ask = (c: Groq = client): Promise<unknown> => c.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'hi' }] });
    groq.knobs.failNext('chat', { kind: 'status', status: 429, retryAfterSeconds: 1 });
    const limited = await ask().catch((e: unknown) => e);
    expect(limited).toBeInstanceOf(Groq.RateLimitError);
    expect((limited as InstanceType<typeof Groq.RateLimitError>).headers.get('retry-after')).toBe('1');

    groq.knobs.failNext('chat', { kind: 'status', status: 500 });
    expect(await ask().catch((e: unknown) => e)).toBeInstanceOf(Groq.InternalServerError);

    groq.knobs.failNext('chat', { kind: 'timeout' });
    const impatient = new Groq({ baseURL: groq.url, apiKey: groq.apiKey, maxRetries: 0, timeout: 300 });
    expect(await ask(impatient).catch((e: unknown) => e)).toBeInstanceOf(Groq.APIConnectionTimeoutError);

    groq.knobs.failNext('chat', { kind: 'malformed' });
    expect(await ask().catch((e: unknown) => e)).toBeInstanceOf(SyntaxError);

    // With retries on, groq-sdk honours retry-after and the second attempt succeeds.
    groq.knobs.failNext('chat', { kind: 'status', status: 429, retryAfterSeconds: 0 }, 1);
    const patient = new Groq({ baseURL: groq.url, apiKey: groq.apiKey, maxRetries: 1 });
    await expect(ask(patient)).resolves.toBeTruthy();
    expect(groq.requests.filter((r) => r.endpoint === 'chat').map((r) => r.status).slice(-2)).toEqual([429, 200]);

    groq.knobs.failNext('transcription', { kind: 'status', status: 429, retryAfterSeconds: 2 });
    const file = await toFile(await phoneWav(SENTENCES[0] ?? ''), 'a.wav');
    expect(await client.audio.transcriptions.create({ file, model: 'whisper-large-v3' }).catch((e: unknown) => e)).toBeInstanceOf(Groq.RateLimitError);
  });

  it('delays the first token by the configured time to first token', async () => {
    groq.knobs.setLatency('chat', { firstByteMs: 300, perUnitMs: 20 });
    const started = Date.now();
    const stream = await client.chat.completions.create({ model: MODEL, stream: true, messages: [{ role: 'user', content: 'hi' }] });
    let firstTokenMs: number | undefined;
    for await (const chunk of stream) {
      if (firstTokenMs === undefined && chunk.choices[0]?.delta.content) firstTokenMs = Date.now() - started;
    }
    expect(firstTokenMs).toBeGreaterThanOrEqual(290);
  });
});

describe('Groq emulator with the LiveKit OpenAI plugin in Groq mode', () => {
  it('streams chat with a tool call through LLM.withGroq', async () => {
    groq.script.add({ when: 'bye', reply: 'Goodbye then.', toolCalls: [{ name: 'end_call', arguments: {} }] });
    const model = openai.LLM.withGroq({ baseURL: groq.openaiBaseUrl, apiKey: groq.apiKey, model: MODEL });
    const chatCtx = llm.ChatContext.empty();
    chatCtx.addMessage({ role: 'system', content: SYSTEM });
    chatCtx.addMessage({ role: 'user', content: 'Okay, bye.' });
    const endCall = llm.tool({ description: 'End the call', parameters: z.object({}), execute: async () => 'ended' });
    const stream = model.chat({ chatCtx, toolCtx: { end_call: endCall } });
    let text = '';
    const toolNames: string[] = [];
    let tokens = 0;
    for await (const chunk of stream) {
      text += chunk.delta?.content ?? '';
      for (const call of chunk.delta?.toolCalls ?? []) toolNames.push(call.name);
      if (chunk.usage) tokens = chunk.usage.totalTokens;
    }
    expect(text).toBe('Goodbye then.');
    expect(toolNames).toEqual(['end_call']);
    expect(tokens).toBeGreaterThan(0);
    const sent = groq.requests.find((r) => r.endpoint === 'chat')?.body as { tools?: Array<{ function: { name: string } }>; stream_options?: unknown };
    expect(sent.tools?.map((t) => t.function.name)).toEqual(['end_call']);
    expect(sent.stream_options).toEqual({ include_usage: true });
  });

  it('reports the plugin\'s APIStatusError for a 429', async () => {
    groq.knobs.failNext('chat', { kind: 'status', status: 429, retryAfterSeconds: 1 });
    const model = openai.LLM.withGroq({ baseURL: groq.openaiBaseUrl, apiKey: groq.apiKey, model: MODEL });
    const chatCtx = llm.ChatContext.empty();
    chatCtx.addMessage({ role: 'user', content: 'hi' });
    // The plugin reports provider failures as 'error' events on the LLM (the agent session listens there).
    const errors: Array<{ error: unknown; recoverable: boolean }> = [];
    model.on('error', (event) => errors.push(event));
    const stream = model.chat({ chatCtx, connOptions: { maxRetry: 0, retryIntervalMs: 0, timeoutMs: 5000 } });
    await (async () => {
      for await (const _ of stream) { /* drain */ }
    })().catch(() => undefined);
    expect(errors).toHaveLength(1);
    expect(errors[0]?.error).toMatchObject({ statusCode: 429 });
    expect(errors[0]?.recoverable).toBe(false);
  });

  it('transcribes 8 kHz phone audio through STT.withGroq', async () => {
    const pcm = await renderSpeechAt(SENTENCES[2] ?? '', 8000);
    const samples = mulawDecode(mulawEncode(pcm.samples));
    const stt = openai.STT.withGroq({ baseURL: groq.openaiBaseUrl, apiKey: groq.apiKey });
    const event = await stt.recognize(new AudioFrame(samples, 8000, 1, samples.length));
    expect(event.alternatives?.[0]?.text.trim()).toBe(SENTENCES[2]);
    expect(groq.requests.at(-1)?.outcome).toMatchObject({ text: SENTENCES[2] });
  });
});
