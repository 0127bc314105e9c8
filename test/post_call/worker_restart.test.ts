// The dispatch service restarting while a post-call email is on the wire: a graceful stop lets the
// send in hand finish and be recorded, and the next worker sends nothing more.
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emailDeliveries } from '../../src/adapters/db/schema.js';
import { createLogger } from '../../src/adapters/logger.js';
import { createSmtpMailer } from '../../src/adapters/mail/mailer.js';
import { createPostCallQueue, type PostCallQueue } from '../../src/adapters/queue/post_call_queue.js';
import { finalizeCall } from '../../src/app/finalize_call.js';
import { runPostCall, type PostCallDeps } from '../../src/app/post_call.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { startSmtpSink, type SmtpSink } from '../support/smtp_sink.js';
import { createCall, createWorld } from './fixtures.js';

const logger = createLogger({ level: 'silent', redactPii: false });
let database: TestDatabase;
let smtp: SmtpSink;
let deps: PostCallDeps;
const queues: PostCallQueue[] = [];

async function startWorker(): Promise<PostCallQueue> {
  const queue = createPostCallQueue({ pool: database.pool, logger, retryDelaySeconds: 1, pollingIntervalSeconds: 0.5 });
  queues.push(queue);
  await queue.start();
  await queue.work((job) => runPostCall(deps, job).then(() => undefined));
  return queue;
}

beforeAll(async () => {
  database = await createTestDatabase();
  smtp = await startSmtpSink();
  // No Groq: the scorecard is stored as unavailable at once, so the job goes straight to the emails.
  deps = {
    db: database.db,
    scorecardModel: null,
    mailer: createSmtpMailer({ host: smtp.host, port: smtp.port, secure: false, from: 'Practice Line <coach@practice.test>' }),
    publicBaseUrl: 'https://practice.example.com',
    logger,
  };
});

afterAll(async () => {
  for (const queue of queues) await queue.stop(5_000);
  await smtp?.stop();
  await database?.close();
});

describe('a worker restart mid-send', () => {
  it('finishes the email in hand on a graceful stop; the next worker sends nothing more', async () => {
    const world = await createWorld(database.db);
    const callId = await createCall(database.db, world);
    smtp.setDataDelay(2000);
    const first = await startWorker();
    await finalizeCall({ pool: database.pool, enqueuePostCall: (id, tx, delaySeconds) => first.enqueue(id, tx, delaySeconds) }, { callId, trigger: 'agent' });

    const deadline = Date.now() + 30_000;
    while (smtp.started === 0) {
      if (Date.now() > deadline) throw new Error('the first email never reached the SMTP server');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(smtp.messages).toHaveLength(0); // the DATA reply is still being held
    await first.stop(20_000);

    const afterStop = await database.db.select().from(emailDeliveries).where(eq(emailDeliveries.callId, callId));
    expect(afterStop.map((d) => [d.status, d.attempts])).toEqual([['sent', 1], ['sent', 1]]);
    smtp.setDataDelay(0);

    const second = await startWorker();
    const jobState = async () => (await second.jobsFor(callId))[0]?.state;
    const until = Date.now() + 15_000;
    while ((await jobState()) !== 'completed' && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await jobState()).toBe('completed');
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(smtp.messages).toHaveLength(2);
  });
});
