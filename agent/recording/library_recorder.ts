// The @livekit/agents recorder (voice/recorder_io), reused for what it does carefully: placing the
// persona's audio on the timeline as it actually played (an interrupted reply stops where the
// caller heard it stop) and the caller's audio as it arrived, settled every 2.5 s into stereo
// PCM (caller left, persona right). The package exports only its entry point, so the module is
// loaded by file; the pinned version (package.json: exactly 1.9.0) is what this was written
// against, and agent/recording/call_recorder.test.ts fails if its shape changes.
//
// What we change: the library hands the PCM to fluent-ffmpeg writing a file at its default
// bitrate; `encodeWith` replaces that one step so the encoder is ours (bitrate, Ogg pages piped
// out as they are made, chunked to storage).
import type { voice } from '@livekit/agents';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Writable } from 'node:stream';
import { pathToFileURL } from 'node:url';

export interface LibraryRecorder {
  recordInput(input: Pick<voice.AudioInput, 'stream' | 'setAttached' | 'onAttached' | 'onDetached'>): voice.AudioInput;
  recordOutput(output: voice.AudioOutput): voice.AudioOutput;
  start(outputPath: string): Promise<void>;
  close(): Promise<void>;
  /** Wall time (ms) of sample 0; set by start(). */
  readonly recordingStartedAt: number | undefined;
}

/** What the library's encode step needs from an encoder: a PCM sink and a promise that it finished. */
export interface PcmEncoder {
  pcm: Writable;
  finished: Promise<void>;
}

interface RecorderInternals {
  pcmStream: Writable | undefined;
  ffmpegPromise: Promise<void> | undefined;
  startFFmpeg(): void;
}

type RecorderConstructor = new (options: { agentSession: voice.AgentSession; sampleRate: number }) => LibraryRecorder;

let loaded: Promise<RecorderConstructor> | undefined;

function loadRecorderClass(): Promise<RecorderConstructor> {
  loaded ??= (async () => {
    const entry = createRequire(import.meta.url).resolve('@livekit/agents');
    // The ESM file beside the entry: it shares voice/io.js (AudioInput/AudioOutput) with the session's copy.
    const url = pathToFileURL(join(dirname(entry), 'voice', 'recorder_io', 'recorder_io.js')).href;
    const module = (await import(url)) as { RecorderIO?: RecorderConstructor };
    if (typeof module.RecorderIO !== 'function') throw new Error('@livekit/agents no longer has voice/recorder_io RecorderIO');
    return module.RecorderIO;
  })();
  return loaded;
}

/** A library recorder whose stereo s16le PCM goes to `encoder()` instead of a file. */
export async function createLibraryRecorder(session: voice.AgentSession, sampleRate: number, encoder: () => PcmEncoder): Promise<LibraryRecorder> {
  const RecorderIO = await loadRecorderClass();
  const recorder = new RecorderIO({ agentSession: session, sampleRate });
  const internals = recorder as unknown as RecorderInternals;
  if (typeof internals.startFFmpeg !== 'function') throw new Error('@livekit/agents RecorderIO no longer has startFFmpeg');
  internals.startFFmpeg = function startEncoder(this: RecorderInternals) {
    if (this.pcmStream) return;
    const started = encoder();
    this.pcmStream = started.pcm;
    this.ffmpegPromise = started.finished;
  };
  return recorder;
}

/**
 * The ffmpeg @livekit/agents ships for its own recorder (@livekit/av, a prebuilt minimal ffmpeg
 * with libopus, inside the npm tarball: nothing is downloaded), else `ffmpeg` from PATH.
 */
export function bundledFfmpegPath(): string {
  try {
    const fromAgents = createRequire(createRequire(import.meta.url).resolve('@livekit/agents'));
    const av = fromAgents('@livekit/av') as { getFfmpegPath?: () => string | undefined };
    return av.getFfmpegPath?.() ?? 'ffmpeg';
  } catch {
    return 'ffmpeg';
  }
}
