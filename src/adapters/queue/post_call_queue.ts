// The post-call job queue on pg-boss (Postgres-backed; v10 is the last line that runs on Node 20).
import PgBoss from 'pg-boss';
import type pg from 'pg';
import type { Logger } from '../logger.js';
import { finalizeCall, type FinalizeCallInput, type FinalizeCallResult } from '../../app/finalize_call.js';
import { poolExecutor, type SqlExecutor } from '../db/transaction.js';

export const POST_CALL_QUEUE = 'post-call';

export interface PostCallJobData {
  callId: string;
}

export interface PostCallJobContext {
  callId: string;
  /** Retries already used; 0 on the first run. */
  retryCount: number;
  /** True when a failure now is final: pg-boss will not run the job again. */
  finalAttempt: boolean;
}

export interface PostCallQueueOptions {
  pool: pg.Pool;
  logger: Logger;
  /** Runs after the first failure (default 6: with backoff from 30 s, about an hour of SMTP outage). */
  retryLimit?: number;
  /** First retry delay; doubled (with jitter) on each further retry. */
  retryDelaySeconds?: number;
  pollingIntervalSeconds?: number;
  /** How often pg-boss looks for due schedules (`every`); default 30 s. Tests shorten it. */
  scheduleCheckSeconds?: number;
}

export interface PostCallQueue {
  /** Installs or migrates pg-boss's tables and creates the queue; the worker needs it, `enqueue` does not. */
  start(): Promise<void>;
  /**
   * Enqueues the job for a call, with the call id as the job id, so a second enqueue of the same
   * call is a no-op while the job is kept. Pass the finalising transaction as `tx` to make the
   * enqueue atomic with the row change. Returns false when the job already existed.
   */
  enqueue(callId: string, tx?: SqlExecutor, delaySeconds?: number): Promise<boolean>;
  /** Starts processing; a handler that throws has its job retried with backoff. */
  work(handler: (job: PostCallJobContext) => Promise<void>): Promise<void>;
  /**
   * Runs `handler` on a cron schedule, once per tick across every process sharing the database
   * (pg-boss keeps the schedule in Postgres and the queue holds one job at a time).
   */
  every(name: string, cron: string, handler: () => Promise<void>): Promise<void>;
  /** Stops fetching, waits up to `timeoutMs` for the job in hand, then releases it for a retry. */
  stop(timeoutMs?: number): Promise<void>;
  /** The job rows for a call (for tests and diagnostics). */
  jobsFor(callId: string): Promise<{ id: string; state: string; retryCount: number }[]>;
}

export class PostCallQueueMissingError extends Error {
  readonly code = 'post_call_queue_missing';
  constructor() {
    super('the post-call queue is not installed yet; the dispatch service creates it at start-up');
    this.name = 'PostCallQueueMissingError';
  }
}

const SCHEMA = 'pgboss';

export function createPostCallQueue(options: PostCallQueueOptions): PostCallQueue {
  const executor = poolExecutor(options.pool);
  const retryLimit = options.retryLimit ?? 6;
  const retryDelay = options.retryDelaySeconds ?? 30;
  // Our pool, not a second one: pg-boss polls, so it needs no dedicated LISTEN connection.
  const boss = new PgBoss({
    db: executor,
    schema: SCHEMA,
    supervise: true,
    schedule: true,
    ...(options.scheduleCheckSeconds === undefined ? {} : { cronMonitorIntervalSeconds: options.scheduleCheckSeconds, cronWorkerIntervalSeconds: options.scheduleCheckSeconds }),
    migrate: true,
    ...(options.pollingIntervalSeconds === undefined ? {} : { pollingIntervalSeconds: options.pollingIntervalSeconds }),
  });
  boss.on('error', (error) => options.logger.error({ err: error }, 'post-call queue error'));
  let started = false;
  let workerId: string | undefined;

  async function jobExists(callId: string, tx: SqlExecutor): Promise<boolean> {
    const { rows } = await tx.executeSql(
      `select 1 from ${SCHEMA}.job where name = $1 and id = $2 union all select 1 from ${SCHEMA}.archive where name = $1 and id = $2`,
      [POST_CALL_QUEUE, callId],
    );
    return rows.length > 0;
  }

  return {
    async start() {
      await boss.start();
      started = true;
      const queueOptions = { name: POST_CALL_QUEUE, retryLimit, retryDelay, retryBackoff: true, expireInSeconds: 15 * 60 };
      if (await boss.getQueue(POST_CALL_QUEUE)) await boss.updateQueue(POST_CALL_QUEUE, queueOptions);
      else await boss.createQueue(POST_CALL_QUEUE, queueOptions).catch(async (error: unknown) => {
        // Two processes starting at once: the loser finds the queue there.
        if (!(await boss.getQueue(POST_CALL_QUEUE))) throw error;
      });
    },

    async enqueue(callId, tx = executor, delaySeconds = 0) {
      // pg-boss inserts with ON CONFLICT DO NOTHING and joins the queue row: null means a job with
      // this id exists, or the queue does not.
      const id = await boss.send(POST_CALL_QUEUE, { callId } satisfies PostCallJobData, { id: callId, db: tx, ...(delaySeconds > 0 ? { startAfter: delaySeconds } : {}) });
      if (id !== null) {
        if (workerId) boss.notifyWorker(workerId);
        return true;
      }
      if (await jobExists(callId, tx)) return false;
      throw new PostCallQueueMissingError();
    },

    async work(handler) {
      if (!started) throw new Error('start() the post-call queue before work()');
      workerId = await boss.work<PostCallJobData>(
        POST_CALL_QUEUE,
        { batchSize: 1, includeMetadata: true },
        async ([job]) => {
          if (!job) return;
          await handler({ callId: job.data.callId, retryCount: job.retryCount, finalAttempt: job.retryCount >= job.retryLimit });
        },
      );
    },

    async every(name, cron, handler) {
      if (!started) throw new Error('start() the queue before scheduling work');
      const queueOptions = { name, policy: 'singleton' as const, retryLimit: 0, expireInSeconds: 5 * 60 };
      if (!(await boss.getQueue(name))) {
        await boss.createQueue(name, queueOptions).catch(async (error: unknown) => {
          if (!(await boss.getQueue(name))) throw error;
        });
      }
      await boss.schedule(name, cron);
      await boss.work(name, { batchSize: 1 }, async () => handler());
    },

    async stop(timeoutMs = 30_000) {
      if (!started) return;
      started = false;
      await boss.stop({ graceful: true, timeout: timeoutMs, wait: true, close: false });
    },

    async jobsFor(callId) {
      const { rows } = await executor.executeSql(
        `select id, state::text as state, retry_count as "retryCount" from ${SCHEMA}.job where name = $1 and id = $2
         union all select id, state::text, retry_count from ${SCHEMA}.archive where name = $1 and id = $2`,
        [POST_CALL_QUEUE, callId],
      );
      return rows as { id: string; state: string; retryCount: number }[];
    },
  };
}

/**
 * Finalisation for processes that do not run the worker (the agent): it needs only the database
 * pool; the job lands in the queue the dispatch service created and is run there.
 */
export function createCallFinalizer(options: { pool: pg.Pool; logger: Logger }): (input: FinalizeCallInput) => Promise<FinalizeCallResult> {
  const queue = createPostCallQueue({ pool: options.pool, logger: options.logger });
  return (input) => finalizeCall({ pool: options.pool, enqueuePostCall: (callId, tx, delaySeconds) => queue.enqueue(callId, tx, delaySeconds), logger: options.logger }, input);
}
