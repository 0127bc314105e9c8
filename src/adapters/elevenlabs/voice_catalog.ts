// The ElevenLabs voice list for the persona form. Cached briefly: the list changes rarely and a
// form should not wait on the provider every time it opens.
import { ElevenLabsClient } from '@elevenlabs/elevenlabs-js';

export interface Voice {
  id: string;
  name: string;
}

export interface VoiceCatalog {
  /** Null when the provider could not be reached; the form then falls back to a free-text id. */
  list(): Promise<Voice[] | null>;
}

export function createElevenLabsVoiceCatalog(options: {
  apiKey: string;
  baseUrl: string;
  cacheMs?: number;
  timeoutMs?: number;
  onError?: (error: unknown) => void;
}): VoiceCatalog {
  const client = new ElevenLabsClient({ apiKey: options.apiKey, baseUrl: options.baseUrl });
  let cached: { at: number; voices: Voice[] } | null = null;
  return {
    async list() {
      if (cached && Date.now() - cached.at < (options.cacheMs ?? 10 * 60_000)) return cached.voices;
      try {
        const response = await client.voices.getAll({}, { timeoutInSeconds: (options.timeoutMs ?? 5000) / 1000, maxRetries: 0 });
        const voices = response.voices
          .map((voice) => ({ id: voice.voiceId, name: voice.name ?? voice.voiceId }))
          .sort((a, b) => a.name.localeCompare(b.name));
        cached = { at: Date.now(), voices };
        return voices;
      } catch (error) {
        options.onError?.(error);
        return null;
      }
    },
  };
}
