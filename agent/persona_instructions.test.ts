import { describe, expect, it } from 'vitest';
import { parseRoomMetadata, type ReadyRoomMetadata } from '../src/domain/room_metadata.js';
import { buildPersonaInstructions, HANDOFF_CONTEXT_LINES, timeUpLine, wrapUpInstructions } from './persona_instructions.js';

const metadata: ReadyRoomMetadata = {
  v: 1,
  stage: 'ready',
  callId: '5b0e8a6e-3f57-4b8e-9a51-0c7b7d7c2f10',
  persona: {
    name: 'Diane Carter',
    role: 'Chief Financial Officer',
    company: 'Northwind Logistics',
    personality: 'Numbers-driven, impatient with fluff.',
    objections: ['We already have a vendor for this.', 'The budget is frozen until Q3.'],
    openingLine: 'Diane Carter speaking.',
    voiceId: 'voice-1',
    language: 'en',
    llmModel: 'llama-3.3-70b-versatile',
    temperature: 0.7,
  },
  scenario: { title: 'Cold call', objective: 'Book a 30-minute discovery meeting.', context: 'They ship 2,000 parcels a day.', difficulty: 'hard', rubric: [], timeLimitSeconds: 300 },
  rep: { id: '0d6f3a52-8a4e-4f8a-a0f5-0f6c1b7d9e21', firstName: 'Riley' },
};

describe('buildPersonaInstructions', () => {
  const prompt = buildPersonaInstructions(metadata);

  it('puts the persona, the caller and the scenario in the prompt', () => {
    expect(prompt).toContain('You are Diane Carter, Chief Financial Officer at Northwind Logistics');
    expect(prompt).toContain('salesperson named Riley');
    expect(prompt).toContain('Numbers-driven, impatient with fluff.');
    expect(prompt).toContain('They ship 2,000 parcels a day.');
    expect(prompt).toContain('- We already have a vendor for this.');
    expect(prompt).toContain('- The budget is frozen until Q3.');
    expect(prompt).toContain('Book a 30-minute discovery meeting.');
  });

  it('asks for short spoken sentences without markdown', () => {
    expect(prompt).toMatch(/one to three spoken sentences/);
    expect(prompt).toMatch(/no markdown/);
  });

  it('keeps the role: no AI reveal unless asked, no role drop on request', () => {
    expect(prompt).toMatch(/Never say or hint that you are an AI/);
    expect(prompt).toMatch(/unless the caller asks you directly/);
    expect(prompt).toMatch(/drop the role[^.]*do not comply/);
  });

  it('tells the persona when to use end_call', () => {
    expect(prompt).toContain('end_call');
  });

  it('adapts to difficulty and missing objections', () => {
    const easy = buildPersonaInstructions({ ...metadata, persona: { ...metadata.persona, objections: [] }, scenario: { ...metadata.scenario, difficulty: 'easy' } });
    expect(easy).toMatch(/fairly open/);
    expect(easy).toMatch(/objections a real person in your role would raise/);
    expect(prompt).toMatch(/guarded and short on time/);
  });

  it('builds prompts only from metadata that parsed', () => {
    const parsed = parseRoomMetadata(JSON.stringify(metadata));
    expect(parsed.ok).toBe(true);
    if (parsed.ok && parsed.metadata.stage === 'ready') expect(buildPersonaInstructions(parsed.metadata)).toBe(prompt);
  });

  it('has a wrap-up instruction and a closing line in character', () => {
    expect(wrapUpInstructions(metadata)).toContain('Diane Carter');
    expect(timeUpLine(metadata)).toMatch(/Riley.*goodbye/);
  });
});

describe('a persona in another language', () => {
  it('is told to speak only that language, and its fixed lines are in it', () => {
    const spanish: ReadyRoomMetadata = { ...metadata, persona: { ...metadata.persona, language: 'es-MX' } };
    expect(buildPersonaInstructions(spanish)).toContain('Speak only Spanish (language tag es-MX), whatever language the caller uses.');
    expect(timeUpLine(spanish)).toBe(`Lo siento, ${metadata.rep.firstName}, tengo que irme a mi próxima reunión. Gracias por llamar, adiós.`);
  });
});

describe('a staged call (decision 018)', () => {
  const gatekeeper = { ...metadata.persona, name: 'Sam Reyes', role: 'Receptionist' };

  it('tells the persona who answers when to put the caller through, and to refuse otherwise', () => {
    const prompt = buildPersonaInstructions({ ...metadata, persona: gatekeeper }, { transferTo: { persona: metadata.persona, advanceRule: 'the caller gives a business reason.' } });
    expect(prompt).toContain('put the caller through to Diane Carter, Chief Financial Officer, with the transfer tool. Do so only when this is true: the caller gives a business reason.');
    expect(prompt).toContain('politely refuse, say goodbye and use the end_call tool');
    expect(buildPersonaInstructions(metadata)).not.toContain('transfer');
  });

  it('tells the next persona who put the caller through and the latest lines said before, no more', () => {
    const conversation = Array.from({ length: HANDOFF_CONTEXT_LINES + 2 }, (_, index) => ({ speaker: index % 2 === 0 ? ('caller' as const) : ('persona' as const), text: `line ${index}` }));
    const prompt = buildPersonaInstructions(metadata, { putThroughBy: { persona: gatekeeper, conversation } });
    expect(prompt).toContain('Sam Reyes, Receptionist, answered the call and put the caller through to you');
    expect(prompt).not.toContain('line 1\n');
    expect(prompt).toContain(`Caller: line 2\nSam Reyes: line 3`);
    expect(prompt).toContain(`Sam Reyes: line ${HANDOFF_CONTEXT_LINES + 1}`);
  });
});
