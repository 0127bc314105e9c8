/**
 * Delivery analytics computed from a call's turns. Pure: no I/O, no clock.
 *
 * Definitions (times come from the stored turns; "rep speaking time" is the sum of the rep's turn
 * durations, end minus start):
 * - **repTalkRatio**: rep speaking time / (rep + persona speaking time), 0..1. Overlapping speech
 *   counts for both sides.
 * - **repWordsPerMinute**: words in the rep's turns / rep speaking minutes. A word is a run of
 *   letters, digits or apostrophes.
 * - **fillerWordsPerMinute**: filler occurrences in the rep's turns / rep speaking minutes, counted
 *   against {@link FILLER_WORDS} (multi-word fillers such as "you know" count once). "like" and
 *   "so" are left out on purpose: in a transcript they are mostly real words ("I'd like to").
 * - **longestRepMonologueSeconds**: rep turns with no persona turn between them form one
 *   monologue; its length runs from the first turn's start to the last turn's end.
 * - **questionsAsked**: sentences in the rep's turns that end with "?", plus unpunctuated
 *   sentences (no final . ! ?) that open with a question word ("what", "how", "do", "could", ...),
 *   because plain-text uploads often lack punctuation.
 * - **personaInterruptedByRep**: persona turns marked `interrupted` (the rep barged in and the
 *   persona stopped speaking).
 * - **repInterruptedByPersona**: rep turns during which a persona turn started at least
 *   {@link INTERRUPTION_OVERLAP_MS} before the rep turn ended (the persona spoke over the rep), or
 *   rep turns marked `interrupted`.
 * - **timeToFirstQuestionSeconds**: from the start of the conversation (the first turn's start) to
 *   the start of the first rep turn containing a question; null when the rep asked none.
 *
 * Time-based figures are null when the transcript carries no real times (an uploaded plain-text
 * transcript) or when the rep never spoke; counts are always given.
 */

export type Speaker = 'rep' | 'persona';

export interface AnalyticsTurn {
  speaker: Speaker;
  text: string;
  /** Milliseconds on any common clock (epoch or from the call start). */
  startMs: number;
  endMs: number;
  interrupted: boolean;
  /** Staged calls (decision 018): the persona who spoke, and their name. */
  personaId?: string | null;
  personaName?: string;
}

export interface CallAnalytics {
  version: 1;
  /** False when the turns' times were estimated, so time-based figures are null. */
  timed: boolean;
  turnCount: number;
  repTurnCount: number;
  personaTurnCount: number;
  repSpeakingSeconds: number | null;
  personaSpeakingSeconds: number | null;
  repTalkRatio: number | null;
  repWordCount: number;
  repWordsPerMinute: number | null;
  fillerWordCount: number;
  fillerWordsPerMinute: number | null;
  /** Count per filler that occurred. */
  fillerWordsFound: Record<string, number>;
  /** The list the filler figures were counted against. */
  fillerWordList: readonly string[];
  longestRepMonologueSeconds: number | null;
  questionsAsked: number;
  personaInterruptedByRep: number;
  repInterruptedByPersona: number;
  timeToFirstQuestionSeconds: number | null;
}

export const FILLER_WORDS: readonly string[] = Object.freeze([
  'um',
  'umm',
  'uh',
  'uhh',
  'uh-huh',
  'er',
  'erm',
  'ah',
  'hmm',
  'you know',
  'i mean',
  'kind of',
  'sort of',
  'basically',
  'literally',
  'actually',
]);

/** Timestamp jitter between the two sides' clocks below this is not an interruption. */
export const INTERRUPTION_OVERLAP_MS = 300;

const QUESTION_OPENERS = new Set([
  'what', 'why', 'how', 'when', 'where', 'who', 'whom', 'which', 'whose',
  'do', 'does', 'did', 'is', 'are', 'was', 'were', 'can', 'could', 'would', 'will', 'should', 'shall',
  'may', 'might', 'have', 'has', 'had', 'am', "isn't", "aren't", "don't", "doesn't", "didn't", "won't",
  "wouldn't", "couldn't", "can't", "shouldn't",
]);

const round = (value: number, digits = 2) => {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
};

/** Lower-cased words: runs of letters, digits, apostrophes and inner hyphens. */
export function words(text: string): string[] {
  return (text.toLowerCase().replace(/[\u2018\u2019]/g, "'").match(/[\p{L}\p{N}']+(?:-[\p{L}\p{N}']+)*/gu) ?? []).filter(
    (word) => word.replace(/'/g, '') !== '',
  );
}

