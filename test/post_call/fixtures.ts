// Rows for post-call tests: a manager, a rep, a persona, a scenario with a weighted rubric, an
// assignment, and answered calls with a scripted conversation.
import { randomBytes } from 'node:crypto';
import type { Database } from '../../src/adapters/db/client.js';
import { assignments, calls, personas, scenarios, turns, users } from '../../src/adapters/db/schema.js';

export const RUBRIC = [
  { id: 'discovery', name: 'Discovery questions', description: 'Asks open questions about the buyer\'s process and pain', weight: 2 },
  { id: 'next_step', name: 'Secures a next step', description: 'Ends with a concrete, dated next step', weight: 1 },
];

/** What the rep and persona say; times in seconds from the answer. */
export const CONVERSATION = [
  { speaker: 'persona' as const, start: 0, end: 3, text: 'Diane Carter speaking.' },
  { speaker: 'rep' as const, start: 3.5, end: 11, text: 'Hi Diane, um, this is Riley from Ledgerly. How do you close the books today?' },
  { speaker: 'persona' as const, start: 11.5, end: 16, text: 'Spreadsheets, mostly. It takes us eight days.', interrupted: true },
  { speaker: 'rep' as const, start: 15.5, end: 22, text: 'Eight days <b>is</b> a lot & we can help. Could we book a demo on Thursday?' },
  { speaker: 'persona' as const, start: 22.5, end: 25, text: 'Send me an invite.' },
];

/** A valid scorecard answer for CONVERSATION. */
export const GOOD_ANSWER = {
  summary: 'Good opening question; the close was vague.',
  criteria: [
    { criterionId: 'discovery', score: 85, evidence: 'How do you close the books today?', suggestion: 'Ask what the eight days cost them in overtime.' },
    { criterionId: 'next_step', score: 40, evidence: 'Could we book a demo on Thursday?', suggestion: 'Name a time and send the invite while on the call.' },
  ],
};
// (85 * 2 + 40) / 3 = 70

export interface World {
  managerId: string;
  repId: string;
  scenarioId: string;
  assignmentId: string;
  personaName: string;
  repEmail: string;
  managerEmail: string;
}

export async function createWorld(db: Database, options: { passMark?: number; language?: string; feedbackLanguage?: string } = {}): Promise<World> {
  const tag = randomBytes(4).toString('hex');
  const [manager] = await db.insert(users).values({ role: 'manager', name: 'Morgan Lee', email: `morgan.${tag}@example.test` }).returning();
  const [rep] = await db
    .insert(users)
    .values({ role: 'rep', name: 'Riley Rep', email: `riley.${tag}@example.test`, managerId: manager!.id, phoneNumbers: [] })
    .returning();
  const [persona] = await db
    .insert(personas)
    .values({
      name: 'Diane Carter',
      role: 'CFO',
      company: 'Northwind',
      personality: 'Busy, sceptical',
      openingLine: 'Diane Carter speaking.',
      voiceId: 'voice',
      language: options.language ?? 'en',
      llmModel: 'llama-3.3-70b-versatile',
    })
    .returning();
  const [scenario] = await db
    .insert(scenarios)
    .values({ title: 'Cold call the CFO', objective: 'Book a demo', context: 'Outbound cold call', personaId: persona!.id, rubric: RUBRIC, feedbackLanguage: options.feedbackLanguage ?? null })
    .returning();
  const [assignment] = await db
    .insert(assignments)
    .values({ scenarioId: scenario!.id, repId: rep!.id, pinHash: randomBytes(32).toString('hex'), passMark: options.passMark ?? 70 })
    .returning();
  return {
    managerId: manager!.id,
    repId: rep!.id,
    scenarioId: scenario!.id,
    assignmentId: assignment!.id,
    personaName: persona!.name,
    repEmail: rep!.email,
    managerEmail: manager!.email,
  };
}

/** An answered, still running call with the conversation stored; answered `secondsAgo` ago. */
export async function createCall(db: Database, world: World, options: { secondsAgo?: number; conversation?: typeof CONVERSATION } = {}): Promise<string> {
  const answeredAt = new Date(Date.now() - (options.secondsAgo ?? 60) * 1000);
  const [call] = await db
    .insert(calls)
    .values({
      path: 'twilio',
      status: 'in_progress',
      roomName: `room-${randomBytes(8).toString('hex')}`,
      assignmentId: world.assignmentId,
      scenarioId: world.scenarioId,
      repId: world.repId,
      answeredAt,
    })
    .returning();
  const conversation = options.conversation ?? CONVERSATION;
  if (conversation.length > 0) {
    await db.insert(turns).values(
      conversation.map((turn, seq) => ({
        callId: call!.id,
        seq,
        speaker: turn.speaker,
        text: turn.text,
        startedAt: new Date(answeredAt.getTime() + turn.start * 1000),
        endedAt: new Date(answeredAt.getTime() + turn.end * 1000),
        interrupted: 'interrupted' in turn ? Boolean(turn.interrupted) : false,
      })),
    );
  }
  return call!.id;
}
