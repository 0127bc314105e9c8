// Calls: the filtered list, one call in full, the live list and the live transcript stream.
import type { Request, RequestHandler, Response, Router } from 'express';
import { rateLimit } from 'express-rate-limit';
import { rescoreCall } from '../../app/rescore_call.js';
import { getCall, listCalls, liveTurns, type CallDetail, type CallListItem, type ListCallsInput, type LiveTurn } from '../../app/calls.js';
import { listScenarios } from '../../app/scenarios.js';
import { listUsers } from '../../app/users.js';
import { CALL_STATUSES, isTerminal, LIVE_STATUSES, type CallStatus } from '../../domain/call_state.js';
import { isDomainError } from '../../domain/errors.js';
import { putThroughAt, putThroughLine } from '../../domain/handoff.js';
import { actorOf, viewerOf } from '../locals.js';
import { html, type SafeHtml } from './html.js';
import { errorsFrom, sendHtml } from './forms.js';
import { csrfField, formatDuration, formatTime, inputField, page, passBadge, selectField, statusBadge, type FieldErrors } from './layout.js';
import { latencyChart, latencyParts, otherMs } from './latency_chart.js';
import { sessionExpired } from './auth.js';
import { csrfTokenOf } from './session.js';
import { recordingSection, recordingUrl, turnAudioOffset } from './recording_pages.js';
import type { WebDeps } from './web_deps.js';

const PAGE_SIZE = 25;
/** How long after a call ends its page keeps refreshing for the scorecard (the job retries for longer). */
const SCORECARD_WAIT_MS = 10 * 60_000;

const isLive = (status: CallStatus) => !isTerminal(status);

const query = (req: Request, name: string): string => {
  const value = req.query[name];
  return typeof value === 'string' ? value.trim() : '';
};

/** The "to" date is inclusive on the form; the use case wants an exclusive upper bound. */
function dayAfter(date: string): string | undefined {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) return date || undefined;
  const next = new Date(`${date}T00:00:00Z`);
  if (Number.isNaN(next.getTime())) return date;
  next.setUTCDate(next.getUTCDate() + 1);
  return next.toISOString();
}

const scoreText = (score: number | null) => (score === null ? '—' : String(Math.round(score)));

function callRow(call: CallListItem): SafeHtml {
  return html`<tr>
    <td><a href="/calls/${call.id}">${formatTime(call.createdAt)}</a></td>
    <td>${call.rep?.name ?? html`<span class="muted">unknown</span>`}</td>
    <td>${call.scenario?.title ?? html`<span class="muted">—</span>`}</td>
    <td class="num">${formatDuration(call.durationSeconds)}</td>
    <td class="num">${call.scorecardStatus === 'unavailable' ? html`<span class="muted" title="scorecard unavailable">n/a</span>` : scoreText(call.score)}</td>
    <td>${passBadge(call.passed)}</td>
    <td>${statusBadge(call.status)}</td>
  </tr>`;
}

function callsTable(items: readonly CallListItem[], empty: string): SafeHtml {
  if (items.length === 0) return html`<p class="muted">${empty}</p>`;
  return html`<div class="table-wrap"><table>
    <thead><tr><th>Started</th><th>Rep</th><th>Scenario</th><th class="num">Duration</th><th class="num">Score</th><th>Result</th><th>Status</th></tr></thead>
    <tbody>${items.map(callRow)}</tbody>
  </table></div>`;
}

function offset(from: Date, at: Date): string {
  const seconds = Math.max(0, Math.round((at.getTime() - from.getTime()) / 1000));
  return formatDuration(seconds);
}

/** Staged calls: the line between turns where the caller was put through to the next persona. */
const putThroughItem = (personaName: string): SafeHtml => html`<li class="handoff"><span class="text">${putThroughLine(personaName)}</span></li>`;

export function transcriptItem(
  turn: { seq: number; speaker: string; text: string; interrupted: boolean; startedAt: Date; personaName?: string | null },
  origin: Date,
  audio?: { url: string; offset: number | undefined },
): SafeHtml {
  const time = offset(origin, turn.startedAt);
  return html`<li class="${turn.speaker}" data-seq="${turn.seq}">
    <span class="t">${audio?.offset === undefined ? time : html`<a href="${audio.url}#t=${audio.offset.toFixed(1)}" data-audio-offset="${audio.offset.toFixed(2)}" title="Listen from here">${time}</a>`}</span>
    <span class="who">${turn.speaker === 'rep' ? 'Rep' : (turn.personaName ?? 'Persona')}</span>
    <span class="text">${turn.text}${turn.interrupted ? html`<span class="interrupted" title="cut off mid-sentence">⟂ interrupted</span>` : ''}</span>
  </li>`;
}

