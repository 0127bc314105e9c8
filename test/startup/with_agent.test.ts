// `npm start` with LiveKit and provider keys set: the dispatch service brings the persona agent
// worker up with it (registered with a real livekit-server) and takes it down on SIGTERM.
import { mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../../sip/stack/stack.js';
import { startElevenLabsEmulator, type ElevenLabsEmulator } from '../emulators/elevenlabs_emulator.js';
import { startGroqEmulator, type GroqEmulator } from '../emulators/groq_emulator.js';
import { freePort } from '../support/ports.js';
import { startEntry } from '../support/process.js';

const dataDir = join(tmpdir(), `practice-line-with-agent-${process.pid}-${Date.now()}`);
let stack: Stack;
let groq: GroqEmulator;
let elevenlabs: ElevenLabsEmulator;

beforeAll(async () => {
  mkdirSync(dataDir, { recursive: true, mode: 0o755 });
  stack = await startStack();
  groq = await startGroqEmulator();
  elevenlabs = await startElevenLabsEmulator();
}, 180_000);

afterAll(async () => {
  await groq?.stop();
  await elevenlabs?.stop();
  await stack?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

async function healthy(url: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const status = await fetch(url).then((response) => response.status, () => 0);
    if (status === 200) return true;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return false;
}

describe('npm start with every key set', () => {
  it('starts the agent worker beside the dispatch service and stops it on SIGTERM', async () => {
    const agentPort = await freePort();
    const app = startEntry(
      'src/main.ts',
      {
        DATA_DIR: dataDir,
        HOST: '127.0.0.1',
        PORT: String(await freePort()),
        EMBEDDED_PG_PORT: String(await freePort()),
        LIVEKIT_URL: stack.livekitUrl,
        LIVEKIT_API_KEY: stack.apiKey,
        LIVEKIT_API_SECRET: stack.apiSecret,
        GROQ_API_KEY: groq.apiKey,
        GROQ_BASE_URL: groq.url,
        ELEVENLABS_API_KEY: elevenlabs.apiKey,
        ELEVENLABS_BASE_URL: elevenlabs.url,
        LIVEKIT_AGENT_NAME: 'with-agent-test',
        AGENT_HTTP_PORT: String(agentPort),
        AGENT_IDLE_PROCESSES: '1',
        AGENT_LOAD_THRESHOLD: '1',
      },
      ['--with-agent'],
    );
    try {
      await app.waitForOutput(/"msg":"agent worker started"/, 120_000);
      // The worker's own health endpoint answers 200 only once it is registered with livekit-server.
      expect(await healthy(`http://127.0.0.1:${agentPort}/`, 90_000)).toBe(true);
    } finally {
      app.child.kill('SIGTERM');
      expect(await app.exited).toBe(0);
    }
    await expect(fetch(`http://127.0.0.1:${agentPort}/`)).rejects.toThrow();
    expect(app.stdout() + app.stderr()).not.toMatch(/agent worker exited; calls are not answered/);
  });
});
