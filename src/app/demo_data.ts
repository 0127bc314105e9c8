// What a fresh install shows: enough to place a practice call and browse the web view at once.
import type { RubricCriterion } from '../domain/scorecard.js';

export const demoUsers = {
  admin: { name: 'Ada Admin', email: 'admin@practice.local' },
  manager: { name: 'Morgan Manager', email: 'manager@practice.local' },
  reps: [
    { name: 'Riley Rep', email: 'riley@practice.local', phoneNumbers: ['+15550100001'] },
    { name: 'Sam Seller', email: 'sam@practice.local', phoneNumbers: ['+15550100002'] },
  ],
} as const;

export const demoPersonas = [
  {
    key: 'cfo',
    name: 'Diane Carter',
    role: 'Chief Financial Officer',
    company: 'Northwind Logistics',
    personality:
      'Sceptical, numbers-driven and short on time. Respects preparation, punishes vagueness, warms up only to concrete ROI.',
    objections: [
      'We already have a tool that does this.',
      'This is not in this year’s budget.',
      'How do I know the savings are real?',
    ],
    openingLine: 'Diane Carter. You have two minutes — what is this about?',
    voiceId: 'pNInz6obpgDQGcFmaJgB',
  },
  {
    key: 'gatekeeper',
    name: 'Tom Reyes',
    role: 'Executive Assistant to the CEO',
    company: 'Brightline Health',
    personality:
      'Friendly but protective of the CEO’s calendar. Screens every caller, asks why it matters, and passes on only clear, relevant requests.',
    objections: ['She is not available.', 'Can you just send an email?', 'What is this regarding?'],
    openingLine: 'Good morning, Brightline Health, office of the CEO, Tom speaking.',
    voiceId: '21m00Tcm4TlvDq8ikWAM',
  },
] as const;

const criterion = (id: string, name: string, description: string, weight: number): RubricCriterion => ({
  id,
  name,
  description,
  weight,
});

export const demoScenarios = [
  {
    personaKey: 'cfo' as const,
    title: 'Cold call: the sceptical CFO',
    objective: 'Earn a 30-minute follow-up meeting with the CFO.',
    context:
      'You sell a freight-spend analytics platform. Northwind spends about $40M a year on freight and uses spreadsheets plus an old TMS report.',
    difficulty: 'hard' as const,
    timeLimitSeconds: 420,
    extension: '101',
    rubric: [
      criterion('opening', 'Opening', 'States who they are and why this call is worth the CFO’s time within the first 20 seconds.', 2),
      criterion('discovery', 'Discovery', 'Asks open questions about current freight spend, process and pain before pitching.', 3),
      criterion('objections', 'Objection handling', 'Acknowledges objections, answers with specifics, and checks the answer landed.', 3),
      criterion('close', 'Next step', 'Asks clearly for a concrete next step with a date and time.', 2),
    ],
  },
  {
    personaKey: 'gatekeeper' as const,
    title: 'Getting past the gatekeeper',
    objective: 'Get put through to the CEO or book a slot in her calendar.',
    context: 'You sell a patient-scheduling product. You have never spoken to anyone at Brightline before.',
    difficulty: 'medium' as const,
    timeLimitSeconds: 300,
    extension: '102',
    rubric: [
      criterion('rapport', 'Rapport', 'Treats the assistant as a person, uses their name, stays courteous.', 2),
      criterion('relevance', 'Relevance', 'Explains briefly why the CEO would care, in the company’s terms.', 3),
      criterion('ask', 'Clear ask', 'Makes a specific, easy-to-grant request.', 3),
    ],
  },
];
