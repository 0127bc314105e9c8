import { describe, expect, it } from 'vitest';
import { PROVIDER_FALLBACK_LINE, PROVIDERS_DOWN_LINE } from './persona_instructions.js';
import { decideOnProviderFailure, describeProviderError, MAX_CONSECUTIVE_PROVIDER_FAILURES, type ProviderFailure } from './provider_failures.js';

const llmDown: ProviderFailure = { provider: 'groq', voiceless: false, recoverable: false, message: 'llm_error: 503' };
const ttsDown: ProviderFailure = { provider: 'elevenlabs', voiceless: true, recoverable: false, message: 'tts_error: closed' };

describe('the provider-failure policy', () => {
  it('lets the framework retry a recoverable error: nothing counted, recorded or said', () => {
    expect(decideOnProviderFailure({ ...llmDown, recoverable: true }, { consecutiveBefore: 1, quiet: false })).toEqual({ consecutive: 1, record: false, action: { kind: 'none' } });
  });

  it('answers a first failed turn with the fallback line and records it', () => {
    expect(decideOnProviderFailure(llmDown, { consecutiveBefore: 0, quiet: false })).toEqual({ consecutive: 1, record: true, action: { kind: 'say', line: PROVIDER_FALLBACK_LINE } });
  });

  it(`ends the call after ${MAX_CONSECUTIVE_PROVIDER_FAILURES} failures in a row, with a goodbye if there is a voice to say it`, () => {
    expect(decideOnProviderFailure(llmDown, { consecutiveBefore: 1, quiet: false })).toEqual({ consecutive: 2, record: true, action: { kind: 'end_call', goodbye: PROVIDERS_DOWN_LINE } });
    expect(decideOnProviderFailure(ttsDown, { consecutiveBefore: 1, quiet: false })).toEqual({ consecutive: 2, record: true, action: { kind: 'end_call' } });
  });

  it('says nothing when synthesis itself failed', () => {
    expect(decideOnProviderFailure(ttsDown, { consecutiveBefore: 0, quiet: false }).action).toEqual({ kind: 'none' });
  });

  it('while the call is ending or at the PIN gate: still counted and recorded, never spoken about', () => {
    expect(decideOnProviderFailure(llmDown, { consecutiveBefore: 5, quiet: true })).toEqual({ consecutive: 6, record: true, action: { kind: 'none' } });
  });

  it('blames ElevenLabs for synthesis and Groq for the rest, with the inner error message', () => {
    const inner = new Error('503 Service Unavailable');
    expect(describeProviderError({ type: 'tts_error', recoverable: false, error: inner } as never)).toMatchObject({ provider: 'elevenlabs', voiceless: true, message: 'tts_error: 503 Service Unavailable' });
    expect(describeProviderError({ type: 'llm_error', recoverable: true, error: inner } as never)).toMatchObject({ provider: 'groq', voiceless: false, recoverable: true });
    expect(describeProviderError({ type: 'stt_error', recoverable: false, error: inner } as never).provider).toBe('groq');
  });
});
