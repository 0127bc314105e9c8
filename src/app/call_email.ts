// The post-call email (HTML and plain text) for the rep and for their manager. Pure rendering:
// every interpolated value in the HTML goes through `html`, which escapes it, so a transcript line
// such as "<script>" arrives as text.
import type { AnalyticsTurn, CallAnalytics } from '../domain/analytics.js';
import { putThroughAt } from '../domain/handoff.js';
import { clock, type CriterionScore } from '../domain/scorecard.js';
import { baseLanguage } from '../domain/languages.js';
import { callEmailText, type CallEmailText } from './call_email_text.js';

/** reviewReasons: why the manager should read the call before trusting the score (shown to managers). */
export type EmailScorecard =
  | { status: 'scored'; overallScore: number; passed: boolean | null; summary: string; criteria: CriterionScore[]; reviewReasons?: string[] }
  | { status: 'unavailable'; reason: string; reviewReasons?: string[] };

export interface CallEmailInput {
  recipient: { name: string; role: 'rep' | 'manager' };
  repName: string;
  personaName: string;
  scenarioTitle: string;
  callId: string;
  startedAt: Date;
  durationSeconds: number | null;
  turns: readonly AnalyticsTurn[];
  analytics: CallAnalytics;
  scorecard: EmailScorecard | null;
  passMark: number | null;
  /** `${PUBLIC_BASE_URL}/calls/${id}`: the call page in the web view. */
  callUrl: string;
  /** Some turns may be missing (calls.transcript_incomplete); the reader is told. */
  transcriptIncomplete?: boolean;
  /** The language of the fixed text (the call's feedback language); English when absent. */
  language?: string;
}

export const INCOMPLETE_TRANSCRIPT_NOTE = callEmailText('en').incompleteTranscript;

export interface RenderedEmail {
  subject: string;
  text: string;
  html: string;
}

class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (char) => ESCAPES[char] ?? char);

type HtmlValue = SafeHtml | string | number | null | undefined | readonly HtmlValue[];

function render(value: HtmlValue): string {
  if (value === null || value === undefined) return '';
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return value.map(render).join('');
  return escapeHtml(String(value));
}

/** Escapes every interpolation unless it is already SafeHtml (built by this same tag). Shared by the app's emails. */
export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml {
  return new SafeHtml(strings.reduce((out, chunk, index) => out + chunk + (index < values.length ? render(values[index] as HtmlValue) : ''), ''));
}

const capitalise = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);
const callEmailLanguage = (language: string | undefined) => baseLanguage(language ?? 'en');
const firstName = (name: string) => name.trim().split(/\s+/)[0] ?? name;
const percent = (ratio: number) => `${Math.round(ratio * 100)}%`;
const seconds = (value: number) => (value >= 90 ? `${Math.floor(value / 60)} min ${Math.round(value % 60)} s` : `${Math.round(value)} s`);

function verdict(t: CallEmailText, scorecard: EmailScorecard | null, passMark: number | null): string {
  if (!scorecard) return t.notScored;
  if (scorecard.status === 'unavailable') return t.scorecardUnavailable;
  const score = `${Math.round(scorecard.overallScore)}/100`;
  if (scorecard.passed === null || passMark === null) return score;
  return `${score}, ${scorecard.passed ? t.passed : t.notPassed}`;
}

interface Figure {
  label: string;
  value: string;
}

