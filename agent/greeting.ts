// The opening line, synthesised while the phone is still connecting so it plays the moment the
// caller joins; if that fails it is synthesised live.
import type { tts as ttsNs } from '@livekit/agents';
import type { AudioFrame } from '@livekit/rtc-node';
import { ReadableStream } from 'node:stream/web';
import type { Logger } from 'pino';

export async function prerender(tts: ttsNs.TTS, text: string, logger: Logger): Promise<AudioFrame[] | undefined> {
  const started = Date.now();
  try {
    const frames: AudioFrame[] = [];
    for await (const chunk of tts.synthesize(text)) frames.push(chunk.frame);
    logger.debug({ ms: Date.now() - started, frames: frames.length }, 'greeting prerendered');
    return frames.length > 0 ? frames : undefined;
  } catch (error) {
    logger.warn({ err: error }, 'greeting prerender failed; it will be synthesised live');
    return undefined;
  }
}

/** Prerendered frames as the audio of a `session.say`. */
export function framesStream(frames: readonly AudioFrame[]): ReadableStream<AudioFrame> {
  return new ReadableStream<AudioFrame>({
    start(controller) {
      for (const frame of frames) controller.enqueue(frame);
      controller.close();
    },
  });
}
