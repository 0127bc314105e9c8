// The recordings row as the agent writes it: begun when the recorder starts (its `startedAt` is
// offset 0 of the audio, which turn offsets are measured from), kept up to date as chunks are
// stored, completed with the duration when the call ends. A crash leaves it 'recording' with the
// chunks stored so far, which still play.
import { eq, sql } from 'drizzle-orm';
import type { Database } from '../../src/adapters/db/client.js';
import { recordings } from '../../src/adapters/db/schema.js';
import { RECORDING_CONTENT_TYPE } from '../../src/app/recording_files.js';

export interface RecordingStore {
  begin(callId: string, startedAt: Date): Promise<void>;
  stored(callId: string, progress: { chunks: number; bytes: number }): Promise<void>;
  complete(callId: string, result: { durationMs: number; chunks: number; bytes: number }): Promise<void>;
}

export function createRecordingStore(db: Database): RecordingStore {
  return {
    async begin(callId, startedAt) {
      await db.insert(recordings).values({ callId, startedAt, contentType: RECORDING_CONTENT_TYPE, status: 'recording' }).onConflictDoNothing();
    },
    async stored(callId, progress) {
      await db
        .update(recordings)
        .set({ chunks: sql`greatest(${recordings.chunks}, ${progress.chunks})`, bytes: sql`greatest(coalesce(${recordings.bytes}, 0), ${progress.bytes})` })
        .where(eq(recordings.callId, callId));
    },
    async complete(callId, result) {
      await db
        .update(recordings)
        .set({ status: sql`case when ${recordings.status} = 'deleted' then ${recordings.status} else 'complete' end`, durationMs: result.durationMs, chunks: result.chunks, bytes: result.bytes })
        .where(eq(recordings.callId, callId));
    },
  };
}
