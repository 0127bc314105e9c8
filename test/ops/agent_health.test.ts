// The agent worker's own health endpoint (agents-js HTTP server on AGENT_HTTP_PORT, what the
// compose healthcheck and a Kubernetes probe call): healthy only while registered with LiveKit.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../../sip/stack/stack.js';
import { startAgentWorker } from '../agent/agent_world.js';
import { startElevenLabsEmulator, type ElevenLabsEmulator } from '../emulators/elevenlabs_emulator.js';
import { startGroqEmulator, type GroqEmulator } from '../emulators/groq_emulator.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { freePort } from '../support/ports.js';

let database: TestDatabase;
let stack: Stack;
let groq: GroqEmulator;
let elevenlabs: ElevenLabsEmulator;

beforeAll(async () => {
  database = await createTestDatabase();
  stack = await startStack();
  groq = await startGroqEmulator();
  elevenlabs = await startElevenLabsEmulator();
}, 180_000);

afterAll(async () => {
  await groq?.stop();
  await elevenlabs?.stop();
  await stack?.stop();
  await database?.close();
});

describe('agent worker health', () => {
  it('answers 200 on / once registered, describes itself on /worker, and is gone after SIGTERM, even while it still warms its idle job process', async () => {
    const port = await freePort();
    const worker = await startAgentWorker({
      livekit: { url: stack.livekitUrl, apiKey: stack.apiKey, apiSecret: stack.apiSecret },
      agentName: 'health-probe-agent',
      groq,
      elevenlabs,
      databaseUrl: database.url,
      env: { AGENT_HTTP_PORT: String(port), AGENT_IDLE_PROCESSES: '1' },
    });
    try {
      const health = await fetch(`http://127.0.0.1:${port}/`);
      expect(health.status).toBe(200);
      expect(await health.text()).toBe('OK');
      const info = (await (await fetch(`http://127.0.0.1:${port}/worker`)).json()) as { agent_name: string; active_jobs: number };
      expect(info).toMatchObject({ agent_name: 'health-probe-agent', active_jobs: 0 });
    } finally {
      await worker.stop();
    }
    await expect(fetch(`http://127.0.0.1:${port}/`)).rejects.toThrow();
    // The SIGTERM came right after registration, while the idle job process was still loading
    // (about a second). agents-js dropped a shutdown request that arrived then and waited 60 s for
    // its ack; worker.stop() gives up after 15 s with SIGKILL. patches/@livekit+agents+*.patch
    // holds the request until the job process listens, so the worker closes itself (143).
    const log = worker.stdout() + worker.stderr();
    expect(log).not.toContain('job did not acknowledge shutdown in time');
    expect({ exitCode: worker.child.exitCode, signal: worker.child.signalCode }).toEqual({ exitCode: 143, signal: null });
  });
});
