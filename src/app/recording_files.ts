// How a call's recording lies in storage: one Ogg/Opus byte stream cut into consecutive chunks,
// `recordings/<callId>/chunk-000001.ogg`, ... uploaded as the call goes (a crash loses only the
// chunk in progress). Byte-concatenating the chunks in key order gives back the stream, so a
// reader serves them as one file, range requests included.
import { PassThrough, type Readable } from 'node:stream';
import type { ByteRange, ObjectStorage, StoredObject } from './object_storage.js';

export const RECORDING_CONTENT_TYPE = 'audio/ogg';

export function recordingPrefix(callId: string): string {
  return `recordings/${callId}/`;
}

export function recordingChunkKey(callId: string, index: number): string {
  return `${recordingPrefix(callId)}chunk-${String(index).padStart(6, '0')}.ogg`;
}

export interface RecordingFile {
  size: number;
  /** The bytes of `range` (inclusive), or of the whole recording. */
  open(range?: ByteRange): Readable;
}

/** The call's recording as one file, or undefined when storage holds none. */
export async function openRecordingFile(storage: ObjectStorage, callId: string): Promise<RecordingFile | undefined> {
  const chunks = (await storage.list(recordingPrefix(callId))).filter((object) => object.key.endsWith('.ogg'));
  if (chunks.length === 0) return undefined;
  const size = chunks.reduce((total, chunk) => total + chunk.size, 0);
  return { size, open: (range) => concatenate(storage, chunks, range ?? { start: 0, end: size - 1 }) };
}

function concatenate(storage: ObjectStorage, chunks: readonly StoredObject[], range: ByteRange): Readable {
  const out = new PassThrough();
  void (async () => {
    let offset = 0;
    for (const chunk of chunks) {
      const first = offset;
      const last = offset + chunk.size - 1;
      offset += chunk.size;
      if (last < range.start || first > range.end || chunk.size === 0) continue;
      const part = await storage.read(chunk.key, { start: Math.max(range.start, first) - first, end: Math.min(range.end, last) - first });
      if (part === undefined) throw new Error(`recording chunk ${chunk.key} vanished`);
      for await (const bytes of part) {
        if (!out.write(bytes)) await new Promise((resolve) => out.once('drain', resolve));
      }
    }
    out.end();
  })().catch((error: unknown) => out.destroy(error instanceof Error ? error : new Error(String(error))));
  return out;
}
