// The retention job against a migrated database and the disk storage: exactly the finished calls
// past each window lose their audio (objects and row state) or their transcript; newer calls, calls
// still in progress and everything under a 0-day setting are kept; a second run deletes nothing.
import { eq } from 'drizzle-orm';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { calls, recordings, scorecards, turnMetrics, turns } from '../../src/adapters/db/schema.js';
import { createDiskStorage } from '../../src/adapters/storage/disk_storage.js';
import { recordingChunkKey, recordingPrefix } from '../../src/app/recording_files.js';
import { applyRetention } from '../../src/app/retention.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';

const NOW = new Date('2026-11-30T03:00:00.000Z');
const daysAgo = (days: number) => new Date(NOW.getTime() - days * 86_400_000);
const root = mkdtempSync(join(tmpdir(), 'practice-line-retention-'));
const storage = createDiskStorage(root);
let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database?.close();
  rmSync(root, { recursive: true, force: true });
});

async function seedCall(ageDays: number, status: 'completed' | 'in_progress' = 'completed') {
  const createdAt = daysAgo(ageDays);
  const [call] = await database.db.insert(calls).values({ path: 'twilio', status, roomName: `room-${Math.random().toString(36).slice(2)}`, createdAt }).returning();
  const id = call!.id;
  await database.db.insert(recordings).values({ callId: id, status: 'complete', contentType: 'audio/ogg', startedAt: createdAt, durationMs: 1000, chunks: 2, bytes: 6 });
  await storage.put(recordingChunkKey(id, 1), Buffer.from('abc'), 'audio/ogg');
  await storage.put(recordingChunkKey(id, 2), Buffer.from('def'), 'audio/ogg');
  const [turn] = await database.db.insert(turns).values({ callId: id, seq: 0, speaker: 'rep', text: 'hello', startedAt: createdAt, endedAt: createdAt }).returning();
  await database.db.insert(turnMetrics).values({ turnId: turn!.id });
  await database.db.insert(scorecards).values({ callId: id, status: 'scored', overallScore: 50, criteria: [], model: 'm', promptVersion: 'v' });
  return id;
}

const state = async (id: string) => {
  const [recording] = await database.db.select().from(recordings).where(eq(recordings.callId, id));
  const [call] = await database.db.select().from(calls).where(eq(calls.id, id));
  return {
    recording: recording!.status,
    retentionDays: recording!.retentionDays,
    objects: (await storage.list(recordingPrefix(id))).length,
    turns: (await database.db.select().from(turns).where(eq(turns.callId, id))).length,
    scorecards: (await database.db.select().from(scorecards).where(eq(scorecards.callId, id))).length,
    transcriptDeleted: call!.transcriptDeletedAt !== null,
  };
};

it('deletes exactly what is past each window, keeps the rest, and is safe to re-run', async () => {
  const old = await seedCall(100);
  const middle = await seedCall(45);
  const fresh = await seedCall(5);
  const stillLive = await seedCall(100, 'in_progress');
  const deps = { db: database.db, storage, logger: pino({ level: 'silent' }), now: () => NOW };

  // 0 keeps everything.
  expect(await applyRetention(deps, { audioDays: 0, transcriptDays: 0 })).toEqual({ recordingsDeleted: 0, objectsDeleted: 0, transcriptsDeleted: 0 });
  expect((await state(old)).objects).toBe(2);

  // Audio after 30 days, transcripts after 90.
  expect(await applyRetention(deps, { audioDays: 30, transcriptDays: 90 })).toEqual({ recordingsDeleted: 2, objectsDeleted: 4, transcriptsDeleted: 1 });
  expect(await state(old)).toEqual({ recording: 'deleted', retentionDays: 30, objects: 0, turns: 0, scorecards: 0, transcriptDeleted: true });
  expect(await state(middle)).toEqual({ recording: 'deleted', retentionDays: 30, objects: 0, turns: 1, scorecards: 1, transcriptDeleted: false });
  expect(await state(fresh)).toEqual({ recording: 'complete', retentionDays: null, objects: 2, turns: 1, scorecards: 1, transcriptDeleted: false });
  expect(await state(stillLive)).toEqual({ recording: 'complete', retentionDays: null, objects: 2, turns: 1, scorecards: 1, transcriptDeleted: false });
  expect(await database.db.select().from(turnMetrics)).toHaveLength(3);

  expect(await applyRetention(deps, { audioDays: 30, transcriptDays: 90 })).toEqual({ recordingsDeleted: 0, objectsDeleted: 0, transcriptsDeleted: 0 });
});
