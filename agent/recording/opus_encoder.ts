// Stereo s16le PCM in, Ogg/Opus out as it is made: ffmpeg with libopus, reading stdin and writing
// Ogg pages to stdout (a pipe is unseekable, so ffmpeg flushes each page; pages are ~1 s). Opus
// in Ogg because every current browser plays it in <audio>, it is the codec WebRTC already
// uses, and speech at 32 kbit/s stereo is clear at a fraction of PCM's size.
import { spawn } from 'node:child_process';
import type { Logger } from 'pino';
import type { PcmEncoder } from './library_recorder.js';

export interface OpusEncoderOptions {
  ffmpegPath: string;
  sampleRate: number;
  bitrate: number;
  /** Each piece of Ogg output, in order. */
  onBytes(bytes: Buffer): void;
  logger: Logger;
}

export function startOpusEncoder(options: OpusEncoderOptions): PcmEncoder {
  const child = spawn(
    options.ffmpegPath,
    [
      '-hide_banner', '-loglevel', 'error', '-nostdin',
      '-f', 's16le', '-ar', String(options.sampleRate), '-ac', '2', '-i', 'pipe:0',
      '-c:a', 'libopus', '-b:a', String(options.bitrate), '-application', 'voip',
      '-f', 'ogg', '-flush_packets', '1', 'pipe:1',
    ],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let errors = '';
  child.stdout.on('data', (bytes: Buffer) => options.onBytes(bytes));
  child.stderr.on('data', (bytes: Buffer) => (errors = (errors + bytes.toString()).slice(-2000)));
  // A write after ffmpeg died must not crash the call.
  child.stdin.on('error', (error) => options.logger.warn({ err: error }, 'recording encoder input closed'));
  const finished = new Promise<void>((resolve) => {
    child.on('error', (error) => {
      options.logger.error({ err: error, ffmpeg: options.ffmpegPath }, 'recording encoder could not start');
      resolve();
    });
    child.on('close', (code) => {
      if (code !== 0) options.logger.error({ code, stderr: errors }, 'recording encoder failed');
      resolve();
    });
  });
  return { pcm: child.stdin, finished };
}
