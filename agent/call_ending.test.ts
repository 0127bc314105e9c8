// Call ending in-process: a real agents-js session without a room.
import { initializeLogger, voice } from '@livekit/agents';
import { pino } from 'pino';
import { beforeAll, describe, expect, it } from 'vitest';
import { CALL_END_REASONS, createCallEnding, reasonForSessionClose } from './call_ending.js';

beforeAll(() => initializeLogger({ pretty: false, level: 'silent' }));

async function ending() {
  const session = new voice.AgentSession({});
  await session.start({ agent: new voice.Agent({ instructions: '' }), record: false });
  const io = { hangUps: 0, shutdowns: [] as string[], started: 0 };
  const callEnding = createCallEnding({ logger: pino({ level: 'silent' }), session, hangUp: async () => void (io.hangUps += 1), shutdown: (reason) => void io.shutdowns.push(reason) });
  callEnding.onStart(() => void (io.started += 1));
  return { session, callEnding, io };
}

describe('call ending', () => {
  it('ends once: the first reason wins, its goodbye is said, the room goes and the job shuts down', async () => {
    const { session, callEnding, io } = await ending();
    expect(callEnding).toMatchObject({ started: false, reason: 'caller_hung_up', outcome: 'ended' });
    const first = callEnding.end('providers_down', 'Sorry, the line is bad. Goodbye.');
    const second = callEnding.end('time_limit', 'Another goodbye.');
    expect(second).toBe(first);
    await first;
    expect(callEnding).toMatchObject({ started: true, reason: 'providers_down', outcome: 'failed' });
    expect(io).toEqual({ hangUps: 1, shutdowns: ['providers_down'], started: 1 });
    const said = session.history.items.flatMap((item) => (item.type === 'message' ? [item.textContent] : []));
    expect(said).toEqual(['Sorry, the line is bad. Goodbye.']);
  });

  it('a session that closes on its own ends the call with the reason its close gives', async () => {
    const { session, callEnding, io } = await ending();
    await session.close();
    await callEnding.end('time_limit');
    expect(io.shutdowns).toEqual(['caller_hung_up']);
    expect(reasonForSessionClose(voice.CloseReason.PARTICIPANT_DISCONNECTED)).toBe('caller_hung_up');
    expect(reasonForSessionClose(voice.CloseReason.ERROR)).toBe('session_error');
    expect(reasonForSessionClose(voice.CloseReason.USER_INITIATED)).toBeUndefined();
  });

  it('reads failures as failed and every other end as ended (the state machine picks completed or abandoned)', () => {
    const failed = Object.entries(CALL_END_REASONS).filter(([, outcome]) => outcome === 'failed').map(([reason]) => reason);
    expect(failed.sort()).toEqual(['providers_down', 'session_error']);
  });
});
