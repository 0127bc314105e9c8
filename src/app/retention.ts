// The daily retention job: calls older than RETENTION_AUDIO_DAYS lose their audio (the objects in
// storage, then the row is marked deleted so the call page says "audio deleted after N days"), and
// calls older than RETENTION_TRANSCRIPT_DAYS lose their turns (with their metrics) and scorecard.
// 0 days keeps them. Only finished calls are touched; re-running deletes nothing twice.
import { and, inArray, isNull, lt, ne, sql } from 'drizzle-orm';
import { calls, recordings, scorecards, turns } from '../adapters/db/schema.js';
import type { ObjectStorage } from './object_storage.js';
import type { AppLogger } from './ports.js';
import { recordingPrefix } from './recording_files.js';
import type { Database } from '../adapters/db/client.js';

export interface RetentionSettings {
  audioDays: number;
  transcriptDays: number;
}

export interface RetentionDeps {
  db: Database;
  storage: ObjectStorage;
  logger: AppLogger;
  now?: () => Date;
}

export interface RetentionResult {
  recordingsDeleted: number;
  objectsDeleted: number;
  transcriptsDeleted: number;
}

export const RETENTION_JOB = 'retention-daily';
const FINISHED = ['completed', 'failed', 'abandoned'] as const;
const DAY_MS = 86_400_000;

export async function applyRetention(deps: RetentionDeps, settings: RetentionSettings): Promise<RetentionResult> {
  const now = deps.now ? deps.now() : new Date();
  const result: RetentionResult = { recordingsDeleted: 0, objectsDeleted: 0, transcriptsDeleted: 0 };

  if (settings.audioDays > 0) {
    const cutoff = new Date(now.getTime() - settings.audioDays * DAY_MS);
    const due = await deps.db
      .select({ callId: recordings.callId })
      .from(recordings)
      .innerJoin(calls, sql`${calls.id} = ${recordings.callId}`)
      .where(and(ne(recordings.status, 'deleted'), lt(calls.createdAt, cutoff), inArray(calls.status, [...FINISHED])));
    for (const { callId } of due) {
      // Objects first: a row marked deleted with audio still stored would never be cleaned again.
      result.objectsDeleted += await deps.storage.deletePrefix(recordingPrefix(callId));
      await deps.db
        .update(recordings)
        .set({ status: 'deleted', deletedAt: now, deletedReason: 'retention', retentionDays: settings.audioDays })
        .where(sql`${recordings.callId} = ${callId}`);
      result.recordingsDeleted += 1;
    }
  }

  if (settings.transcriptDays > 0) {
    const cutoff = new Date(now.getTime() - settings.transcriptDays * DAY_MS);
    result.transcriptsDeleted = await deps.db.transaction(async (tx) => {
      const due = await tx
        .update(calls)
        .set({ transcriptDeletedAt: now })
        .where(and(isNull(calls.transcriptDeletedAt), lt(calls.createdAt, cutoff), inArray(calls.status, [...FINISHED])))
        .returning({ id: calls.id });
      const ids = due.map((row) => row.id);
      if (ids.length > 0) {
        // turn_metrics go with their turns (on delete cascade).
        await tx.delete(turns).where(inArray(turns.callId, ids));
        await tx.delete(scorecards).where(inArray(scorecards.callId, ids));
      }
      return ids.length;
    });
  }

  deps.logger.info({ ...result, audioDays: settings.audioDays, transcriptDays: settings.transcriptDays }, 'retention applied');
  return result;
}
