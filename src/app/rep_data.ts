// A rep's data, for an admin: export it as one zip archive (profile, assignments, calls with
// turns, metrics, scorecards, analytics and email deliveries, and the recordings), or delete all of
// it: calls and everything hanging off them, the audio in storage, assignments, sign-in tokens, API
// tokens, web sessions, PIN attempts from their numbers, login throttling, and the user row. Both
// are audited. Deleting is safe to re-run: storage goes first, so an interrupted run is finished
// by the next one, and a rep who is already gone is reported as such. The audit row it leaves
// holds the id and counts, nothing personal.
import type { Readable } from 'node:stream';
import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import yazl from 'yazl';
import {
  apiTokens,
  assignments,
  auditLog,
  calls,
  emailDeliveries,
  loginThrottle,
  pinAttempts,
  recordings,
  scorecards,
  sessions,
  signInTokens,
  turnMetrics,
  turns,
  users,
} from '../adapters/db/schema.js';
import { assertAdmin, type Actor } from '../domain/access.js';
import { invalidInput, notFound } from '../domain/errors.js';
import { recordAudit } from './audit.js';
import { accountKey } from './login_throttle.js';
import { openRecordingFile, recordingPrefix } from './recording_files.js';
import { type AppDeps, parseId } from './use_case.js';

type Deps = Pick<AppDeps, 'db' | 'storage'>;

/** Both actions are confirmed by restating the rep's email (web form, API body, CLI prompt or flag). */
export interface RepDataRequest {
  id: string;
  confirmEmail: string;
}

async function loadRep(deps: Deps, request: RepDataRequest) {
  const [rep] = await deps.db.select().from(users).where(eq(users.id, parseId(request.id, 'user'))).limit(1);
  if (!rep) return undefined;
  if (rep.role !== 'rep') throw invalidInput('only a rep\'s data can be exported or deleted here');
  if (request.confirmEmail.trim().toLowerCase() !== rep.email.toLowerCase()) {
    throw invalidInput('confirm by giving the rep\'s email address', { confirmEmail: 'does not match the rep\'s email' });
  }
  return rep;
}

export interface RepExport {
  filename: string;
  archive: Readable;
  counts: { calls: number; recordings: number };
}

/** One zip: profile.json, assignments.json, calls.json and recordings/<callId>.ogg. */
export async function exportRepData(deps: Deps, actor: Actor, request: RepDataRequest): Promise<RepExport> {
  assertAdmin(actor);
  const rep = await loadRep(deps, request);
  if (!rep) throw notFound('user');
  const repId = rep.id;
  const { passwordHash: _password, ...profile } = rep;
  const repAssignments = (await deps.db.select().from(assignments).where(eq(assignments.repId, repId))).map(({ pinHash: _pin, ...rest }) => rest);
  const callRows = await deps.db.select().from(calls).where(eq(calls.repId, repId)).orderBy(asc(calls.createdAt));
  const callIds = callRows.map((call) => call.id);
  const [turnRows, scorecardRows, deliveryRows, recordingRows] = callIds.length === 0
    ? [[], [], [], []]
    : await Promise.all([
        deps.db.select({ turn: turns, metrics: turnMetrics }).from(turns).leftJoin(turnMetrics, eq(turnMetrics.turnId, turns.id)).where(inArray(turns.callId, callIds)).orderBy(asc(turns.seq)),
        deps.db.select().from(scorecards).where(inArray(scorecards.callId, callIds)),
        deps.db.select().from(emailDeliveries).where(inArray(emailDeliveries.callId, callIds)),
        deps.db.select().from(recordings).where(inArray(recordings.callId, callIds)),
      ]);
  const exported = callRows.map((call) => ({
    ...call,
    turns: turnRows.filter((row) => row.turn.callId === call.id).map((row) => ({ ...row.turn, metrics: row.metrics })),
    scorecard: scorecardRows.find((row) => row.callId === call.id) ?? null,
    emailDeliveries: deliveryRows.filter((row) => row.callId === call.id),
    recording: recordingRows.find((row) => row.callId === call.id) ?? null,
  }));

  const zip = new yazl.ZipFile();
  const json = (value: unknown) => Buffer.from(`${JSON.stringify(value, null, 2)}\n`);
  zip.addBuffer(json(profile), 'profile.json');
  zip.addBuffer(json(repAssignments), 'assignments.json');
  zip.addBuffer(json(exported), 'calls.json');
  let recorded = 0;
  for (const row of recordingRows) {
    if (row.status === 'deleted' || !deps.storage) continue;
    const file = await openRecordingFile(deps.storage, row.callId);
    if (!file) continue;
    // Opus is already compressed: stored, not deflated again.
    zip.addReadStream(file.open(), `recordings/${row.callId}.ogg`, { compress: false, size: file.size });
    recorded += 1;
  }
  zip.end();
  await recordAudit(deps.db, actor, { action: 'rep.exported', entityType: 'user', entityId: repId, details: { calls: callRows.length, recordings: recorded } });
  return { filename: `practice-line-rep-${repId}.zip`, archive: zip.outputStream as unknown as Readable, counts: { calls: callRows.length, recordings: recorded } };
}

export type RepDeletion =
  | { status: 'deleted'; calls: number; recordingObjects: number }
  | { status: 'already_deleted' };

export async function deleteRepData(deps: Deps, actor: Actor, request: RepDataRequest): Promise<RepDeletion> {
  assertAdmin(actor);
  const rep = await loadRep(deps, request);
  if (!rep) return { status: 'already_deleted' };
  const repId = rep.id;
  const callIds = (await deps.db.select({ id: calls.id }).from(calls).where(eq(calls.repId, repId))).map((row) => row.id);
  if (callIds.length > 0 && !deps.storage) throw new Error('recording storage is not configured; cannot delete the rep\'s recordings');

  // Audio first: if anything after this fails, the rep is still there and a re-run finishes the job.
  let recordingObjects = 0;
  for (const callId of callIds) recordingObjects += (await deps.storage?.deletePrefix(recordingPrefix(callId))) ?? 0;

  await deps.db.transaction(async (tx) => {
    // Turns, turn metrics, scorecards, email deliveries and recording rows go with their calls (cascade).
    if (callIds.length > 0) await tx.delete(calls).where(inArray(calls.id, callIds));
    await tx.delete(assignments).where(eq(assignments.repId, repId));
    await tx.delete(signInTokens).where(eq(signInTokens.userId, repId));
    await tx.delete(apiTokens).where(eq(apiTokens.userId, repId));
    await tx.delete(sessions).where(sql`${sessions.sess}->>'userId' = ${repId}`);
    if (rep.phoneNumbers.length > 0) await tx.delete(pinAttempts).where(inArray(pinAttempts.callerNumber, rep.phoneNumbers));
    await tx.delete(loginThrottle).where(eq(loginThrottle.accountKey, accountKey(rep.email)));
    // Earlier audit rows about the rep keep what happened, not who it was.
    await tx.update(auditLog).set({ details: sql`jsonb_build_object('redacted', true)` }).where(and(eq(auditLog.entityType, 'user'), eq(auditLog.entityId, repId)));
    await tx.delete(users).where(eq(users.id, repId));
    await recordAudit(tx, actor, {
      action: 'rep.deleted',
      entityType: 'user',
      entityId: repId,
      details: { calls: callIds.length, recordingObjects },
    });
  });
  return { status: 'deleted', calls: callIds.length, recordingObjects };
}
