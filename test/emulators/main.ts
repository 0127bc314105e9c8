/*
 * `npm run emulators`: Groq and ElevenLabs emulators on fixed loopback ports, printing the env lines
 * that point the app (or any client) at them, one per line on stdout:
 *
 *   GROQ_BASE_URL=http://127.0.0.1:8710        (groq-sdk origin; OpenAI-style clients add /openai/v1)
 *   GROQ_API_KEY=gsk_emulator_key
 *   ELEVENLABS_BASE_URL=http://127.0.0.1:8711  (elevenlabs-js origin; the LiveKit plugin adds /v1)
 *   ELEVENLABS_API_KEY=sk_emulator_key
 *
 * Settings (environment):
 *   GROQ_EMULATOR_PORT, ELEVENLABS_EMULATOR_PORT   ports (default 8710, 8711; 0 = any free port)
 *   EMULATOR_PRESET=zero|published                  latency preset (default zero)
 *   EMULATOR_LATENCY_<CHAT|TRANSCRIPTION|TTS>=firstByteMs[,perUnitMs]
 *   EMULATOR_FAIL_<CHAT|TRANSCRIPTION|MODELS|TTS|VOICES>=<status|timeout|malformed>[:count[:retryAfterSeconds]]
 *   EMULATOR_UTTERANCES_FILE                        sentences the STT can recognise, one per line
 *   EMULATOR_REPLY                                  what the persona LLM says to every turn (default: in character)
 */
import { readFileSync } from 'node:fs';
import { startElevenLabsEmulator } from './elevenlabs_emulator.js';
import { startGroqEmulator } from './groq_emulator.js';
import { applyKnobSettings, createKnobs } from './knobs.js';

export const DEFAULT_GROQ_EMULATOR_PORT = 8710;
export const DEFAULT_ELEVENLABS_EMULATOR_PORT = 8711;

function port(value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`invalid port ${value}`);
  return n;
}

async function main(): Promise<void> {
  const env = process.env;
  const groqKnobs = createKnobs();
  const elevenKnobs = createKnobs();
  applyKnobSettings(groqKnobs, env);
  applyKnobSettings(elevenKnobs, env);
  const file = env['EMULATOR_UTTERANCES_FILE'];
  const utterances = file ? readFileSync(file, 'utf8').split('\n').map((l) => l.trim()).filter((l) => l !== '') : [];

  const reply = env['EMULATOR_REPLY'];
  const script = reply ? [{ reply }] : [];
  const groq = await startGroqEmulator({ port: port(env['GROQ_EMULATOR_PORT'], DEFAULT_GROQ_EMULATOR_PORT), knobs: groqKnobs, utterances, script });
  const eleven = await startElevenLabsEmulator({ port: port(env['ELEVENLABS_EMULATOR_PORT'], DEFAULT_ELEVENLABS_EMULATOR_PORT), knobs: elevenKnobs });

  process.stdout.write([
    `GROQ_BASE_URL=${groq.url}`,
    `GROQ_API_KEY=${groq.apiKey}`,
    `ELEVENLABS_BASE_URL=${eleven.url}`,
    `ELEVENLABS_API_KEY=${eleven.apiKey}`,
    '',
  ].join('\n'));
  process.stderr.write(`emulators running (Groq ${groq.openaiBaseUrl}, ElevenLabs ${eleven.apiBaseUrl}; ${utterances.length} utterances registered); Ctrl-C stops\n`);

  let logged = { groq: 0, eleven: 0 };
  const report = setInterval(() => {
    // Completed requests to stderr, so stdout stays pure env lines.
    for (const [name, list, key] of [['groq', groq.requests, 'groq'], ['elevenlabs', eleven.requests, 'eleven']] as const) {
      while (logged[key] < list.length && (list[logged[key]]?.status ?? 0) !== 0) {
        const r = list[logged[key]];
        if (r) process.stderr.write(`${name} ${r.method} ${r.path} -> ${r.status}\n`);
        logged = { ...logged, [key]: logged[key] + 1 };
      }
    }
  }, 250);

  const stop = (): void => {
    clearInterval(report);
    void Promise.all([groq.stop(), eleven.stop()]).then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

await main();
