import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EMULATED_VOICES, startElevenLabsEmulator, type ElevenLabsEmulator } from '../../../test/emulators/elevenlabs_emulator.js';
import { createElevenLabsVoiceCatalog } from './voice_catalog.js';

let emulator: ElevenLabsEmulator;

beforeAll(async () => {
  emulator = await startElevenLabsEmulator({ host: '127.0.0.1', port: 0 });
});
afterAll(() => emulator?.stop());

describe('ElevenLabs voice catalog', () => {
  it('lists the account’s voices by name through the SDK at the configured base URL, then serves them from cache', async () => {
    const catalog = createElevenLabsVoiceCatalog({ apiKey: emulator.apiKey, baseUrl: emulator.url });
    const voices = await catalog.list();
    expect(voices).toEqual(
      [...EMULATED_VOICES].map((v) => ({ id: v.voiceId, name: v.name })).sort((a, b) => a.name.localeCompare(b.name)),
    );
    const calls = emulator.requests.filter((r) => r.endpoint === 'voices').length;
    await catalog.list();
    expect(emulator.requests.filter((r) => r.endpoint === 'voices').length).toBe(calls);
  });

  it('answers null when the provider fails, so the form falls back to a typed voice id', async () => {
    const errors: unknown[] = [];
    const catalog = createElevenLabsVoiceCatalog({ apiKey: emulator.apiKey, baseUrl: emulator.url, onError: (error) => errors.push(error) });
    emulator.knobs.failNext('voices', { kind: 'status', status: 500 });
    expect(await catalog.list()).toBeNull();
    expect(errors).toHaveLength(1);
  });
});
