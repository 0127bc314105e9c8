// The sweeper closes calls nobody reported the end of (agent died, no webhook), once past their
// scenario's time limit plus a grace period, through the same compare-and-set path as every other
// writer (recordCallEvent); and it runs by itself on a pg-boss schedule.
import { randomBytes } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { calls } from '../../src/adapters/db/schema.js';
import { createLogger } from '../../src/adapters/logger.js';
import { createPostCallQueue, type PostCallQueue } from '../../src/adapters/queue/post_call_queue.js';
import { makeOnCallEnded } from '../../src/app/finalize_call.js';
import { CALL_SWEEP_JOB, SWEPT_REASON, sweepOverdueCalls, UNRESOLVED_CALL_LIMIT_SECONDS, type SweepCallsDeps } from '../../src/app/sweep_calls.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { waitFor } from '../support/wait.js';
import { createCall, createWorld, type World } from '../post_call/fixtures.js';

const logger = createLogger({ level: 'silent', redactPii: false });
const GRACE = 120;

let database: TestDatabase;
let queue: PostCallQueue;
let world: World;
let deps: SweepCallsDeps;
let limitSeconds: number;
const deletedRooms: string[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  queue = createPostCallQueue({ pool: database.pool, logger, scheduleCheckSeconds: 1 });
  await queue.start();
  world = await createWorld(database.db);
  limitSeconds = (await database.pool.query('select time_limit_seconds from scenarios where id = $1', [world.scenarioId])).rows[0].time_limit_seconds;
  const onCallEnded = makeOnCallEnded({ pool: database.pool, enqueuePostCall: (callId, tx, delay) => queue.enqueue(callId, tx, delay), logger });
  deps = {
    db: database.db,
    onCallEnded,
    logger,
    graceSeconds: GRACE,
    // LiveKit's room service, as far as the sweeper uses it: the rooms it asked to delete.
    rooms: { deleteRoom: async (name) => void deletedRooms.push(name) },
  };
});

afterAll(async () => {
  await queue?.stop(5_000);
  await database?.close();
});

const row = async (id: string) => (await database.db.select().from(calls).where(eq(calls.id, id)))[0]!;

async function unresolvedCall(secondsAgo: number): Promise<string> {
  const [call] = await database.db
    .insert(calls)
    .values({ path: 'sip', status: 'ringing', roomName: `room-${randomBytes(6).toString('hex')}`, createdAt: new Date(Date.now() - secondsAgo * 1000) })
    .returning({ id: calls.id });
  return call!.id;
}

describe('sweepOverdueCalls', () => {
  it('closes a call past its time limit plus grace as failed, saying why, finalises it, and leaves the others alone', async () => {
    const overdue = await createCall(database.db, world, { secondsAgo: limitSeconds + GRACE + 30 });
    const withinGrace = await createCall(database.db, world, { secondsAgo: limitSeconds + GRACE - 30 });
    const stuckAtPin = await unresolvedCall(UNRESOLVED_CALL_LIMIT_SECONDS + GRACE + 5);
    const finished = await createCall(database.db, world, { secondsAgo: limitSeconds + GRACE + 600 });
    await database.db.update(calls).set({ status: 'completed', endedAt: new Date(Date.now() - 60_000), endReason: 'caller_hung_up' }).where(eq(calls.id, finished));

    const { swept } = await sweepOverdueCalls(deps);
    expect(swept.sort()).toEqual([overdue, stuckAtPin].sort());

    const closed = await row(overdue);
    expect(closed).toMatchObject({ status: 'failed', endReason: SWEPT_REASON, durationSeconds: limitSeconds });
    expect(closed.endedAt!.getTime() - closed.answeredAt!.getTime()).toBe(limitSeconds * 1000);
    expect(closed.finalizedAt).not.toBeNull();
    expect((await queue.jobsFor(overdue)).length).toBe(1);
    expect(deletedRooms).toContain(closed.roomName);

    expect(await row(stuckAtPin)).toMatchObject({ status: 'failed', endReason: SWEPT_REASON });
    expect(await row(withinGrace)).toMatchObject({ status: 'in_progress', endedAt: null, finalizedAt: null });
    expect(await row(finished)).toMatchObject({ status: 'completed', endReason: 'caller_hung_up' });

    // A second run finds nothing left to do.
    expect((await sweepOverdueCalls(deps)).swept).toEqual([]);
  });
});

describe('the sweep schedule', () => {
  it('runs the sweep by itself on pg-boss', async () => {
    const overdue = await createCall(database.db, world, { secondsAgo: limitSeconds + GRACE + 30 });
    await queue.every(CALL_SWEEP_JOB, '* * * * *', async () => {
      await sweepOverdueCalls(deps);
    });
    await waitFor('the scheduled sweep', async () => ((await row(overdue)).status === 'failed' ? true : undefined), 60_000);
    expect(await row(overdue)).toMatchObject({ endReason: SWEPT_REASON });
  });
});
