import { describe, expect, it } from 'vitest';
import {
  AWAITING_PIN_METADATA,
  encodeRoomMetadata,
  parseRoomMetadata,
  type ReadyRoomMetadata,
} from './room_metadata.js';

const ready: ReadyRoomMetadata = {
  v: 1,
  stage: 'ready',
  callId: '4f0c2a57-3c5e-4f0e-9a55-7a2f3c0f9b11',
  persona: {
    name: 'Diane Carter',
    role: 'Chief Financial Officer',
    company: 'Northwind Logistics',
    personality: 'Sceptical and short on time.',
    objections: ['Not in budget.'],
    openingLine: 'Diane Carter. You have two minutes.',
    voiceId: 'pNInz6obpgDQGcFmaJgB',
    language: 'en',
    llmModel: 'llama-3.3-70b-versatile',
    temperature: 0.7,
  },
  scenario: {
    title: 'Cold call',
    objective: 'Earn a meeting.',
    context: 'Freight analytics.',
    difficulty: 'hard',
    rubric: [{ id: 'opening', name: 'Opening', description: 'Says why.', weight: 2 }],
    timeLimitSeconds: 420,
  },
  rep: { id: '9b1d4d8e-8f35-4c57-8a77-0d5b2a6f4e21', firstName: 'Riley' },
};

describe('room metadata', () => {
  it('round-trips a ready call through JSON', () => {
    const result = parseRoomMetadata(encodeRoomMetadata(ready));
    expect(result).toEqual({ ok: true, metadata: ready });
  });

  it('tells an awaiting-PIN room apart from a ready one by its stage', () => {
    const result = parseRoomMetadata(JSON.stringify(AWAITING_PIN_METADATA));
    expect(result.ok && result.metadata.stage).toBe('awaiting_pin');
    const withCall = parseRoomMetadata(JSON.stringify({ v: 1, stage: 'awaiting_pin', callId: ready.callId }));
    expect(withCall.ok && withCall.metadata.stage === 'awaiting_pin' && withCall.metadata.callId).toBe(ready.callId);
  });

  it('refuses empty, non-JSON, other versions and incomplete personas with a reason', () => {
    expect(parseRoomMetadata('')).toMatchObject({ ok: false, code: 'empty' });
    expect(parseRoomMetadata(undefined)).toMatchObject({ ok: false, code: 'empty' });
    expect(parseRoomMetadata('{nope')).toMatchObject({ ok: false, code: 'not_json' });
    expect(parseRoomMetadata(JSON.stringify({ ...ready, v: 3 }))).toMatchObject({ ok: false, code: 'unsupported_version' });
    const { openingLine: _dropped, ...persona } = ready.persona;
    const broken = parseRoomMetadata(JSON.stringify({ ...ready, persona }));
    expect(broken).toMatchObject({ ok: false, code: 'invalid' });
    expect(!broken.ok && broken.problems.join()).toContain('persona.openingLine');
    expect(parseRoomMetadata(JSON.stringify({ v: 1, stage: 'ringing' }))).toMatchObject({ ok: false, code: 'invalid' });
  });

  it('carries the stages of a staged call as version 2, and refuses stages under version 1 or a version 2 without them', () => {
    const staged: ReadyRoomMetadata = {
      ...ready,
      v: 2,
      personaId: '0b8f2f0e-1d1c-4c57-9a77-0d5b2a6f4e01',
      persona: { ...ready.persona, name: 'Sam Reyes', role: 'Front desk' },
      stages: [{ personaId: '0b8f2f0e-1d1c-4c57-9a77-0d5b2a6f4e02', persona: ready.persona, advanceRule: 'They give their name and a business reason.' }],
    };
    expect(parseRoomMetadata(encodeRoomMetadata(staged))).toEqual({ ok: true, metadata: staged });
    const underV1 = parseRoomMetadata(JSON.stringify({ ...staged, v: 1 }));
    expect(!underV1.ok && underV1.problems.join()).toContain('must be version 2');
    const { stages: _stages, ...withoutStages } = staged;
    const bare = parseRoomMetadata(JSON.stringify(withoutStages));
    expect(bare).toMatchObject({ ok: false, code: 'invalid' });
    expect(!bare.ok && bare.problems.join()).toContain('needs personaId and stages');
    const emptyRule = parseRoomMetadata(JSON.stringify({ ...staged, stages: [{ ...staged.stages![0], advanceRule: ' ' }] }));
    expect(!emptyRule.ok && emptyRule.problems.join()).toContain('stages.0.advanceRule');
  });

  it('never encodes metadata the agent would refuse', () => {
    expect(() => encodeRoomMetadata({ ...ready, persona: { ...ready.persona, temperature: 5 } })).toThrow();
  });
});
