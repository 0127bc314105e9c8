// Builds the voice pipeline for one call: Silero VAD -> Groq Whisper (OpenAI plugin, Groq mode) ->
// Groq LLM streaming into ElevenLabs TTS. Every base URL and key comes from config. Tests reuse
// these factories with the providers pointed at the emulators.
import { llm, type stt as sttNs, type tts as ttsNs, type VAD, voice } from '@livekit/agents';
import * as elevenlabs from '@livekit/agents-plugin-elevenlabs';
import * as openai from '@livekit/agents-plugin-openai';

export interface ProviderSettings {
  groqApiKey: string;
  /** Bare origin, e.g. https://api.groq.com; the OpenAI plugin needs `/openai/v1` appended. */
  groqBaseUrl: string;
  sttModel: string;
  elevenLabsApiKey: string;
  /** Bare origin, e.g. https://api.elevenlabs.io; the plugin needs `/v1` appended. */
  elevenLabsBaseUrl: string;
  elevenLabsModel: string;
}

export interface TurnSettings {
  /** Silence after the caller stops before the persona answers. */
  endpointingMinDelayMs: number;
  /** Caller speech over the persona shorter than this is a backchannel. */
  interruptionMinDurationMs: number;
  /** A transcript over the persona needs this many words to interrupt. */
  interruptionMinWords: number;
}

const trimSlash = (url: string) => url.replace(/\/+$/, '');
export const groqOpenAiBaseUrl = (origin: string) => `${trimSlash(origin)}/openai/v1`;
export const elevenLabsApiBaseUrl = (origin: string) => `${trimSlash(origin)}/v1`;

export function createStt(settings: ProviderSettings, language: string): sttNs.STT {
  return openai.STT.withGroq({
    apiKey: settings.groqApiKey,
    baseURL: groqOpenAiBaseUrl(settings.groqBaseUrl),
    model: settings.sttModel,
    language: language.split('-')[0] ?? 'en',
  });
}

export function createLlm(settings: ProviderSettings, model: string, temperature: number): llm.LLM {
  return openai.LLM.withGroq({ apiKey: settings.groqApiKey, baseURL: groqOpenAiBaseUrl(settings.groqBaseUrl), model, temperature });
}

export function createTts(settings: ProviderSettings, voiceId: string, language: string): ttsNs.TTS {
  return new elevenlabs.TTS({
    apiKey: settings.elevenLabsApiKey,
    baseURL: elevenLabsApiBaseUrl(settings.elevenLabsBaseUrl),
    model: settings.elevenLabsModel,
    voiceId,
    language: language.split('-')[0] ?? 'en',
    // PCM, not μ-law: LiveKit SIP transcodes to G.711 for the phone, and 16 kHz is plenty for it.
    encoding: 'pcm_16000',
  });
}

export interface SessionParts {
  vad: VAD;
  stt: sttNs.STT;
  /** Omitted when each agent brings its own (the persona's model is chosen per call). */
  llm?: llm.LLM;
  tts: ttsNs.TTS;
}

const PHONE_RETRY = { maxRetry: 2, retryIntervalMs: 300, timeoutMs: 6000 } as const;

export function createPersonaSession(parts: SessionParts, turns: TurnSettings): voice.AgentSession {
  return new voice.AgentSession({
    ...parts,
    turnHandling: {
      // VAD end-of-turn: local and model-free. Leaving this unset would build the cloud turn detector.
      turnDetection: 'vad',
      endpointing: { mode: 'fixed', minDelay: turns.endpointingMinDelayMs, maxDelay: Math.max(3000, turns.endpointingMinDelayMs) },
      interruption: {
        enabled: true,
        // 'vad', not the adaptive (cloud) detector.
        mode: 'vad',
        minDuration: turns.interruptionMinDurationMs,
        minWords: turns.interruptionMinWords,
      },
      preemptiveGeneration: { enabled: true },
    },
    // No echo warm-up on a phone line: it would mute barge-in for the first 3 s of the greeting.
    aecWarmupDuration: null,
    userAwayTimeout: null,
    connOptions: {
      // A caller is waiting in silence: retry fast and give up soon (the defaults wait 2 s between
      // tries, up to ~16 s per turn), then the persona says a fallback line (persona_call.ts).
      sttConnOptions: PHONE_RETRY,
      llmConnOptions: PHONE_RETRY,
      ttsConnOptions: PHONE_RETRY,
      // The agent decides itself when providers are "down" (persona_call.ts) so it can still speak.
      maxUnrecoverableErrors: 10,
    },
  });
}

export function createPersonaAgent(instructions: string, tools?: llm.ToolContextLike): voice.Agent {
  return new voice.Agent(tools === undefined ? { instructions } : { instructions, tools });
}
