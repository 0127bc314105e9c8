// Background noise under the persona: agents-js's BackgroundAudioPlayer publishes the scenario's
// ambience loop as a second audio track of the agent, so livekit-sip (and the browser) mix it under
// the persona's voice, while the session's VAD and STT only ever hear the caller's track. The clips
// are generated noise shipped with the project (agent/ambience/generate.sh); decoding is the
// player's ffmpeg (@livekit/av's bundled binary, else ffmpeg on PATH).
import { fileURLToPath } from 'node:url';
import { voice } from '@livekit/agents';
import type { Room } from '@livekit/rtc-node';
import type { Logger } from 'pino';
import type { BackgroundNoise } from '../src/domain/background_noise.js';

const CLIPS: Record<Exclude<BackgroundNoise, 'none'>, string> = { office: 'office.ogg', street: 'street.ogg', cafe: 'cafe.ogg' };

/** The loop for a setting, or undefined for a quiet room. */
export function ambienceClip(noise: BackgroundNoise | undefined): string | undefined {
  if (noise === undefined || noise === 'none') return undefined;
  return fileURLToPath(new URL(`./ambience/${CLIPS[noise]}`, import.meta.url));
}

export interface Ambience {
  close(): Promise<void>;
}

/**
 * Starts the loop for the rest of the call; never throws (a call without its ambience is still a
 * call). Null when the setting is none or the track could not be published.
 */
export async function startAmbience(room: Room, noise: BackgroundNoise | undefined, logger: Logger): Promise<Ambience | null> {
  const clip = ambienceClip(noise);
  if (!clip) return null;
  // The clips are levelled when generated (about -36 dBFS RMS), so they play at full volume.
  const player = new voice.BackgroundAudioPlayer({ ambientSound: { source: clip, volume: 1 } });
  try {
    await player.start({ room });
    logger.info({ noise }, 'background noise playing');
  } catch (error) {
    logger.warn({ err: error, noise }, 'background noise could not start; the call goes on without it');
    await player.close().catch(() => undefined);
    return null;
  }
  return { close: () => player.close().catch((error: unknown) => logger.warn({ err: error }, 'background noise did not close cleanly')) };
}
