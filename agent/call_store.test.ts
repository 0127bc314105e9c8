// The agent's call row writes against a real database: the answer and the end go through the same
// CallEvents and compare-and-set as the webhooks, and the end finalises the call (post-call job).
import { eq } from 'drizzle-orm';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { calls } from '../src/adapters/db/schema.js';
import { createCallFinalizer, createPostCallQueue } from '../src/adapters/queue/post_call_queue.js';
import { recordCallEvent } from '../src/app/record_call_event.js';
import { createTestDatabase, type TestDatabase } from '../test/support/db.js';
import { createCallStore } from './call_store.js';

const logger = pino({ level: 'silent' });
const usage = { sttAudioSeconds: 20, llmPromptTokens: 3000, llmCompletionTokens: 200, ttsCharacters: 400, callSeconds: 95 };

describe('createCallStore', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
    // The dispatch service installs the post-call queue at start-up; the agent's finalisation enqueues into it.
    const queue = createPostCallQueue({ pool: database.pool, logger });
    await queue.start();
    await queue.stop();
  });
  afterAll(async () => {
    await database.close();
  });

  const newCall = async (roomName: string) => {
    const [row] = await database.db.insert(calls).values({ path: 'web', roomName, status: 'dispatching' }).returning({ id: calls.id });
    return row!.id;
  };
  const storeFor = () => createCallStore({ db: database.db, logger, finalize: createCallFinalizer({ pool: database.pool, logger }) });
  const callRow = async (callId: string) => (await database.db.select().from(calls).where(eq(calls.id, callId)))[0]!;

  it('marks the call answered, records provider errors, and closes it once with usage and cost', async () => {
    const callId = await newCall('room-store');
    const store = storeFor();
    await store.markAnswered(callId, new Date('2026-01-01T10:00:00Z'));
    await store.recordProviderError(callId, { at: new Date('2026-01-01T10:00:30Z'), provider: 'groq', message: 'llm 503' });
    await store.recordProviderError(callId, { at: new Date('2026-01-01T10:00:40Z'), provider: 'elevenlabs', message: 'tts closed' });
    await store.recordEnd(callId, { at: new Date('2026-01-01T10:01:35Z'), outcome: 'ended', reason: 'caller_hung_up', usage, estimatedCostUsd: 0.0512, unwrittenTurns: 0 });
    // A second close (e.g. a late shutdown path) must not overwrite the first.
    await store.recordEnd(callId, { at: new Date('2026-01-01T10:05:00Z'), outcome: 'failed', reason: 'late', usage, estimatedCostUsd: 0.0512, unwrittenTurns: 0 });

    const call = await callRow(callId);
    expect(call).toMatchObject({ status: 'completed', endReason: 'caller_hung_up', durationSeconds: 95, usage, estimatedCostUsd: '0.0512' });
    expect(call.answeredAt).toEqual(new Date('2026-01-01T10:00:00Z'));
    expect(call.providerErrors.map((error) => error.provider)).toEqual(['groq', 'elevenlabs']);
    expect(call.finalizedAt, 'the end finalises the call').not.toBeNull();
    expect(call.agentFinishedAt).not.toBeNull();
  });

  it('a failure ends the call as failed; an end without an answer is abandoned with no time on the clock', async () => {
    const failed = await newCall('room-store-failed');
    const store = storeFor();
    await store.markAnswered(failed, new Date('2026-01-01T10:00:00Z'));
    await store.recordEnd(failed, { at: new Date('2026-01-01T10:00:20Z'), outcome: 'failed', reason: 'providers_down', usage, estimatedCostUsd: 0.01, unwrittenTurns: 2 });
    expect(await callRow(failed)).toMatchObject({ status: 'failed', endReason: 'providers_down', durationSeconds: 20, transcriptIncomplete: true });

    const abandoned = await newCall('room-store-abandoned');
    await store.recordEnd(abandoned, { at: new Date(), outcome: 'ended', reason: 'caller_never_joined', usage, estimatedCostUsd: 0, unwrittenTurns: 0 });
    expect(await callRow(abandoned)).toMatchObject({ status: 'abandoned', endReason: 'caller_never_joined', durationSeconds: 0 });
  });

  it('keeps the status a webhook already set, and still reports usage and that the agent finished', async () => {
    const callId = await newCall('room-store-webhook-first');
    const store = storeFor();
    await store.markAnswered(callId, new Date('2026-01-01T10:00:00Z'));
    const finalize = createCallFinalizer({ pool: database.pool, logger });
    await recordCallEvent(
      { db: database.db, logger, onCallEnded: async (id) => void (await finalize({ callId: id, trigger: 'livekit' })) },
      { callId, event: { type: 'ended', at: new Date('2026-01-01T10:00:50Z'), reason: 'room_finished' }, trigger: 'livekit_webhook' },
    );
    await store.recordEnd(callId, { at: new Date('2026-01-01T10:01:00Z'), outcome: 'failed', reason: 'providers_down', usage, estimatedCostUsd: 0.02, unwrittenTurns: 0 });
    const call = await callRow(callId);
    expect(call).toMatchObject({ status: 'completed', endReason: 'room_finished', durationSeconds: 50, usage, estimatedCostUsd: '0.0200' });
    expect(call.agentFinishedAt).not.toBeNull();
  });
});
