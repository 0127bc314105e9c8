// Records one practice call as a stereo Ogg/Opus stream, rep left, persona right, stored in chunks
// as the call goes (docs/decisions/016-call-recordings.md). The caller's channel is their audio
// track as it arrives; the persona's is what the session played, cut where an interruption cut
// it (the library recorder, library_recorder.ts). Offset 0 is `startedAt` on the recordings row.
import type { voice } from '@livekit/agents';
import { type AudioFrame, AudioStream, type RemoteParticipant, type RemoteTrack, type Room, RoomEvent, TrackKind } from '@livekit/rtc-node';
import { join } from 'node:path';
import { ReadableStream } from 'node:stream/web';
import type { Logger } from 'pino';
import type { ObjectStorage } from '../../src/app/object_storage.js';
import { personaLines } from '../../src/domain/languages.js';
import { createChunkUploader } from './chunk_uploader.js';
import { createLibraryRecorder } from './library_recorder.js';
import { startOpusEncoder } from './opus_encoder.js';
import type { RecordingStore } from './recording_store.js';

/** Spoken before the persona's greeting whenever a call is recorded, in the persona's language (personaLines). */
export const RECORDING_DISCLOSURE = personaLines('en').recordingDisclosure;

/** 16 kHz: the session's own rate (the phone side is 8 kHz anyway). */
const SAMPLE_RATE = 16_000;
const FINISH_UPLOAD_TIMEOUT_MS = 10_000;

export interface CallRecorderSettings {
  enabled: boolean;
  storage: ObjectStorage;
  store: RecordingStore;
  spoolDir: string;
  ffmpegPath: string;
  bitrate: number;
  chunkMs: number;
}

export interface CallRecording {
  startedAt: Date;
  /** Flushes the last audio, stores the last chunks, completes the row. Safe to call twice. */
  stop(): Promise<void>;
}

export interface StartRecordingInput {
  session: voice.AgentSession;
  room: Room;
  caller: RemoteParticipant;
  callId: string;
  /** The scenario's own switch (room metadata); RECORDING_ENABLED is the global one. */
  scenarioAllows: boolean;
  logger: Logger;
}

/**
 * Records the call when recording is on for it, and says so before anything else is said, in the
 * persona's language: the disclosure is queued ahead of the greeting. The recording stops (last
 * chunks stored) at shutdown.
 */
export async function recordWithDisclosure(
  start: ((input: StartRecordingInput) => Promise<CallRecording | undefined>) | undefined,
  job: { addShutdownCallback(callback: () => Promise<void>): void },
  input: StartRecordingInput,
  language = 'en',
): Promise<void> {
  const recording = await start?.(input);
  if (!recording) return;
  job.addShutdownCallback(() => recording.stop());
  input.session.say(personaLines(language).recordingDisclosure, { addToChatCtx: false, allowInterruptions: false });
}

/** Starts recording when recording is on for this call; undefined when it is not (or could not start). */
export async function startCallRecording(settings: CallRecorderSettings, input: StartRecordingInput): Promise<CallRecording | undefined> {
  if (!settings.enabled || !input.scenarioAllows) return undefined;
  const { session, callId, logger } = input;
  const output = session.output.audio;
  if (!output) return undefined;
  try {
    const uploader = await createChunkUploader({
      storage: settings.storage,
      spoolDir: settings.spoolDir,
      callId,
      chunkMs: settings.chunkMs,
      logger,
      onStored: (stored) => void settings.store.stored(callId, stored).catch((error: unknown) => logger.warn({ err: error }, 'recording progress not saved')),
    });
    const recorder = await createLibraryRecorder(session, SAMPLE_RATE, () =>
      startOpusEncoder({ ffmpegPath: settings.ffmpegPath, sampleRate: SAMPLE_RATE, bitrate: settings.bitrate, onBytes: (bytes) => uploader.append(bytes), logger }),
    );
    const callerAudio = callerAudioStream(input.room, input.caller);
    const recordedInput = recorder.recordInput({ stream: callerAudio.stream, setAttached: () => undefined, onAttached: () => undefined, onDetached: () => undefined });
    void drain(recordedInput.stream);
    session.output.audio = recorder.recordOutput(output);
    await recorder.start(join(settings.spoolDir, callId, 'recording.ogg'));
    const startedAt = new Date(recorder.recordingStartedAt ?? Date.now());
    await settings.store.begin(callId, startedAt);
    logger.info({ callId, storage: settings.storage.kind }, 'recording started');

    let stopping: Promise<void> | undefined;
    return {
      startedAt,
      stop: () =>
        (stopping ??= (async () => {
          await recorder.close().catch((error: unknown) => logger.warn({ err: error }, 'recorder close failed'));
          const durationMs = Date.now() - startedAt.getTime();
          callerAudio.cancel();
          const left = await uploader.finish(FINISH_UPLOAD_TIMEOUT_MS);
          if (left > 0) logger.error({ callId, left }, 'recording chunks left in the spool; a later job uploads them');
          await settings.store.complete(callId, { durationMs, chunks: uploader.stored.chunks + left, bytes: uploader.stored.bytes }).catch((error: unknown) =>
            logger.warn({ err: error }, 'recording completion not saved'),
          );
          logger.info({ callId, durationMs, bytes: uploader.stored.bytes, chunks: uploader.stored.chunks }, 'recording stored');
        })()),
    };
  } catch (error) {
    // A recording problem never costs the rep their practice call.
    logger.error({ err: error, callId }, 'recording could not start; the call goes on unrecorded');
    return undefined;
  }
}

/** The caller's audio frames from the moment their track is subscribed; cancel() ends the stream. */
function callerAudioStream(room: Room, caller: RemoteParticipant): { stream: ReadableStream<AudioFrame>; cancel(): void } {
  let cancelled = false;
  let reader: ReadableStreamDefaultReader<AudioFrame> | undefined;
  let onSubscribed: ((track: RemoteTrack, _publication: unknown, participant: RemoteParticipant) => void) | undefined;
  const stream = new ReadableStream<AudioFrame>({
    start(controller) {
      const pump = async (track: RemoteTrack) => {
        if (onSubscribed) room.off(RoomEvent.TrackSubscribed, onSubscribed);
        reader = new AudioStream(track, { sampleRate: SAMPLE_RATE, numChannels: 1 }).getReader();
        try {
          for (;;) {
            const { done, value } = await reader.read();
            if (done || cancelled) break;
            controller.enqueue(value);
          }
        } catch {
          // the track went away
        }
        if (!cancelled) controller.close();
      };
      const subscribed = [...caller.trackPublications.values()].find((publication) => publication.kind === TrackKind.KIND_AUDIO && publication.track);
      if (subscribed?.track) {
        void pump(subscribed.track);
        return;
      }
      onSubscribed = (track, _publication, participant) => {
        if (participant.identity === caller.identity && track.kind === TrackKind.KIND_AUDIO) void pump(track);
      };
      room.on(RoomEvent.TrackSubscribed, onSubscribed);
    },
  });
  return {
    stream,
    cancel() {
      cancelled = true;
      if (onSubscribed) room.off(RoomEvent.TrackSubscribed, onSubscribed);
      void reader?.cancel().catch(() => undefined);
    },
  };
}

async function drain(stream: ReadableStream<AudioFrame>): Promise<void> {
  const reader = stream.getReader();
  try {
    for (;;) if ((await reader.read()).done) return;
  } catch {
    // closed with the recorder
  }
}
