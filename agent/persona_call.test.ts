// The agent's call logic in-process: the real session (createPersonaSession), persona agent, call
// ending, turn capture, provider-failure policy and time limit, with the real plugins pointed at
// the Groq and ElevenLabs emulators and a real database, but no room: the session runs text-only
// (agents-js `session.start({ agent })` without a room, `session.run({ userInput })`), so no
// telephony is needed. What only the phone can show (audio, BYE, barge-in timing) stays in
// test/agent/persona_call.test.ts.
import { initializeLogger } from '@livekit/agents';
import * as silero from '@livekit/agents-plugin-silero';
import { asc, eq } from 'drizzle-orm';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { calls, turns } from '../src/adapters/db/schema.js';
import { createCallFinalizer, createPostCallQueue } from '../src/adapters/queue/post_call_queue.js';
import type { ReadyRoomMetadata } from '../src/domain/room_metadata.js';
import { dianeCarterCall } from '../test/agent/agent_world.js';
import { startElevenLabsEmulator, type ElevenLabsEmulator } from '../test/emulators/elevenlabs_emulator.js';
import { startGroqEmulator, type GroqEmulator } from '../test/emulators/groq_emulator.js';
import { createTestDatabase, type TestDatabase } from '../test/support/db.js';
import { waitFor } from '../test/support/wait.js';
import { createCallStore } from './call_store.js';
import { assembleCall, type Call, converse, type PersonaCallDeps } from './persona_call.js';
import { PROVIDER_FALLBACK_LINE, PROVIDERS_DOWN_LINE } from './persona_instructions.js';
import { createTurnWriter } from './turn_writer.js';

const logger = pino({ level: 'silent' });
const OPENING = 'Diane Carter speaking. Who is this?';

let database: TestDatabase;
let groq: GroqEmulator;
let elevenlabs: ElevenLabsEmulator;
let deps: PersonaCallDeps;
const open: Call[] = [];

beforeAll(async () => {
  initializeLogger({ pretty: false, level: 'silent' });
  database = await createTestDatabase();
  const queue = createPostCallQueue({ pool: database.pool, logger });
  await queue.start();
  await queue.stop();
  groq = await startGroqEmulator({
    script: [
      { when: 'two minutes', reply: 'Two minutes. Go ahead.' },
      { when: 'goodbye', reply: 'Alright Riley, talk soon. Goodbye.', toolCalls: [{ name: 'end_call' }] },
      { when: 'hang up on me', reply: '', toolCalls: [{ name: 'end_call' }] },
      { when: (request) => JSON.stringify(request.messages).includes('Time is almost up'), reply: 'I have to go in a minute, let us wrap up.' },
    ],
  });
  elevenlabs = await startElevenLabsEmulator();
  deps = {
    logger,
    vad: await silero.VAD.load(),
    providers: {
      groqApiKey: groq.apiKey,
      groqBaseUrl: groq.url,
      sttModel: 'whisper-large-v3-turbo',
      elevenLabsApiKey: elevenlabs.apiKey,
      elevenLabsBaseUrl: elevenlabs.url,
      elevenLabsModel: 'eleven_flash_v2_5',
    },
    turns: {
      pipeline: 'overlapped',
      turnDetector: 'vad',
      endpointingMinDelayMs: 700,
      endpointingMaxDelayMs: 2000,
      sttSegmentSilenceMs: 200,
      sttEarlyRequestMs: 0,
      preemptiveMaxRetries: 5,
      interruptionMinDurationMs: 600,
      interruptionMinWords: 2,
    },
    defaultVoiceId: 'EXAVITQu4vr4xnYQH9Pm',
    wrapUpWarningSeconds: 2,
    callStore: createCallStore({ db: database.db, logger, finalize: createCallFinalizer({ pool: database.pool, logger }) }),
    createTurnWriter: (callId) => createTurnWriter({ db: database.db, logger, ...(callId === undefined ? {} : { callId }) }),
    resolvePin: () => Promise.reject(new Error('no PIN on a ready call')),
  };
}, 60_000);

afterEach(async () => {
  groq.knobs.reset();
  for (const call of open.splice(0)) await call.session.close().catch(() => undefined);
});

afterAll(async () => {
  await groq?.stop();
  await elevenlabs?.stop();
  await database?.close();
});

/** A call whose persona has greeted; hang-ups and shutdowns are recorded, and a shutdown records the end as the job would. */
async function startCall(scenario: Partial<ReadyRoomMetadata['scenario']> = {}) {
  const [row] = await database.db.insert(calls).values({ path: 'web', roomName: `room-${Math.random().toString(36).slice(2)}`, status: 'dispatching' }).returning({ id: calls.id });
  const metadata: ReadyRoomMetadata = { ...dianeCarterCall({ persona: { openingLine: OPENING }, scenario }), callId: row!.id };
  const io = { hangUps: 0, shutdowns: [] as string[], recorded: undefined as Promise<void> | undefined };
  const call = assembleCall({ hangUp: async () => void (io.hangUps += 1), shutdown: (reason) => {
    io.shutdowns.push(reason);
    io.recorded = call.recordEnd();
  } }, deps, metadata, logger);
  open.push(call);
  await call.session.start({ agent: call.persona(metadata), record: false });
  await converse(call, metadata, deps, logger);
  return { call, io, callId: metadata.callId };
}

const turnsOf = async (callId: string) => database.db.select().from(turns).where(eq(turns.callId, callId)).orderBy(asc(turns.seq));
const rowOf = async (callId: string) => (await database.db.select().from(calls).where(eq(calls.id, callId)))[0]!;
const finalised = (callId: string) => waitFor('call finalised', async () => ((await rowOf(callId)).finalizedAt ? rowOf(callId) : undefined), 20_000);