function figures(t: CallEmailText, input: CallEmailInput, you: boolean): Figure[] {
  const a = input.analytics;
  const rep = you ? t.you : firstName(input.repName);
  const persona = firstName(input.personaName);
  const fillers = Object.entries(a.fillerWordsFound)
    .sort((x, y) => y[1] - x[1])
    .map(([word, count]) => `"${word}" ×${count}`)
    .join(', ');
  const list: Figure[] = [];
  if (input.durationSeconds !== null) list.push({ label: t.callLength, value: seconds(input.durationSeconds) });
  if (a.repTalkRatio !== null) list.push({ label: t.talkRatio(rep), value: percent(a.repTalkRatio) });
  if (a.repWordsPerMinute !== null) list.push({ label: t.wordsPerMinute, value: String(Math.round(a.repWordsPerMinute)) });
  list.push({
    label: t.fillerWords,
    value: `${a.fillerWordCount}${a.fillerWordsPerMinute !== null ? ` (${t.perMinute(a.fillerWordsPerMinute)})` : ''}${fillers ? `: ${fillers}` : ''}`,
  });
  if (a.longestRepMonologueSeconds !== null) list.push({ label: t.longestMonologue, value: seconds(a.longestRepMonologueSeconds) });
  list.push({
    label: t.questionsAsked,
    value: `${a.questionsAsked}${a.timeToFirstQuestionSeconds !== null ? ` (${t.firstAfter(seconds(a.timeToFirstQuestionSeconds))})` : ''}`,
  });
  list.push({ label: t.interruptions, value: t.interruptionCounts(you ? null : rep, persona, a.personaInterruptedByRep, a.repInterruptedByPersona) });
  return list;
}

