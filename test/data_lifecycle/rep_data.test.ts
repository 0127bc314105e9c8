// Export and delete a rep's data against a migrated database and the disk storage. Export is one
// zip with everything; delete leaves no row in any table with a foreign key to users that names the
// rep, no session, token or PIN attempt of theirs, no recording in storage, and one audit row with
// nothing personal in it. Both need the rep's email as confirmation; delete is safe to re-run.
import { execFileSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiTokens, auditLog, calls, emailDeliveries, pinAttempts, recordings, scorecards, sessions, signInTokens, turnMetrics, turns, users } from '../../src/adapters/db/schema.js';
import { createDiskStorage } from '../../src/adapters/storage/disk_storage.js';
import { recordingChunkKey, recordingPrefix } from '../../src/app/recording_files.js';
import { deleteRepData, exportRepData } from '../../src/app/rep_data.js';
import { systemActor } from '../../src/domain/access.js';
import { seedPracticeCall } from '../support/call_routing_world.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';

const root = mkdtempSync(join(tmpdir(), 'practice-line-rep-data-'));
const storage = createDiskStorage(root);
let database: TestDatabase;
let riley: Awaited<ReturnType<typeof seedPracticeCall>>;
let other: Awaited<ReturnType<typeof seedPracticeCall>>;
const rileyCalls: string[] = [];
let otherCall = '';

async function seedCallWithEverything(seed: typeof riley, audio: Buffer): Promise<string> {
  const [call] = await database.db
    .insert(calls)
    .values({ path: 'twilio', status: 'completed', roomName: `room-${Math.random().toString(36).slice(2)}`, assignmentId: seed.assignment.id, scenarioId: seed.scenario.id, personaId: seed.persona.id, repId: seed.rep.id, analytics: { repTalkRatio: 0.5 } })
    .returning();
  const id = call!.id;
  const [turn] = await database.db.insert(turns).values({ callId: id, seq: 0, speaker: 'rep', text: 'Hi, this is Riley.', startedAt: new Date(), endedAt: new Date() }).returning();
  await database.db.insert(turnMetrics).values({ turnId: turn!.id, sttMs: 120 });
  await database.db.insert(scorecards).values({ callId: id, status: 'scored', overallScore: 71, criteria: [], model: 'm', promptVersion: 'v' });
  await database.db.insert(emailDeliveries).values({ callId: id, recipient: seed.rep.email, status: 'sent' });
  await database.db.insert(recordings).values({ callId: id, status: 'complete', contentType: 'audio/ogg', startedAt: new Date(), durationMs: 1000, chunks: 2, bytes: audio.length });
  await storage.put(recordingChunkKey(id, 1), audio.subarray(0, 10), 'audio/ogg');
  await storage.put(recordingChunkKey(id, 2), audio.subarray(10), 'audio/ogg');
  return id;
}

beforeAll(async () => {
  database = await createTestDatabase();
  riley = await seedPracticeCall({ database, pinSecret: 'rep-data-pin-secret-0123456789abcdef0123' });
  other = await seedPracticeCall({ database, pinSecret: 'rep-data-pin-secret-0123456789abcdef0123' });
  rileyCalls.push(await seedCallWithEverything(riley, Buffer.from('OggS-riley-first-call-audio')));
  rileyCalls.push(await seedCallWithEverything(riley, Buffer.from('OggS-riley-second-call-audio')));
  otherCall = await seedCallWithEverything(other, Buffer.from('OggS-other-call-audio'));
  await database.db.insert(signInTokens).values({ userId: riley.rep.id, tokenHash: `hash-${riley.rep.id}`, purpose: 'sign_in', expiresAt: new Date(Date.now() + 60_000) });
  await database.db.insert(apiTokens).values({ userId: riley.rep.id, name: 'laptop', tokenHash: `api-${riley.rep.id}` });
  await database.db.insert(sessions).values({ sid: `sid-${riley.rep.id}`, sess: { cookie: {}, userId: riley.rep.id }, expire: new Date(Date.now() + 60_000) });
  await database.db.insert(sessions).values({ sid: `sid-${other.rep.id}`, sess: { cookie: {}, userId: other.rep.id }, expire: new Date(Date.now() + 60_000) });
  await database.db.insert(pinAttempts).values({ callerNumber: riley.rep.phoneNumbers[0]!, channel: 'twilio', success: true });
  await database.db.insert(auditLog).values({ action: 'user.created', entityType: 'user', entityId: riley.rep.id, details: { name: riley.rep.name, email: riley.rep.email } });
}, 60_000);

afterAll(async () => {
  await database?.close();
  rmSync(root, { recursive: true, force: true });
});

const deps = () => ({ db: database.db, storage });

