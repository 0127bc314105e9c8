import { describe, expect, it } from 'vitest';
import { type AnalyticsTurn, computeAnalytics, countFillers, countQuestions, FILLER_WORDS, words } from './analytics.js';

const turn = (speaker: 'rep' | 'persona', startS: number, endS: number, text: string, interrupted = false): AnalyticsTurn => ({
  speaker,
  text,
  startMs: startS * 1000,
  endMs: endS * 1000,
  interrupted,
});

// A hand-made call whose figures were worked out on paper (see the comments per turn).
const call: AnalyticsTurn[] = [
  turn('persona', 0, 4, 'Hello, this is Diane Carter.'),
  // 21 words, fillers "um" + "i mean", one question; the persona starts 0.5 s before this ends.
  turn('rep', 4.5, 14.5, 'Hi Diane, um, this is Riley from Acme. I mean, we help finance teams close faster. Do you have a minute?'),
  turn('persona', 14, 20, 'Make it quick, I have a board meeting.'),
  // 10 words ("month-end" is one), fillers "basically" + "uh", no question.
  turn('rep', 20.5, 30.5, 'Sure. Basically we cut month-end close by, uh, three days'),
  // 7 words, an unpunctuated question; with the turn before, a 20 s monologue.
  turn('rep', 30.5, 40.5, 'what does your close look like today'),
  turn('persona', 41, 44, 'We use spreadsheets and it takes', true),
  // 6 words, one question: the rep barged in on the persona.
  turn('rep', 43.5, 46, 'How many people work on it?'),
];

describe('computeAnalytics', () => {
  it('gives the figures worked out by hand', () => {
    const analytics = computeAnalytics(call);
    expect(analytics).toMatchObject({
      version: 1,
      timed: true,
      turnCount: 7,
      repTurnCount: 4,
      personaTurnCount: 3,
      repSpeakingSeconds: 32.5,
      personaSpeakingSeconds: 13,
      repTalkRatio: 0.714, // 32.5 / 45.5
      repWordCount: 44,
      repWordsPerMinute: 81.2, // 44 / (32.5 / 60)
      fillerWordCount: 4,
      fillerWordsPerMinute: 7.4, // 4 / (32.5 / 60)
      fillerWordsFound: { um: 1, 'i mean': 1, basically: 1, uh: 1 },
      longestRepMonologueSeconds: 20,
      questionsAsked: 3,
      personaInterruptedByRep: 1,
      repInterruptedByPersona: 1,
      timeToFirstQuestionSeconds: 4.5,
    });
    expect(analytics.fillerWordList).toEqual(FILLER_WORDS);
  });

  it('orders turns by time, not by the order given', () => {
    expect(computeAnalytics([...call].reverse())).toEqual(computeAnalytics(call));
  });

  it('ignores overlaps shorter than the clock jitter allowance', () => {
    const analytics = computeAnalytics([turn('rep', 0, 5, 'So here is the idea.'), turn('persona', 4.8, 8, 'Go on.')]);
    expect(analytics.repInterruptedByPersona).toBe(0);
  });

  it('counts a rep turn marked interrupted as interrupted', () => {
    const analytics = computeAnalytics([turn('rep', 0, 5, 'So here is', true), turn('persona', 6, 8, 'Wait.')]);
    expect(analytics.repInterruptedByPersona).toBe(1);
  });

  it('gives null time-based figures when the rep never spoke, and counts zero', () => {
    const analytics = computeAnalytics([turn('persona', 0, 3, 'Hello? Anyone there?')]);
    expect(analytics).toMatchObject({
      repTalkRatio: 0,
      repWordsPerMinute: null,
      fillerWordsPerMinute: null,
      longestRepMonologueSeconds: null,
      questionsAsked: 0,
      timeToFirstQuestionSeconds: null,
    });
  });

  it('gives counts but no time-based figures for untimed transcripts', () => {
    const analytics = computeAnalytics(call, { timed: false });
    expect(analytics).toMatchObject({
      timed: false,
      repWordCount: 44,
      fillerWordCount: 4,
      questionsAsked: 3,
      personaInterruptedByRep: 1,
      repTalkRatio: null,
      repWordsPerMinute: null,
      fillerWordsPerMinute: null,
      longestRepMonologueSeconds: null,
      timeToFirstQuestionSeconds: null,
    });
  });

  it('handles an empty call', () => {
    expect(computeAnalytics([])).toMatchObject({ turnCount: 0, repTalkRatio: null, questionsAsked: 0 });
  });
});

describe('text helpers', () => {
  it('splits words, keeping apostrophes and inner hyphens', () => {
    expect(words("We're a three-person team — that’s it.")).toEqual(["we're", 'a', 'three-person', 'team', "that's", 'it']);
  });

  it('counts multi-word fillers once and does not count "like"', () => {
    expect(countFillers('You know, I would like to, you know, kind of show you. Um.')).toEqual({ 'you know': 2, 'kind of': 1, um: 1 });
  });

  it('counts punctuated and unpunctuated questions but not statements', () => {
    expect(countQuestions('Is this a good time? Great. how big is the team')).toBe(2);
    expect(countQuestions('What we do is simple.')).toBe(0);
  });
});