const originOf = (call: CallDetail): Date => call.answeredAt ?? call.turns[0]?.startedAt ?? call.createdAt;

const ANALYTICS_LABELS: [string, string, (value: number) => string][] = [
  ['repTalkRatio', 'Rep talk share', (v) => `${Math.round(v * 100)} %`],
  ['repWordsPerMinute', 'Rep words per minute', (v) => String(Math.round(v))],
  ['fillerWordCount', 'Filler words', (v) => String(v)],
  ['fillerWordsPerMinute', 'Filler words per minute', (v) => v.toFixed(1)],
  ['questionsAsked', 'Questions asked', (v) => String(v)],
  ['timeToFirstQuestionSeconds', 'Time to first question', (v) => formatDuration(v)],
  ['longestRepMonologueSeconds', 'Longest rep monologue', (v) => formatDuration(v)],
  ['personaInterruptedByRep', 'Rep cut the persona off', (v) => `${v}×`],
  ['repInterruptedByPersona', 'Persona cut the rep off', (v) => `${v}×`],
];

function analyticsSection(analytics: Record<string, unknown> | null): SafeHtml {
  if (!analytics) return html`<p class="muted">Not computed yet.</p>`;
  const rows = ANALYTICS_LABELS.filter(([key]) => typeof analytics[key] === 'number').map(
    ([key, label, format]) => html`<dt>${label}</dt><dd>${format(analytics[key] as number)}</dd>`,
  );
  const found = analytics.fillerWordsFound;
  const fillers =
    found && typeof found === 'object' && Object.keys(found).length > 0
      ? html`<dt>Fillers heard</dt><dd>${Object.entries(found as Record<string, number>).map(([word, n]) => `${word} ×${n}`).join(', ')}</dd>`
      : '';
  return html`<dl class="facts">${rows}${fillers}</dl>`;
}

/** Managers and admins may re-run scoring of a finished call that reached a scenario. */
function rescoreForm(call: CallDetail, csrfToken: string | undefined): SafeHtml {
  return html`<form method="post" action="/calls/${call.id}/rescore" class="inline">${csrfField(csrfToken)}<button type="submit" class="secondary">Re-run scoring</button></form>`;
}

/** The "needs review" flag (decision 012): the rep spoke to the scorer, or the evidence did not hold up. */
function reviewFlag(card: NonNullable<CallDetail['scorecard']>): SafeHtml | string {
  if (!card.needsReview) return '';
  return html`<div class="needs-review" role="alert"><p><strong>Needs review</strong> — read the call before trusting this score.</p>
    <ul>${card.reviewReasons.map((reason) => html`<li>${reason}</li>`)}</ul></div>`;
}

function scorecardSection(call: CallDetail, rescore: SafeHtml | ''): SafeHtml {
  const card = call.scorecard;
  if (!card) return html`<p class="muted">${isLive(call.status) ? 'The scorecard follows when the call ends.' : call.turns.length > 0 ? 'Scoring the call: the scorecard appears here in a moment.' : 'No scorecard yet.'}</p>${rescore}`;
  if (card.status === 'unavailable') return html`${reviewFlag(card)}<p class="muted">Scorecard unavailable: ${card.reason ?? 'no reason recorded'}.</p>${rescore}`;
  return html`${reviewFlag(card)}<p><span class="score">${scoreText(card.overallScore)}</span> / 100 ${passBadge(card.passed)}</p>
    ${card.summary ? html`<p>${card.summary}</p>` : ''}
    <ul class="criteria">${card.criteria.map(
      (c) => html`<li><strong>${c.name}</strong> — ${Math.round(c.score)}/100 <small>weight ${c.weight}</small>
        ${c.evidence ? html`<p><em>Evidence:</em> ${c.evidence}</p>` : ''}
        ${c.suggestion ? html`<p><em>Try next time:</em> ${c.suggestion}</p>` : ''}</li>`,
    )}</ul>
    <small>Model ${card.model}, prompt ${card.promptVersion}.</small> ${rescore}`;
}