describe('a call in-process (no telephony)', () => {
  it('greets, stores each turn, and records the end when the caller hangs up', async () => {
    const { call, io, callId } = await startCall();
    await call.session.run({ userInput: 'Hi Diane, do you have two minutes?' }).wait();
    await call.ending.end('caller_hung_up');
    await io.recorded;
    const closed = await finalised(callId);
    expect(closed).toMatchObject({ status: 'completed', endReason: 'caller_hung_up' });
    expect(closed.answeredAt).not.toBeNull();
    expect(closed.usage?.llmPromptTokens).toBeGreaterThan(0);
    expect(Number(closed.estimatedCostUsd)).toBeGreaterThan(0);
    const stored = await turnsOf(callId);
    expect(stored.map((turn) => [turn.speaker, turn.text])).toEqual([
      ['persona', OPENING],
      ['rep', 'Hi Diane, do you have two minutes?'],
      ['persona', 'Two minutes. Go ahead.'],
    ]);
    expect(io).toMatchObject({ hangUps: 1, shutdowns: ['caller_hung_up'] });
  });

  it('end_call: the persona\'s own goodbye, one hang-up, completed as persona_ended', async () => {
    const { call, io, callId } = await startCall();
    const result = await call.session.run({ userInput: 'That is all I needed, thanks Diane, goodbye.' }).wait();
    result.expect.containsFunctionCall({ name: 'end_call' });
    await waitFor('hung up', async () => (io.hangUps > 0 ? true : undefined), 10_000);
    await io.recorded;
    expect(await finalised(callId)).toMatchObject({ status: 'completed', endReason: 'persona_ended' });
    const goodbyes = (await turnsOf(callId)).filter((turn) => turn.speaker === 'persona' && /goodbye/i.test(turn.text));
    expect(goodbyes.map((turn) => turn.text), 'one goodbye, not the model\'s plus a fallback').toEqual(['Alright Riley, talk soon. Goodbye.']);
    await call.ending.end('caller_hung_up');
    expect(io).toMatchObject({ hangUps: 1, shutdowns: ['persona_ended'] });
  });

  it('end_call without a goodbye in the reply: the persona says one before hanging up', async () => {
    const { call, io, callId } = await startCall();
    await call.session.run({ userInput: 'Just hang up on me then.' }).wait();
    await waitFor('hung up', async () => (io.hangUps > 0 ? true : undefined), 10_000);
    await io.recorded;
    const last = (await turnsOf(callId)).at(-1);
    expect(last).toMatchObject({ speaker: 'persona', text: 'Alright, thanks for calling. Goodbye.' });
  });

  it('wraps up before the time limit, then closes politely as time_limit', async () => {
    const { io, callId } = await startCall({ timeLimitSeconds: 3 });
    await waitFor('hung up at the time limit', async () => (io.hangUps > 0 ? true : undefined), 15_000);
    await io.recorded;
    expect(await finalised(callId)).toMatchObject({ status: 'completed', endReason: 'time_limit' });
    const persona = (await turnsOf(callId)).filter((turn) => turn.speaker === 'persona').map((turn) => turn.text);
    expect(persona, 'greeting, wrap-up, closing line').toEqual([OPENING, 'I have to go in a minute, let us wrap up.', expect.stringMatching(/next meeting/)]);
  });

  it('says a fallback line when the LLM fails a turn, records the failure, and carries on', async () => {
    const { call, io, callId } = await startCall();
    // Observed, not replaced: the fallback is said outside the chat context, so it is no turn.
    const say = vi.spyOn(call.session, 'say');
    groq.knobs.failNext('chat', { kind: 'status', status: 500 }, 3);
    await call.session.run({ userInput: 'Hi Diane, do you have two minutes?' }).wait().catch(() => undefined);
    await waitFor('provider error recorded', async () => ((await rowOf(callId)).providerErrors.length > 0 ? true : undefined), 15_000);
    expect((await rowOf(callId)).providerErrors[0]).toMatchObject({ provider: 'groq' });
    expect(say).toHaveBeenCalledWith(PROVIDER_FALLBACK_LINE, { addToChatCtx: false });
    expect(PROVIDER_FALLBACK_LINE).toContain('broke up');
    await call.session.run({ userInput: 'Can you hear me now? Do you have two minutes?' }).wait();
    await waitFor('the persona answers again', async () => ((await turnsOf(callId)).some((turn) => turn.speaker === 'persona' && turn.text === 'Two minutes. Go ahead.') ? true : undefined), 10_000);
    expect(call.ending.started).toBe(false);
    expect(io.hangUps).toBe(0);
  });

  it('ends the call politely, as failed, when the LLM stays down', async () => {
    const { call, io, callId } = await startCall();
    groq.knobs.failNext('chat', { kind: 'status', status: 503 }, 50);
    await call.session.run({ userInput: 'Hi Diane, do you have two minutes?' }).wait().catch(() => undefined);
    await call.session.run({ userInput: 'Could we book a call next week?' }).wait().catch(() => undefined);
    await waitFor('hung up', async () => (io.hangUps > 0 ? true : undefined), 20_000);
    await io.recorded;
    const closed = await finalised(callId);
    expect(closed).toMatchObject({ status: 'failed', endReason: 'providers_down' });
    expect(closed.providerErrors.length).toBeGreaterThanOrEqual(2);
    expect(call.session.history.items.some((item) => item.type === 'message' && item.textContent === PROVIDERS_DOWN_LINE)).toBe(true);
    expect(PROVIDERS_DOWN_LINE).toContain('pick this up another time');
  });
});
