// The PIN gate in-process: a real agents-js session without a room speaks the prompts and hears
// speech; keys arrive as the room's DtmfReceived events. The dispatch service's answers are its
// contract (src/domain/dispatch_resolve.ts); keying DTMF over real RTP stays in test/agent/full_path.test.ts.
import { initializeLogger, voice } from '@livekit/agents';
import { RoomEvent } from '@livekit/rtc-node';
import { EventEmitter } from 'node:events';
import { pino } from 'pino';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { callPrompts, MAX_PIN_TRIES, prompts } from '../src/domain/call_prompts.js';
import type { DispatchResolveResponse } from '../src/domain/dispatch_resolve.js';
import type { ReadyRoomMetadata } from '../src/domain/room_metadata.js';
import { dianeCarterCall } from '../test/agent/agent_world.js';
import { createPinPromptAgent } from './persona_agent.js';
import { type PinRoom, runPinGate, sessionPinLine } from './pin_gate.js';

const logger = pino({ level: 'silent' });
const caller = { identity: 'sip_caller' };
const metadata: ReadyRoomMetadata = { ...dianeCarterCall(), callId: '3f0c6a0e-8a1b-4c55-9a57-5b8d4f1e2a10' };
const ok: DispatchResolveResponse = { outcome: 'ok', callId: metadata.callId, metadata };
const refused = (say: string, retry = true, language = 'en'): DispatchResolveResponse => ({ outcome: 'refused', reason: 'wrong_pin', say, retry, language });

beforeAll(() => initializeLogger({ pretty: false, level: 'silent' }));

const sessions: voice.AgentSession[] = [];
afterEach(async () => {
  for (const session of sessions.splice(0)) await session.close();
});

/** A gate on a real session; `answers` are the dispatch service's replies in order; returns what was prompted and tried. */
async function gate(answers: (DispatchResolveResponse | Error)[], caller_: (room: EventEmitter, session: voice.AgentSession, prompted: string[]) => void) {
  const session = new voice.AgentSession({});
  sessions.push(session);
  await session.start({ agent: createPinPromptAgent(), record: false });
  const room = new EventEmitter();
  const line = sessionPinLine(session, room as unknown as PinRoom, caller);
  const prompted: string[] = [];
  const tried: string[] = [];
  const switched: string[] = [];
  const result = runPinGate(
    { ...line, speakIn: (language) => void switched.push(language), prompt: (text) => (prompted.push(text), line.prompt(text), caller_(room, session, prompted)) },
    {
      logger,
      timeoutMs: 300,
      resolve: async (digits) => {
        tried.push(digits);
        const answer = answers.shift() ?? refused('no more answers', false);
        if (answer instanceof Error) throw answer;
        return answer;
      },
    },
  );
  return { result: await result, prompted, tried, switched };
}

const key = (room: EventEmitter, keys: string, from = caller) => {
  for (const digit of keys) room.emit(RoomEvent.DtmfReceived, 0, digit, from);
};
const keyOnPrompt = (entries: string[]) => (room: EventEmitter) => {
  const entry = entries.shift();
  if (entry !== undefined) setTimeout(() => key(room, entry), 10);
};

describe('the PIN gate', () => {
  it('resolves by the called number without a prompt (a direct line needs no PIN)', async () => {
    const { result, prompted, tried } = await gate([ok], () => undefined);
    expect(result).toEqual({ kind: 'resolved', metadata });
    expect(prompted).toEqual([]);
    expect(tried).toEqual(['']);
  });

  it('prompts with the shared greeting, takes a keyed PIN ended by #, and ignores keys from anyone else', async () => {
    const { result, prompted, tried, switched } = await gate([refused(''), ok], (room) => {
      setTimeout(() => {
        key(room, '99', { identity: 'someone_else' });
        key(room, '4821#');
      }, 10);
    });
    expect(result).toEqual({ kind: 'resolved', metadata });
    expect(prompted).toEqual([prompts.greeting]);
    expect(tried).toEqual(['', '4821']);
    expect(switched, 'an English line keeps the English prompt agent').toEqual([]);
  });

  it("speaks the line's language from the first word when the service names one (a Spanish line), and says goodbye in it", async () => {
    const es = callPrompts('es');
    const { result, prompted, switched } = await gate([refused('', true, 'es-ES'), refused(es.wrongPin, true, 'es-ES'), refused(es.wrongPin, true, 'es-ES'), refused(es.wrongPin, true, 'es-ES')], keyOnPrompt(['1#', '2#', '3#']));
    expect(switched).toEqual(['es-ES']);
    expect(prompted).toEqual([es.greeting, es.wrongPin, es.wrongPin]);
    expect(prompted[0]).toMatch(/^Bienvenido a Practice Line\. Introduzca su PIN/);
    expect(result).toEqual({ kind: 'refused', goodbye: es.tooManyTries });
  });

  it('re-prompts with the refusal line, then with "enter again" after a silent try; a pause submits what was keyed', async () => {
    const { result, prompted, tried } = await gate([refused(''), refused('Sorry, that PIN or extension was not recognised.'), ok], keyOnPrompt(['1111#', '', '2222']));
    expect(result.kind).toBe('resolved');
    expect(prompted).toEqual([prompts.greeting, 'Sorry, that PIN or extension was not recognised.', prompts.enterAgain]);
    expect(tried).toEqual(['', '1111', '2222']);
  });

  it('takes a PIN spoken aloud', async () => {
    const { result, tried } = await gate([refused(''), ok], (_room, session) => {
      setTimeout(() => session.emit(voice.AgentSessionEventTypes.UserInputTranscribed, voice.createUserInputTranscribedEvent({ transcript: 'my pin is four eight two one', isFinal: true })), 10);
    });
    expect(result.kind).toBe('resolved');
    expect(tried).toEqual(['', '4821']);
  });

  it(`gives up after ${MAX_PIN_TRIES} tries with the shared goodbye`, async () => {
    const { result, prompted } = await gate([refused(''), refused('No.'), refused('No.'), refused('No.')], keyOnPrompt(['1#', '2#', '3#']));
    expect(result).toEqual({ kind: 'refused', goodbye: prompts.tooManyTries });
    expect(prompted).toHaveLength(MAX_PIN_TRIES);
  });

  it('hangs up with the refusal line when retrying cannot help, and with "unavailable" when the service fails', async () => {
    const lockedOut = await gate([refused(''), refused('For security, PIN entry is paused.', false)], keyOnPrompt(['1234#']));
    expect(lockedOut.result).toEqual({ kind: 'refused', goodbye: 'For security, PIN entry is paused.' });
    const down = await gate([new Error('ECONNREFUSED')], () => undefined);
    expect(down.result).toEqual({ kind: 'refused', goodbye: prompts.unavailable });
  });
});
