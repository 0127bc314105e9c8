import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ElevenLabsClient } from '@elevenlabs/elevenlabs-js';
import Groq, { toFile } from 'groq-sdk';
import { describe, expect, it } from 'vitest';
import { encodeWav, renderSpeechAt } from './audio.js';

describe('standalone emulators (npm run emulators)', () => {
  it('prints env lines that real clients can use, with env knobs and utterances applied', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'emulators-'));
    const utterances = join(dir, 'utterances.txt');
    writeFileSync(utterances, 'Hello, I am calling about your shipping costs.\nCould we schedule a demo next Tuesday?\n');
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/emulators/main.ts'], {
      env: {
        ...process.env,
        GROQ_EMULATOR_PORT: '0',
        ELEVENLABS_EMULATOR_PORT: '0',
        EMULATOR_UTTERANCES_FILE: utterances,
        EMULATOR_FAIL_CHAT: '503:1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const lines: Record<string, string> = {};
      const reader = createInterface({ input: child.stdout });
      for await (const line of reader) {
        const [key, ...rest] = line.split('=');
        if (key) lines[key] = rest.join('=');
        if (Object.keys(lines).length === 4) break;
      }
      expect(lines['GROQ_BASE_URL']).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(lines['ELEVENLABS_BASE_URL']).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

      const groq = new Groq({ baseURL: lines['GROQ_BASE_URL'], apiKey: lines['GROQ_API_KEY'], maxRetries: 0 });
      const ask = (): Promise<Groq.Chat.ChatCompletion> => groq.chat.completions.create({ model: 'llama-3.3-70b-versatile', messages: [{ role: 'system', content: 'You are Priya Shah, CFO at Contoso.' }] });
      expect(await ask().catch((e: unknown) => e)).toBeInstanceOf(Groq.InternalServerError);
      expect((await ask()).choices[0]?.message.content).toContain('Priya');
      const wav = encodeWav(await renderSpeechAt('Could we schedule a demo next Tuesday?', 8000));
      const heard = await groq.audio.transcriptions.create({ file: await toFile(wav, 'a.wav'), model: 'whisper-large-v3-turbo' });
      expect(heard.text.trim()).toBe('Could we schedule a demo next Tuesday?');

      const eleven = new ElevenLabsClient({ baseUrl: lines['ELEVENLABS_BASE_URL'] ?? '', apiKey: lines['ELEVENLABS_API_KEY'] ?? '' });
      expect((await eleven.voices.getAll()).voices.length).toBeGreaterThan(0);
    } finally {
      child.kill('SIGTERM');
    }
  });
});
