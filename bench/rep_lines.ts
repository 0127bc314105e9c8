// What the rep says and the persona answers in every bench call: plain sentences the STT emulator
// knows, the same for bench:turn and bench:capacity so their figures compare.
export const REP_SENTENCES = [
  'Hi Diane, this is Riley from Parcel Point.',
  'Do you have two minutes to talk about shipping?',
  'How many parcels do you send each day?',
  'Which carriers do you use at the moment?',
  'What does a late delivery cost you?',
  'We cut parcel costs by twelve percent for firms like yours.',
  'Would a short pilot on one route be useful?',
  'Who else would need to be part of that decision?',
  'Could we look at last month of invoices together?',
  'How does Thursday morning sound for a call?',
  'I will send a short summary by email today.',
];

/** The emulated LLM's one reply: short, so a turn's latency is not the persona's speech. */
export const PERSONA_REPLY = 'Okay, tell me more.';