/** Occurrences of each filler in the text; multi-word fillers are matched as word sequences. */
export function countFillers(text: string, list: readonly string[] = FILLER_WORDS): Record<string, number> {
  const tokens = words(text);
  const found: Record<string, number> = {};
  const phrases = list.map((filler) => filler.split(' ')).sort((a, b) => b.length - a.length);
  for (let i = 0; i < tokens.length; ) {
    const match = phrases.find((phrase) => phrase.every((part, offset) => tokens[i + offset] === part));
    if (match) {
      const key = match.join(' ');
      found[key] = (found[key] ?? 0) + 1;
      i += match.length;
    } else {
      i += 1;
    }
  }
  return found;
}

/** Sentences (with their closing punctuation, if any). */
function sentences(text: string): string[] {
  return (text.match(/[^.!?]+[.!?]*/g) ?? []).map((sentence) => sentence.trim()).filter((sentence) => sentence !== '');
}

export function countQuestions(text: string): number {
  let count = 0;
  for (const sentence of sentences(text)) {
    if (sentence.endsWith('?')) count += 1;
    else if (!/[.!]$/.test(sentence) && QUESTION_OPENERS.has(words(sentence)[0] ?? '')) count += 1;
  }
  return count;
}

const durationMs = (turn: AnalyticsTurn) => Math.max(0, turn.endMs - turn.startMs);

export function computeAnalytics(input: readonly AnalyticsTurn[], options: { timed?: boolean } = {}): CallAnalytics {
  const timed = options.timed ?? true;
  // Turns are stored in seq order, but the clocks decide what happened first.
  const turns = [...input].sort((a, b) => a.startMs - b.startMs);
  const rep = turns.filter((turn) => turn.speaker === 'rep');
  const persona = turns.filter((turn) => turn.speaker === 'persona');

  const repMs = rep.reduce((sum, turn) => sum + durationMs(turn), 0);
  const personaMs = persona.reduce((sum, turn) => sum + durationMs(turn), 0);
  const repMinutes = repMs / 60_000;
  const perRepMinute = (count: number) => (timed && repMs > 0 ? round(count / repMinutes, 1) : null);

  const repWordCount = rep.reduce((sum, turn) => sum + words(turn.text).length, 0);
  const fillerWordsFound: Record<string, number> = {};
  for (const turn of rep) {
    for (const [filler, count] of Object.entries(countFillers(turn.text))) {
      fillerWordsFound[filler] = (fillerWordsFound[filler] ?? 0) + count;
    }
  }
  const fillerWordCount = Object.values(fillerWordsFound).reduce((sum, count) => sum + count, 0);

  let longestMonologueMs = 0;
  let runStart: number | undefined;
  let runEnd = 0;
  for (const turn of turns) {
    if (turn.speaker === 'rep') {
      runStart ??= turn.startMs;
      runEnd = Math.max(runEnd, turn.endMs);
      longestMonologueMs = Math.max(longestMonologueMs, runEnd - runStart);
    } else {
      runStart = undefined;
      runEnd = 0;
    }
  }

  const questionsAsked = rep.reduce((sum, turn) => sum + countQuestions(turn.text), 0);
  const firstQuestion = rep.find((turn) => countQuestions(turn.text) > 0);
  const conversationStart = turns[0]?.startMs;

  const repInterruptedByPersona = rep.filter(
    (turn) =>
      turn.interrupted ||
      persona.some((other) => other.startMs > turn.startMs && turn.endMs - other.startMs >= INTERRUPTION_OVERLAP_MS),
  ).length;

  return {
    version: 1,
    timed,
    turnCount: turns.length,
    repTurnCount: rep.length,
    personaTurnCount: persona.length,
    repSpeakingSeconds: timed ? round(repMs / 1000, 1) : null,
    personaSpeakingSeconds: timed ? round(personaMs / 1000, 1) : null,
    repTalkRatio: timed && repMs + personaMs > 0 ? round(repMs / (repMs + personaMs), 3) : null,
    repWordCount,
    repWordsPerMinute: perRepMinute(repWordCount),
    fillerWordCount,
    fillerWordsPerMinute: perRepMinute(fillerWordCount),
    fillerWordsFound,
    fillerWordList: FILLER_WORDS,
    longestRepMonologueSeconds: timed && rep.length > 0 ? round(longestMonologueMs / 1000, 1) : null,
    questionsAsked,
    personaInterruptedByRep: persona.filter((turn) => turn.interrupted).length,
    repInterruptedByPersona: timed ? repInterruptedByPersona : rep.filter((turn) => turn.interrupted).length,
    timeToFirstQuestionSeconds:
      timed && firstQuestion && conversationStart !== undefined ? round((firstQuestion.startMs - conversationStart) / 1000, 1) : null,
  };
}