function latencySection(call: CallDetail): SafeHtml {
  const measured = call.turns.filter((turn) => turn.metrics !== null).map((turn) => ({ seq: turn.seq, ...turn.metrics! }));
  const ms = (value: number | null) => (value === null ? '—' : String(Math.round(value)));
  return html`${latencyChart(measured)}
    ${measured.length > 0
      ? html`<details><summary>Figures per turn (ms)</summary><div class="table-wrap"><table>
        <thead><tr><th>Turn</th>${latencyParts.map((p) => html`<th class="num">${p.label}</th>`)}<th class="num">Other</th><th class="num">Prepared ahead</th><th class="num">End to end</th></tr></thead>
        <tbody>${measured.map(
          (t) => html`<tr><td>${t.seq}</td>${latencyParts.map((p) => html`<td class="num">${ms(t[p.key])}</td>`)}<td class="num">${ms(t.endToEndMs === null ? null : otherMs(t))}</td><td class="num">${ms(t.speculativeLeadMs)}</td><td class="num">${ms(t.endToEndMs)}</td></tr>`,
        )}</tbody></table></div></details>`
      : ''}`;
}

function usageSection(call: CallDetail): SafeHtml {
  const usage = call.usage;
  return html`<dl class="facts">
    ${usage
      ? html`<dt>Call time</dt><dd>${formatDuration(usage.callSeconds)}</dd>
        <dt>STT audio</dt><dd>${usage.sttAudioSeconds.toFixed(1)} s</dd>
        <dt>LLM tokens</dt><dd>${usage.llmPromptTokens} in / ${usage.llmCompletionTokens} out</dd>
        <dt>TTS characters</dt><dd>${usage.ttsCharacters}</dd>`
      : html`<dt>Usage</dt><dd class="muted">not recorded yet</dd>`}
    <dt>Estimated cost</dt><dd>${call.estimatedCostUsd === null ? '—' : `$${Number(call.estimatedCostUsd).toFixed(4)}`}</dd>
  </dl>`;
}

function emailSection(call: CallDetail): SafeHtml {
  if (call.emailDeliveries.length === 0) return html`<p class="muted">No emails queued.</p>`;
  return html`<div class="table-wrap"><table><thead><tr><th>Recipient</th><th>Status</th><th class="num">Attempts</th><th>Sent</th><th>Last error</th></tr></thead>
    <tbody>${call.emailDeliveries.map(
      (d) => html`<tr><td>${d.recipient}</td><td><span class="badge ${d.status === 'sent' ? 'pass' : d.status === 'failed' ? 'fail' : ''}">${d.status}</span></td><td class="num">${d.attempts}</td><td>${formatTime(d.sentAt)}</td><td>${d.lastError ?? ''}</td></tr>`,
    )}</tbody></table></div>`;
}

/**
 * `internals`: latency, usage, cost, provider errors and email delivery are for staff, not for the rep.
 * `rescore`: the re-run scoring form, for staff who may use it.
 */
