/*
 * What the provider emulators themselves cost, seen through the real SDKs: LLM time to first token
 * and full reply, STT round trip, TTS time to first byte (HTTP and the plugin's WebSocket), under the
 * `zero` and `published` presets. Under `published` the emulated delay counts from the request's
 * arrival, so the emulator's own work (espeak-ng, sox, matching) is hidden when it is shorter.
 * Run: npx tsx bench/emulators.ts [rounds]
 */
import os from 'node:os';
import { ElevenLabsClient } from '@elevenlabs/elevenlabs-js';
import { initializeLogger } from '@livekit/agents';
import * as elevenlabs from '@livekit/agents-plugin-elevenlabs';
import Groq, { toFile } from 'groq-sdk';
import { encodeWav, renderSpeechAt } from '../test/emulators/audio.js';
import { startElevenLabsEmulator } from '../test/emulators/elevenlabs_emulator.js';
import { startGroqEmulator } from '../test/emulators/groq_emulator.js';
import type { PresetName } from '../test/emulators/knobs.js';

const SENTENCES = [
  'Hello, this is Dana from Northwind Logistics.',
  'What would it cost us to switch?',
  'Could we schedule a demo next Tuesday?',
  'We already have a supplier and we are happy with them.',
];
const REPLY = 'That is interesting, but we signed a two year contract with our current supplier last spring, so I do not see us switching before it ends.';

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
}

function line(name: string, xs: number[]): string {
  return `  ${name.padEnd(34)} p50 ${pct(xs, 50).toFixed(1).padStart(7)} ms   p95 ${pct(xs, 95).toFixed(1).padStart(7)} ms   (n=${xs.length})`;
}

async function run(preset: PresetName, rounds: number): Promise<void> {
  const groq = await startGroqEmulator({ utterances: SENTENCES });
  const eleven = await startElevenLabsEmulator();
  groq.knobs.preset(preset);
  eleven.knobs.preset(preset);
  groq.script.add({ reply: REPLY });
  const client = new Groq({ baseURL: groq.url, apiKey: groq.apiKey, maxRetries: 0 });
  const elevenClient = new ElevenLabsClient({ baseUrl: eleven.url, apiKey: eleven.apiKey, maxRetries: 0 });
  const tts = new elevenlabs.TTS({ baseURL: eleven.apiBaseUrl, apiKey: eleven.apiKey, encoding: 'pcm_16000' });
  const wavs = await Promise.all(SENTENCES.map(async (s) => encodeWav(await renderSpeechAt(s, 16000))));
  const ttft: number[] = [];
  const total: number[] = [];
  const stt: number[] = [];
  const httpTtfb: number[] = [];
  const wsTtfb: number[] = [];
  try {
    for (let i = 0; i < rounds; i++) {
      let t0 = performance.now();
      const stream = await client.chat.completions.create({ model: 'llama-3.3-70b-versatile', stream: true, messages: [{ role: 'user', content: `turn ${i}` }] });
      let first: number | undefined;
      for await (const chunk of stream) if (first === undefined && chunk.choices[0]?.delta.content) first = performance.now() - t0;
      ttft.push(first ?? NaN);
      total.push(performance.now() - t0);

      t0 = performance.now();
      const heard = await client.audio.transcriptions.create({ file: await toFile(wavs[i % wavs.length] ?? Buffer.alloc(0), 'a.wav'), model: 'whisper-large-v3-turbo' });
      stt.push(performance.now() - t0);
      if (heard.text.trim() !== SENTENCES[i % SENTENCES.length]) throw new Error(`misheard: ${heard.text}`);

      // A fresh sentence each round: espeak-ng renderings are cached, and a real call never repeats.
      const text = `${SENTENCES[i % SENTENCES.length] ?? ''} Round ${i}.`;
      t0 = performance.now();
      const audio = await elevenClient.textToSpeech.stream('21m00Tcm4TlvDq8ikWAM', { text, outputFormat: 'pcm_16000' });
      let firstByte: number | undefined;
      for await (const _ of audio) if (firstByte === undefined) firstByte = performance.now() - t0;
      httpTtfb.push(firstByte ?? NaN);

      t0 = performance.now();
      const ws = tts.stream();
      ws.pushText(`${text} Again.`);
      ws.flush();
      ws.endInput();
      let firstFrame: number | undefined;
      for await (const ev of ws) {
        if (typeof ev === 'symbol') break;
        if (firstFrame === undefined) firstFrame = performance.now() - t0;
        if (ev.final) break;
      }
      wsTtfb.push(firstFrame ?? NaN);
    }
  } finally {
    await tts.close();
    await groq.stop();
    await eleven.stop();
  }
  console.log(`preset ${preset}:`);
  console.log(line('LLM time to first token', ttft));
  console.log(line(`LLM full reply (${REPLY.split(' ').length} words)`, total));
  console.log(line('STT request (2-3 s, 16 kHz WAV)', stt));
  console.log(line('TTS HTTP time to first byte', httpTtfb));
  console.log(line('TTS plugin WebSocket first frame', wsTtfb));
}

initializeLogger({ pretty: false, level: 'warn' });
const rounds = Number(process.argv[2] ?? '20');
console.log(`environment: node ${process.version}, ${os.cpus().length} cpu(s) ${os.cpus()[0]?.model ?? ''}, load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
await run('zero', rounds);
await run('published', rounds);