describe("a rep's data", () => {
  it('exports one zip with the profile, assignments, calls (turns, metrics, scorecards, analytics) and recordings', async () => {
    await expect(exportRepData(deps(), systemActor, { id: riley.rep.id, confirmEmail: 'someone@else.test' })).rejects.toThrow(/confirm/);
    await expect(exportRepData(deps(), { userId: riley.manager.id, role: 'manager' }, { id: riley.rep.id, confirmEmail: riley.rep.email })).rejects.toThrow();

    const exported = await exportRepData(deps(), systemActor, { id: riley.rep.id, confirmEmail: riley.rep.email.toUpperCase() });
    const file = join(root, exported.filename);
    await pipeline(exported.archive, createWriteStream(file));
    const listing = execFileSync('unzip', ['-Z1', file]).toString().trim().split('\n').sort();
    expect(listing).toEqual(['assignments.json', 'calls.json', 'profile.json', ...rileyCalls.map((id) => `recordings/${id}.ogg`)].sort());
    const read = (name: string) => execFileSync('unzip', ['-p', file, name]);
    const profile = JSON.parse(read('profile.json').toString());
    expect(profile).toMatchObject({ id: riley.rep.id, email: riley.rep.email });
    expect(profile).not.toHaveProperty('passwordHash');
    expect(JSON.parse(read('assignments.json').toString())[0]).not.toHaveProperty('pinHash');
    const exportedCalls = JSON.parse(read('calls.json').toString());
    expect(exportedCalls).toHaveLength(2);
    expect(exportedCalls[0]).toMatchObject({ analytics: { repTalkRatio: 0.5 }, scorecard: { overallScore: 71 }, turns: [{ text: 'Hi, this is Riley.', metrics: { sttMs: 120 } }] });
    expect(read(`recordings/${rileyCalls[0]}.ogg`).toString()).toBe('OggS-riley-first-call-audio');
    const [audit] = await database.db.select().from(auditLog).where(eq(auditLog.action, 'rep.exported'));
    expect(audit).toMatchObject({ entityId: riley.rep.id, details: { calls: 2, recordings: 2 } });
  });

  it('deletes everything about the rep and nothing of anyone else, leaves one impersonal audit row, and re-runs safely', async () => {
    await expect(deleteRepData(deps(), systemActor, { id: riley.rep.id, confirmEmail: other.rep.email })).rejects.toThrow(/confirm/);
    expect(await deleteRepData(deps(), systemActor, { id: riley.rep.id, confirmEmail: riley.rep.email })).toEqual({ status: 'deleted', calls: 2, recordingObjects: 4 });

    // Every column anywhere that references users(id) is free of the rep.
    const references = await database.pool.query<{ table_name: string; column_name: string }>(`
      select kcu.table_name, kcu.column_name
      from information_schema.referential_constraints rc
      join information_schema.key_column_usage kcu on kcu.constraint_name = rc.constraint_name
      join information_schema.constraint_column_usage ccu on ccu.constraint_name = rc.unique_constraint_name
      where ccu.table_name = 'users' and ccu.column_name = 'id'`);
    expect(references.rows.length).toBeGreaterThan(5);
    for (const { table_name, column_name } of references.rows) {
      const found = await database.pool.query(`select count(*)::int as n from "${table_name}" where "${column_name}" = $1`, [riley.rep.id]);
      expect(found.rows[0].n, `${table_name}.${column_name}`).toBe(0);
    }
    // And the tables that name the rep without a foreign key.
    expect(await database.db.select().from(users).where(eq(users.id, riley.rep.id))).toHaveLength(0);
    for (const callId of rileyCalls) {
      expect(await database.db.select().from(calls).where(eq(calls.id, callId))).toHaveLength(0);
      expect(await database.db.select().from(recordings).where(eq(recordings.callId, callId))).toHaveLength(0);
      expect(await storage.list(recordingPrefix(callId))).toEqual([]);
    }
    expect(await database.db.select().from(sessions).where(sql`${sessions.sess}->>'userId' = ${riley.rep.id}`)).toHaveLength(0);
    expect(await database.db.select().from(pinAttempts).where(eq(pinAttempts.callerNumber, riley.rep.phoneNumbers[0]!))).toHaveLength(0);
    expect(await database.db.select().from(emailDeliveries).where(eq(emailDeliveries.recipient, riley.rep.email))).toHaveLength(0);
    const auditText = JSON.stringify(await database.db.select().from(auditLog));
    expect(auditText).not.toContain(riley.rep.email);
    expect(auditText).not.toContain(riley.rep.name === other.rep.name ? riley.rep.email : riley.rep.name);
    const [deleted] = await database.db.select().from(auditLog).where(eq(auditLog.action, 'rep.deleted'));
    expect(deleted).toMatchObject({ entityId: riley.rep.id, details: { calls: 2, recordingObjects: 4 } });

    // The other rep is untouched.
    expect(await database.db.select().from(calls).where(eq(calls.id, otherCall))).toHaveLength(1);
    expect((await storage.list(recordingPrefix(otherCall))).length).toBe(2);
    expect(await database.db.select().from(sessions).where(sql`${sessions.sess}->>'userId' = ${other.rep.id}`)).toHaveLength(1);

    expect(await deleteRepData(deps(), systemActor, { id: riley.rep.id, confirmEmail: riley.rep.email })).toEqual({ status: 'already_deleted' });
    expect(await database.db.select().from(auditLog).where(eq(auditLog.action, 'rep.deleted'))).toHaveLength(1);
  });
});
