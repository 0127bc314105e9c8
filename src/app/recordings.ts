// Listening to a call's recording: who may (the rep, their manager, admins: the call's own rule),
// and what the call page says about it (recorded or not, audio deleted after N days).
import { eq } from 'drizzle-orm';
import { calls, recordings, users } from '../adapters/db/schema.js';
import { type Actor, canSeeCallOf } from '../domain/access.js';
import { notFound } from '../domain/errors.js';
import { openRecordingFile, type RecordingFile } from './recording_files.js';
import { type AppDeps, parseId } from './use_case.js';

export type RecordingRow = typeof recordings.$inferSelect;

/** What the call page shows about the audio. */
export type RecordingState =
  | { kind: 'none' }
  | { kind: 'available'; startedAt: Date; durationMs: number | null; inProgress: boolean }
  | { kind: 'deleted'; reason: string | null; retentionDays: number | null };

export function recordingState(row: RecordingRow | undefined): RecordingState {
  if (!row) return { kind: 'none' };
  if (row.status === 'deleted') return { kind: 'deleted', reason: row.deletedReason, retentionDays: row.retentionDays };
  return { kind: 'available', startedAt: row.startedAt, durationMs: row.durationMs, inProgress: row.status === 'recording' };
}

export async function recordingOf(deps: Pick<AppDeps, 'db'>, callId: string): Promise<RecordingRow | undefined> {
  const [row] = await deps.db.select().from(recordings).where(eq(recordings.callId, callId)).limit(1);
  return row;
}

/** The call's audio for someone who may see the call; not found (never forbidden) for anyone else. */
export async function openCallRecording(deps: Pick<AppDeps, 'db' | 'storage'>, actor: Actor, id: string): Promise<RecordingFile> {
  const callId = parseId(id, 'call');
  const [head] = await deps.db
    .select({ rep: { id: users.id, role: users.role, managerId: users.managerId }, status: recordings.status })
    .from(calls)
    .leftJoin(users, eq(users.id, calls.repId))
    .leftJoin(recordings, eq(recordings.callId, calls.id))
    .where(eq(calls.id, callId))
    .limit(1);
  if (!head || !canSeeCallOf(actor, head.rep)) throw notFound('call');
  if (!deps.storage || head.status === null || head.status === 'deleted') throw notFound('recording');
  const file = await openRecordingFile(deps.storage, callId);
  if (!file) throw notFound('recording');
  return file;
}