export function renderCallEmail(input: CallEmailInput): RenderedEmail {
  const t = callEmailText(input.language);
  const you = input.recipient.role === 'rep';
  const review = you ? [] : (input.scorecard?.reviewReasons ?? []);
  const outcome = `${verdict(t, input.scorecard, input.passMark)}${review.length > 0 ? ` — ${t.needsReviewTag}` : ''}`;
  const subject = you ? t.subjectRep(input.scenarioTitle, outcome) : t.subjectManager(input.repName, input.scenarioTitle, outcome);
  const intro = you ? t.introRep(input.personaName) : t.introManager(input.repName, input.personaName);
  const start = input.turns[0]?.startMs ?? 0;
  const movedOn = putThroughAt(input.turns);
  const lines = input.turns.map((turn, index) => ({
    at: clock(turn.startMs - start),
    who: turn.speaker === 'rep' ? input.repName : (turn.personaName ?? input.personaName),
    rep: turn.speaker === 'rep',
    text: turn.text,
    interrupted: turn.interrupted,
    // Staged calls: the caller was put through to this persona just before this turn.
    putThrough: movedOn.has(index) ? t.putThrough(turn.personaName ?? input.personaName) : undefined,
  }));
  const stats = figures(t, input, you);
  const card = input.scorecard;
  const passLine = input.passMark !== null ? ` (${t.passMark(input.passMark)})` : '';

  const text = [
    t.hi(firstName(input.recipient.name)),
    '',
    `${intro} ${t.scenario}: ${input.scenarioTitle}.`,
    `${t.seeTheCall}: ${input.callUrl}`,
    '',
    t.scorecard.toUpperCase(),
    ...(review.length > 0 ? [`${t.needsReviewTag}: ${t.readBeforeTrusting}`, ...review.map((reason) => `! ${reason}`), ''] : []),
    ...(card === null
      ? [`${capitalise(t.notScored)}.`]
      : card.status === 'unavailable'
        ? [`${capitalise(t.scorecardUnavailable)}: ${card.reason}`]
        : [
            `${t.overall}: ${outcome}${passLine}`,
            card.summary,
            '',
            ...card.criteria.flatMap((criterion) => [
              `- ${criterion.name} (${t.weight(criterion.weight)}): ${criterion.score}/100`,
              `  ${t.evidence}: ${criterion.evidence ? `"${criterion.evidence}"` : t.nothingInTheCall}`,
              `  ${t.nextTime}: ${criterion.suggestion}`,
            ]),
          ]),
    '',
    t.delivery.toUpperCase(),
    ...stats.map((figure) => `${figure.label}: ${figure.value}`),
    '',
    t.transcript.toUpperCase(),
    ...(input.transcriptIncomplete ? [t.incompleteTranscript] : []),
    ...lines.flatMap((line) => [...(line.putThrough ? [line.putThrough] : []), `[${line.at}] ${line.who}: ${line.text}${line.interrupted ? ` [${t.interrupted}]` : ''}`]),
    '',
    '-- Practice Line',
  ].join('\n');

  const cell = 'padding:4px 8px;border-bottom:1px solid #ddd;vertical-align:top;';
  const scorecardHtml =
    card === null
      ? html`<p>${capitalise(t.notScored)}.</p>`
      : card.status === 'unavailable'
        ? html`<p><strong>${capitalise(t.scorecardUnavailable)}:</strong> ${card.reason}</p>`
        : html`<p><strong>${t.overall}: ${outcome}</strong>${passLine}</p>
<p>${card.summary}</p>
<table style="border-collapse:collapse" cellpadding="0" cellspacing="0">
<tr><th style="${cell}text-align:left">${t.criterion}</th><th style="${cell}text-align:right">${t.score}</th><th style="${cell}text-align:left">${t.evidence}</th><th style="${cell}text-align:left">${t.nextTime}</th></tr>
${card.criteria.map(
  (criterion) =>
    html`<tr><td style="${cell}">${criterion.name} <small>(${t.weight(criterion.weight)})</small></td><td style="${cell}text-align:right">${criterion.score}/100</td><td style="${cell}">${criterion.evidence ? html`<q>${criterion.evidence}</q>` : html`<em>${t.nothingInTheCall}</em>`}</td><td style="${cell}">${criterion.suggestion}</td></tr>\n`,
)}</table>`;

  const body = html`<!doctype html>
<html lang="${callEmailLanguage(input.language)}"><head><meta charset="utf-8"><title>${subject}</title></head>
<body style="font-family:Arial,Helvetica,sans-serif;font-size:14px;color:#222;max-width:760px">
<p>${t.hi(firstName(input.recipient.name))}</p>
<p>${intro} ${t.scenario}: <strong>${input.scenarioTitle}</strong>.</p>
<p><a href="${input.callUrl}">${t.seeTheCallLink}</a></p>
<h2 style="font-size:18px">${t.scorecard}</h2>
${review.length > 0
  ? html`<div style="border:2px solid #b45309;background:#fffbeb;padding:8px 12px;margin:8px 0"><p style="margin:0"><strong>${t.needsReview}:</strong> ${t.readBeforeTrusting}</p><ul style="margin:4px 0 0 16px;padding:0">${review.map((reason) => html`<li>${reason}</li>`)}</ul></div>`
  : ''}
${scorecardHtml}
<h2 style="font-size:18px">${t.delivery}</h2>
<table style="border-collapse:collapse" cellpadding="0" cellspacing="0">
${stats.map((figure) => html`<tr><td style="${cell}">${figure.label}</td><td style="${cell}">${figure.value}</td></tr>\n`)}</table>
<h2 style="font-size:18px">${t.transcript}</h2>
${input.transcriptIncomplete ? html`<p style="color:#8b3a1a"><strong>${t.incompleteTranscript}</strong></p>` : ''}
<table style="border-collapse:collapse" cellpadding="0" cellspacing="0">
${lines.map(
  (line) =>
    html`${line.putThrough ? html`<tr><td colspan="3" style="${cell}color:#666;font-style:italic;text-align:center">${line.putThrough}</td></tr>
` : ''}<tr><td style="${cell}color:#666;font-family:monospace">${line.at}</td><td style="${cell}font-weight:bold;${line.rep ? 'color:#1a4f8b' : 'color:#8b3a1a'}">${line.who}</td><td style="${cell}">${line.text}${line.interrupted ? html` <em>[${t.interrupted}]</em>` : ''}</td></tr>\n`,
)}</table>
<p style="color:#666">Practice Line</p>
</body></html>`;

  return { subject, text, html: body.value };
}