function callBody(call: CallDetail, { internals, rescore }: { internals: boolean; rescore: SafeHtml | '' }): SafeHtml {
  const live = isLive(call.status);
  const origin = originOf(call);
  const movedOn = putThroughAt(call.turns);
  const back = internals ? (live ? html`<a href="/live">← Live calls</a>` : html`<a href="/calls">← Calls</a>`) : html`<a href="/me">← My practice</a>`;
  return html`<p>${back}</p>
  <h1>${call.scenario?.title ?? 'Call'} ${statusBadge(call.status)}</h1>
  <section class="card"><dl class="facts">
    <dt>Rep</dt><dd>${call.rep ? `${call.rep.name} <${call.rep.email}>` : '—'}</dd>
    <dt>Persona</dt><dd>${call.persona ? `${call.persona.name}, ${call.persona.role} at ${call.persona.company}` : '—'}</dd>
    <dt>Started</dt><dd>${formatTime(call.createdAt)}</dd>
    <dt>Answered</dt><dd>${formatTime(call.answeredAt)}</dd>
    <dt>Ended</dt><dd>${formatTime(call.endedAt)}</dd>
    <dt>Duration</dt><dd>${formatDuration(call.durationSeconds)}</dd>
    <dt>End reason</dt><dd>${call.endReason ?? '—'}</dd>
    <dt>Path</dt><dd>${call.path === 'twilio' ? 'Twilio' : call.path === 'web' ? 'Browser' : 'SIP trunk'}${call.isTest ? ' (test call)' : ''}</dd>
  </dl>
  ${internals && call.providerErrors.length > 0
    ? html`<h2>Provider errors</h2><ul>${call.providerErrors.map((e) => html`<li>${formatTime(e.at)} — ${e.provider}: ${e.message}</li>`)}</ul>`
    : ''}
  </section>
  <div class="grid2">
    <section class="card"><h2>Transcript</h2>
      ${live ? html`<p class="muted" id="live-note">Live: new turns appear as they are stored.</p>` : ''}
      ${call.transcriptIncomplete ? html`<p class="warning" id="transcript-incomplete"><strong>Transcript incomplete:</strong> some turns of this call could not be saved; the transcript and the scorecard may miss part of the conversation.</p>` : ''}
      ${recordingSection(call.id, call.recording)}
      <ol class="transcript" id="transcript" data-origin="${origin.toISOString()}">${call.turns.map((turn, index) => html`${movedOn.has(index) ? putThroughItem(turn.personaName ?? 'the next persona') : ''}${transcriptItem(turn, origin, { url: recordingUrl(call.id), offset: turnAudioOffset(call.recording, turn.startedAt) })}`)}</ol>
      ${call.transcriptDeletedAt ? html`<p class="muted" id="transcript-deleted">Transcript deleted under the retention policy on ${formatTime(call.transcriptDeletedAt)}.</p>` : call.turns.length === 0 ? html`<p class="muted" id="no-turns">No turns stored yet.</p>` : ''}
    </section>
    <section class="card" id="scorecard"><h2>Scorecard</h2>${scorecardSection(call, rescore)}</section>
  </div>
  ${internals
    ? html`<section class="card"><h2>Latency per turn</h2>${latencySection(call)}</section>
  <div class="grid2">
    <section class="card"><h2>Delivery analytics</h2>${analyticsSection(call.analytics)}</section>
    <section class="card"><h2>Usage and cost</h2>${usageSection(call)}</section>
  </div>
  <section class="card"><h2>Email delivery</h2>${emailSection(call)}</section>`
    : html`<section class="card"><h2>Delivery analytics</h2>${analyticsSection(call.analytics)}</section>`}`;
}

/** Open live streams; shutdown ends them so the HTTP server can close. */
export type LiveStreams = Set<() => void>;

