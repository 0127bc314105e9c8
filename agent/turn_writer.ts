// Writes each finished turn to Postgres as the call goes (docs/architecture.md step 6). Recording a turn never
// waits on the database: turns queue in memory and one background loop writes them in order,
// retrying with backoff while the database is unreachable, so a short outage delays turns instead
// of dropping them. Each write is idempotent on (call_id, seq), so a retry after a write that
// actually landed is harmless.
import { sql } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { Database } from '../src/adapters/db/client.js';
import { turnMetrics, turns } from '../src/adapters/db/schema.js';
import type { TurnRecord } from './turns.js';

export interface TurnWriterOptions {
  db: Database;
  logger: Logger;
  /** Known at once on the Twilio path; set later on the direct-trunk path once the PIN resolves. */
  callId?: string;
  retryDelayMs?: number;
  maxRetryDelayMs?: number;
  /** One write attempt is abandoned (and retried) after this long, so a hung connection cannot stall the queue. */
  attemptTimeoutMs?: number;
}

export interface TurnWriter {
  setCallId(callId: string): void;
  /** Queues a turn; returns its sequence number at once. */
  record(turn: TurnRecord): number;
  /** Turns not yet written. */
  readonly pending: number;
  /** Waits until every queued turn is written, or the timeout passes; returns how many are left. */
  drain(timeoutMs: number): Promise<number>;
}

interface Queued {
  seq: number;
  turn: TurnRecord;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`database write took longer than ${ms} ms`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

export function createTurnWriter(options: TurnWriterOptions): TurnWriter {
  const { db, logger } = options;
  const retryDelayMs = options.retryDelayMs ?? 250;
  const maxRetryDelayMs = options.maxRetryDelayMs ?? 5000;
  const attemptTimeoutMs = options.attemptTimeoutMs ?? 5000;
  let callId = options.callId;
  let nextSeq = 1;
  // A re-dispatched job continues the call's sequence after the turns earlier jobs wrote (read
  // once, before this writer's first write), instead of colliding with them on (call_id, seq).
  let seqBase: number | undefined;
  const queue: Queued[] = [];
  let loop: Promise<void> | undefined;
  let idleWaiters: (() => void)[] = [];

  // One statement, so a connection dying mid-write leaves nothing half-done.
  async function write(callIdNow: string, { seq, turn }: Queued): Promise<void> {
    const insertTurn = sql`insert into ${turns} (${sql.identifier(turns.callId.name)}, ${sql.identifier(turns.seq.name)}, ${sql.identifier(turns.speaker.name)}, ${sql.identifier(turns.text.name)}, ${sql.identifier(turns.startedAt.name)}, ${sql.identifier(turns.endedAt.name)}, ${sql.identifier(turns.interrupted.name)}, ${sql.identifier(turns.personaId.name)})
      values (${callIdNow}, ${seq}, ${turn.speaker}, ${turn.text}, ${turn.startedAt.toISOString()}::timestamptz, ${turn.endedAt.toISOString()}::timestamptz, ${turn.interrupted}, ${turn.personaId ?? null}::uuid)
      on conflict (${sql.identifier(turns.callId.name)}, ${sql.identifier(turns.seq.name)}) do nothing returning ${sql.identifier(turns.id.name)}`;
    if (turn.metrics === undefined) {
      await db.execute(insertTurn);
      return;
    }
    const m = turn.metrics;
    await db.execute(sql`with inserted as (${insertTurn}),
      target as (
        select ${sql.identifier(turns.id.name)} as id from inserted
        union all
        select ${sql.identifier(turns.id.name)} from ${turns} where ${sql.identifier(turns.callId.name)} = ${callIdNow} and ${sql.identifier(turns.seq.name)} = ${seq}
        limit 1
      )
      insert into ${turnMetrics} (${sql.identifier(turnMetrics.turnId.name)}, ${sql.identifier(turnMetrics.endOfUtteranceDelayMs.name)}, ${sql.identifier(turnMetrics.sttMs.name)}, ${sql.identifier(turnMetrics.llmTtftMs.name)}, ${sql.identifier(turnMetrics.ttsTtfbMs.name)}, ${sql.identifier(turnMetrics.endToEndMs.name)}, ${sql.identifier(turnMetrics.speculativeLeadMs.name)})
      select id, ${m.endOfUtteranceDelayMs}::real, ${m.sttMs}::real, ${m.llmTtftMs}::real, ${m.ttsTtfbMs}::real, ${m.endToEndMs}::real, ${m.speculativeLeadMs}::real from target
      on conflict do nothing`);
  }

  async function lastStoredSeq(callIdNow: string): Promise<number> {
    const result = await db.execute<{ last: number }>(
      sql`select coalesce(max(${sql.identifier(turns.seq.name)}), 0)::int as last from ${turns} where ${sql.identifier(turns.callId.name)} = ${callIdNow}`,
    );
    return result.rows[0]?.last ?? 0;
  }

  async function run(): Promise<void> {
    let delay = retryDelayMs;
    while (queue.length > 0 && callId !== undefined) {
      const next = queue[0]!;
      try {
        seqBase ??= await withTimeout(lastStoredSeq(callId), attemptTimeoutMs);
        await withTimeout(write(callId, { seq: seqBase + next.seq, turn: next.turn }), attemptTimeoutMs);
        queue.shift();
        delay = retryDelayMs;
      } catch (error) {
        logger.warn({ err: error, seq: next.seq, pending: queue.length, retryInMs: delay }, 'turn write failed; keeping it queued');
        await sleep(delay);
        delay = Math.min(delay * 2, maxRetryDelayMs);
      }
    }
    loop = undefined;
    const waiters = idleWaiters;
    idleWaiters = [];
    for (const wake of waiters) wake();
  }

  function kick(): void {
    if (loop === undefined && callId !== undefined && queue.length > 0) loop = run();
  }

  return {
    setCallId(id) {
      callId = id;
      kick();
    },
    record(turn) {
      const seq = nextSeq++;
      queue.push({ seq, turn });
      kick();
      return seq;
    },
    get pending() {
      return queue.length;
    },
    async drain(timeoutMs) {
      kick();
      if (queue.length === 0 || callId === undefined) return queue.length;
      await Promise.race([new Promise<void>((resolve) => idleWaiters.push(resolve)), sleep(timeoutMs)]);
      return queue.length;
    },
  };
}