export function addCallRoutes(router: Router, deps: WebDeps, guard: RequestHandler, repsToo: RequestHandler, streams: LiveStreams, protect: RequestHandler): void {
  const shell = (req: Request, res: Response, section: 'calls' | 'live', title: string, body: SafeHtml, head?: SafeHtml) =>
    page({ title, viewer: viewerOf(res), section, csrfToken: csrfTokenOf(req), body, ...(head ? { head } : {}) });

  router.get('/calls', guard, async (req, res) => {
    const actor = actorOf(res);
    const filters = { repId: query(req, 'rep'), scenarioId: query(req, 'scenario'), status: query(req, 'status'), from: query(req, 'from'), to: query(req, 'to'), q: query(req, 'q') };
    const pageNumber = Math.max(1, Number.parseInt(query(req, 'page'), 10) || 1);
    const input: ListCallsInput = {
      ...(filters.repId ? { repId: filters.repId } : {}),
      ...(filters.scenarioId ? { scenarioId: filters.scenarioId } : {}),
      ...(filters.status ? { status: filters.status as CallStatus } : {}),
      ...(filters.from ? { from: filters.from } : {}),
      ...(filters.to ? { to: dayAfter(filters.to) } : {}),
      ...(filters.q ? { q: filters.q } : {}),
      page: pageNumber,
      pageSize: PAGE_SIZE,
    } as ListCallsInput;
    let errors: FieldErrors = {};
    let result = { items: [] as CallListItem[], total: 0, page: 1, pageSize: PAGE_SIZE };
    try {
      result = await listCalls(deps.app, actor, input);
    } catch (error) {
      errors = errorsFrom(error);
    }
    const [reps, scenarios] = await Promise.all([listUsers(deps.app, actor, { role: 'rep', includeInactive: true }), listScenarios(deps.app, actor, { includeArchived: true })]);
    const pages = Math.max(1, Math.ceil(result.total / PAGE_SIZE));
    const link = (target: number) => {
      const params = new URLSearchParams(Object.entries(filters).filter(([, value]) => value !== ''));
      params.set('page', String(target));
      return `/calls?${params.toString()}`;
    };
    const errorsFor: FieldErrors = { ...errors, rep: errors.repId ?? '', scenario: errors.scenarioId ?? '' };
    sendHtml(
      res,
      shell(
        req,
        res,
        'calls',
        'Calls',
        html`<h1>Calls</h1>
        <form method="get" action="/calls" class="card filters" role="search">
          ${selectField({ label: 'Rep', name: 'rep', value: filters.repId, blank: 'All reps', options: reps.map((r) => ({ value: r.id, label: r.name })), errors: errorsFor })}
          ${selectField({ label: 'Scenario', name: 'scenario', value: filters.scenarioId, blank: 'All scenarios', options: scenarios.map((s) => ({ value: s.id, label: s.title })), errors: errorsFor })}
          ${selectField({ label: 'Status', name: 'status', value: filters.status, blank: 'Any status', options: CALL_STATUSES.map((s) => ({ value: s, label: s.replace('_', ' ') })), errors })}
          ${inputField({ label: 'From (UTC)', name: 'from', type: 'date', value: filters.from, errors })}
          ${inputField({ label: 'To (UTC, inclusive)', name: 'to', type: 'date', value: filters.to, errors })}
          ${inputField({ label: 'Transcript contains', name: 'q', type: 'search', value: filters.q, errors })}
          <div><button type="submit">Filter</button> <a href="/calls">Reset</a></div>
        </form>
        <p class="muted">${result.total} call${result.total === 1 ? '' : 's'}, newest first.</p>
        ${callsTable(result.items, 'No calls match.')}
        <nav class="pager" aria-label="Pages">
          <span>${pageNumber > 1 ? html`<a href="${link(pageNumber - 1)}" rel="prev">← Newer</a>` : ''}</span>
          <span class="muted">Page ${pageNumber} of ${pages}</span>
          <span>${pageNumber < pages ? html`<a href="${link(pageNumber + 1)}" rel="next">Older →</a>` : ''}</span>
        </nav>`,
      ),
    );
  });

  router.get('/live', guard, async (req, res) => {
    const result = await listCalls(deps.app, actorOf(res), { status: [...LIVE_STATUSES], pageSize: 100 });
    sendHtml(
      res,
      shell(
        req,
        res,
        'live',
        'Live calls',
        html`<h1>Live calls</h1><p class="muted">Calls in progress. This page refreshes every 5 seconds.</p>${callsTable(result.items, 'No calls in progress right now.')}`,
        html`<meta http-equiv="refresh" content="5">`,
      ),
    );
  });

  router.get('/calls/:id', repsToo, async (req, res) => {
    const call = await getCall(deps.app, actorOf(res), String(req.params.id));
    const live = isLive(call.status);
    const rep = viewerOf(res).role === 'rep';
    // With JS the transcript streams in over SSE; without it the page refreshes itself. A finished
    // call with turns but no scorecard yet refreshes until the post-call job has stored it.
    const awaitingScorecard = !live && call.scorecard === null && call.turns.length > 0 && call.endedAt !== null && Date.now() - call.endedAt.getTime() < SCORECARD_WAIT_MS;
    const head = live
      ? html`<noscript><meta http-equiv="refresh" content="5"></noscript><script src="/static/live.js" defer></script>`
      : awaitingScorecard
        ? html`<meta http-equiv="refresh" content="3">`
        : undefined;
    const title = call.scenario?.title ?? 'Call';
    if (rep) {
      sendHtml(res, page({ title, viewer: viewerOf(res), section: 'me', csrfToken: csrfTokenOf(req), body: callBody(call, { internals: false, rescore: '' }), ...(head ? { head } : {}) }));
      return;
    }
    const canRescore = deps.scoring !== undefined && !live && call.scenario !== null;
    const body = callBody(call, { internals: true, rescore: canRescore ? rescoreForm(call, csrfTokenOf(req)) : '' });
    sendHtml(res, shell(req, res, live ? 'live' : 'calls', title, body, head));
  });

  // Each re-run is a paid LLM call: a few a minute per user is plenty.
  const rescoreLimit = rateLimit({
    windowMs: 60_000,
    limit: deps.rescoreRateLimit ?? 5,
    keyGenerator: (_req, res) => `user:${res.locals.viewer?.id ?? 'none'}`,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    handler: (_req, res) => res.status(429).type('text').send('Too many re-scoring requests; wait a minute and try again.'),
  });
  router.post('/calls/:id/rescore', guard, rescoreLimit, protect, async (req, res) => {
    if (!deps.scoring) return res.status(404).type('text').send('Not found');
    const id = String(req.params.id);
    await rescoreCall({ db: deps.app.db, ...deps.scoring }, actorOf(res), id);
    res.redirect(303, `/calls/${encodeURIComponent(id)}`);
  });

  // Server-sent events: new turns as they are stored, then `end` once the call is over, or once
  // the session that opened the stream is logged out or expired (checked at every poll).
  const openStreams = new Map<string, number>();
  const maxStreams = deps.maxLiveStreamsPerUser ?? 5;
  const sessionStillValid = (req: Request) =>
    new Promise<boolean>((resolve) => {
      req.session.reload((error) => resolve(!error && req.session.userId !== undefined && !sessionExpired(deps, req.session)));
    });
  router.get('/calls/:id/events', repsToo, async (req, res) => {
    const actor = actorOf(res);
    const id = String(req.params.id);
    const call = await getCall(deps.app, actor, id);
    const userId = viewerOf(res).id;
    const open = openStreams.get(userId) ?? 0;
    if (open >= maxStreams) {
      res.status(429).type('text').send('Too many live transcripts open; close one and reload.');
      return;
    }
    openStreams.set(userId, open + 1);
    try {
      // Each poll reads the status and only the turns after the last one sent, not the whole call.
      await streamCall(req, res, call, async (afterSeq) => ((await sessionStillValid(req)) ? liveTurns(deps.app, actor, id, afterSeq) : null));
    } finally {
      const left = (openStreams.get(userId) ?? 1) - 1;
      if (left > 0) openStreams.set(userId, left);
      else openStreams.delete(userId);
    }
  });

  /**
   * Writes turns as they appear; `poll` returns the status and the turns after the given seq, or
   * null when the viewer may no longer watch.
   */
  async function streamCall(req: Request, res: Response, first: CallDetail, poll: (afterSeq: number) => Promise<{ status: CallStatus; turns: LiveTurn[] } | null>): Promise<void> {
    const id = first.id;
    const after = Number.parseInt(String(req.query.after ?? req.get('Last-Event-ID') ?? '-1'), 10);
    let lastSeq = Number.isFinite(after) ? after : -1;
    let status = first.status;
    let fresh: readonly LiveTurn[] = first.turns;
    // The persona of the last persona turn the page already has, so a reconnect still marks a handoff.
    let lastPersonaId = [...first.turns].reverse().find((t) => t.speaker === 'persona' && t.seq <= lastSeq && t.personaId !== null)?.personaId ?? undefined;
    res.status(200).set({ 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store', 'X-Accel-Buffering': 'no' });
    res.flushHeaders();
    res.write('retry: 3000\n\n');
    let closed = false;
    const stop = () => {
      closed = true;
      res.end();
    };
    streams.add(stop);
    req.on('close', () => {
      closed = true;
    });
    const origin = originOf(first);
    const pollMs = deps.livePollMs ?? 1000;
    const deadline = Date.now() + 60 * 60_000;
    let lastWrite = Date.now();
    while (!closed && Date.now() < deadline) {
      for (const turn of fresh.filter((t) => t.seq > lastSeq)) {
        // Staged calls: a persona turn by someone new follows the line saying the caller was put through.
        const movedOn = turn.speaker === 'persona' && turn.personaId !== null && lastPersonaId !== undefined && turn.personaId !== lastPersonaId;
        if (turn.speaker === 'persona' && turn.personaId !== null) lastPersonaId = turn.personaId;
        const item = html`${movedOn ? putThroughItem(turn.personaName ?? 'the next persona') : ''}${transcriptItem(turn, origin)}`;
        res.write(`id: ${turn.seq}\nevent: turn\ndata: ${JSON.stringify({ seq: turn.seq, html: item.toString() })}\n\n`);
        lastSeq = turn.seq;
        lastWrite = Date.now();
      }
      if (!isLive(status)) {
        res.write(`event: end\ndata: ${JSON.stringify({ status })}\n\n`);
        break;
      }
      if (Date.now() - lastWrite > 15_000) {
        res.write(': keep-alive\n\n');
        lastWrite = Date.now();
      }
      await new Promise((resolve) => setTimeout(resolve, pollMs));
      if (closed) break;
      try {
        const next = await poll(lastSeq);
        if (next === null) {
          res.write(`event: end\ndata: ${JSON.stringify({ status: 'logged_out' })}\n\n`);
          break;
        }
        ({ status, turns: fresh } = next);
      } catch (error) {
        if (!isDomainError(error)) deps.logger.warn({ err: error, callId: id }, 'live transcript poll failed');
        break;
      }
    }
    streams.delete(stop);
    res.end();
  }
}
