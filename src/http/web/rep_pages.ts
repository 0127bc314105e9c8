// A rep's own pages: assignments with their state, how to call, their calls and progress, and the
// browser practice page. Staff reach the same practice page through "Try this scenario".
import type { Request, RequestHandler, Response, Router } from 'express';
import { listCalls, type CallListItem } from '../../app/calls.js';
import { listMyAssignments, myProgress, type MyAssignment, type ScenarioProgress } from '../../app/rep_home.js';
import { giveBackUnansweredCall, joinDetails, startPractice, startTestCall, type WebCallOutcome } from '../../app/web_call.js';
import type { ResolveFailure } from '../../domain/resolver.js';
import { actorOf, viewerOf } from '../locals.js';
import { html, type SafeHtml } from './html.js';
import { redirectWithNotice, sendHtml } from './forms.js';
import { csrfField, formatDuration, formatTime, page, passBadge, statusBadge } from './layout.js';
import { progressChart } from './progress_chart.js';
import { practiceScriptPath } from './practice_bundle.js';
import { csrfTokenOf } from './session.js';
import type { WebDeps } from './web_deps.js';

const STATE_LABEL = { not_started: 'not started', in_progress: 'in progress', passed: 'passed', overdue: 'overdue' } as const;

/** What the rep reads when "Practise now" is refused: the same reasons the phone gives. */
export function refusalText(failure: ResolveFailure): string {
  switch (failure.kind) {
    case 'expired':
      return `This assignment was due ${formatTime(failure.dueAt)} and no longer takes calls. Ask your manager to extend it.`;
    case 'exhausted':
      return 'You have used every attempt on this assignment. Ask your manager for more.';
    case 'inactive':
      return 'This scenario is not available any more.';
    default:
      return 'This assignment cannot take a call right now.';
  }
}

function assignmentRow(req: Request, a: MyAssignment, canPractise: boolean): SafeHtml {
  const left = a.attemptsLeft === null ? 'unlimited' : String(a.attemptsLeft);
  return html`<tr>
    <td><strong>${a.scenario.title}</strong><br><small class="muted">${a.scenario.objective}</small></td>
    <td>${a.persona.name}<br><small class="muted">${a.persona.role}, ${a.persona.company}</small></td>
    <td>${a.dueAt ? formatTime(a.dueAt) : '—'}</td>
    <td class="num">${left}</td>
    <td class="num">${a.passMark}</td>
    <td class="num">${a.bestScore === null ? '—' : Math.round(a.bestScore)}</td>
    <td><span class="badge state-${a.state}">${STATE_LABEL[a.state]}</span>${a.passedAt ? html`<br><small>${formatTime(a.passedAt)}</small>` : ''}</td>
    <td>${canPractise && a.attemptsLeft !== 0
      ? html`<form method="post" action="/practice/assignments/${a.id}" class="inline">${csrfField(csrfTokenOf(req))}<button type="submit">Practise now</button></form>`
      : ''}</td>
  </tr>`;
}

function progressSection(progress: readonly ScenarioProgress[]): SafeHtml {
  if (progress.length === 0) return html`<p class="muted">Your scores appear here after your first scored call.</p>`;
  return html`${progress.map(
    (p) => html`<div class="progress-scenario"><h3>${p.scenario.title}</h3>
      ${progressChart(p.attempts, p.passMark, p.scenario.title)}
      ${p.changes
        ? html`<p>Since your previous attempt: overall <strong>${signed(p.changes.overall)}</strong>.</p>
          <ul class="changes">${p.changes.criteria.map((c) => html`<li>${c.name}: ${Math.round(c.before)} → ${Math.round(c.after)} (${signed(c.delta)})</li>`)}</ul>`
        : ''}</div>`,
  )}`;
}

const signed = (value: number) => `${value > 0 ? '+' : ''}${Math.round(value)}`;

function myCallRow(call: CallListItem): SafeHtml {
  return html`<tr>
    <td><a href="/calls/${call.id}">${formatTime(call.createdAt)}</a></td>
    <td>${call.scenario?.title ?? '—'}</td>
    <td>${call.path === 'web' ? 'browser' : 'phone'}</td>
    <td class="num">${formatDuration(call.durationSeconds)}</td>
    <td class="num">${call.score === null ? '—' : Math.round(call.score)}</td>
    <td>${passBadge(call.passed)}</td>
    <td>${statusBadge(call.status)}</td>
  </tr>`;
}

function practicePage(req: Request, res: Response, details: Extract<Awaited<ReturnType<typeof joinDetails>>, { kind: 'join' }>): SafeHtml {
  const back = viewerOf(res).role === 'rep' ? '/me' : '/scenarios';
  return page({
    title: `Practice: ${details.scenarioTitle}`,
    viewer: viewerOf(res),
    section: viewerOf(res).role === 'rep' ? 'me' : 'scenarios',
    csrfToken: csrfTokenOf(req),
    head: html`<script src="${practiceScriptPath}" defer></script>`,
    body: html`<p><a href="${back}">← Back</a></p>
    <h1>${details.scenarioTitle}${details.isTest ? html` <span class="badge">test call</span>` : ''}</h1>
    <section class="card practice" id="practice"
      data-call-id="${details.callId}" data-livekit-url="${details.livekitUrl}" data-token="${details.token}"
      data-persona="${details.persona.name}" data-time-limit="${details.timeLimitSeconds}"
      data-agent-join-timeout="${details.agentJoinTimeoutSeconds}" data-csrf="${csrfTokenOf(req)}">
      <p class="practice-status" id="practice-status" role="status" aria-live="polite">Connecting…</p>
      <p class="muted">${details.persona.name}, ${details.persona.role} at ${details.persona.company}.</p>
      <div class="practice-controls">
        <label>Your microphone <meter id="mic-level" min="0" max="1" low="0.05" high="0.6" optimum="0.3" value="0"></meter></label>
        <span>Time left: <strong id="time-left">${formatDuration(details.timeLimitSeconds)}</strong></span>
        <button type="button" id="mute" disabled>Mute</button>
        <button type="button" id="hang-up" class="danger" disabled>Hang up</button>
      </div>
      <ol class="captions" id="captions" aria-live="polite" aria-label="Live captions"></ol>
      <noscript><p class="error">Practising in the browser needs JavaScript. You can also call in by phone.</p></noscript>
    </section>`,
  });
}

function sendOutcome(req: Request, res: Response, outcome: WebCallOutcome, back: string): Promise<void> | void {
  if (outcome.kind === 'started') return res.redirect(303, `/practice/calls/${outcome.callId}`);
  if (outcome.kind === 'refused') return redirectWithNotice(req, res, back, refusalText(outcome.failure));
  if (outcome.kind === 'no_partner') return redirectWithNotice(req, res, back, 'No practice partner is free right now; nothing was used. Try again in a few minutes.');
  if (outcome.kind === 'busy') return redirectWithNotice(req, res, back, 'You already have a practice call open: finish it first (or give it a minute to close).');
  return redirectWithNotice(req, res, back, 'The practice line could not start the call. Try again in a minute.');
}

export function addRepRoutes(router: Router, deps: WebDeps, guard: RequestHandler, repsToo: RequestHandler, protect: RequestHandler): void {
  router.get('/me', repsToo, async (req, res) => {
    const viewer = viewerOf(res);
    if (viewer.role !== 'rep') return res.redirect(303, '/calls');
    const actor = actorOf(res);
    const [assignments, progress, recent] = await Promise.all([
      listMyAssignments(deps.app, actor),
      myProgress(deps.app, actor),
      listCalls(deps.app, actor, { pageSize: 50 }),
    ]);
    const notice = req.session.notice;
    delete req.session.notice;
    sendHtml(
      res,
      page({
        title: 'My practice',
        viewer,
        section: 'me',
        csrfToken: csrfTokenOf(req),
        notice,
        body: html`<h1>My practice</h1>
        <section class="card"><h2>Assignments</h2>
          ${assignments.length === 0
            ? html`<p class="muted">No assignments yet. Your manager assigns scenarios to you.</p>`
            : html`<div class="table-wrap"><table id="assignments">
              <thead><tr><th>Scenario</th><th>Persona</th><th>Due</th><th class="num">Attempts left</th><th class="num">Pass mark</th><th class="num">Best</th><th>State</th><th></th></tr></thead>
              <tbody>${assignments.map((a) => assignmentRow(req, a, Boolean(deps.practice)))}</tbody></table></div>`}
          ${!deps.practice ? html`<p class="muted">Browser practice is not set up on this installation yet; call in by phone.</p>` : ''}
        </section>
        <section class="card"><h2>How to call</h2>
          ${deps.practiceNumber
            ? html`<p>Dial <strong>${deps.practiceNumber}</strong> and key your PIN for the assignment, then <kbd>#</kbd>.</p>`
            : html`<p>Dial your practice line and key your PIN for the assignment, then <kbd>#</kbd>.</p>`}
          <p class="muted">Your PIN was emailed to you when the scenario was assigned; PINs are never shown again. Lost it? Ask your manager to rotate it.</p>
        </section>
        <section class="card" id="progress"><h2>Progress</h2>${progressSection(progress)}</section>
        <section class="card"><h2>My calls</h2>
          ${recent.items.length === 0
            ? html`<p class="muted">No calls yet.</p>`
            : html`<div class="table-wrap"><table id="my-calls"><thead><tr><th>Started</th><th>Scenario</th><th>How</th><th class="num">Duration</th><th class="num">Score</th><th>Result</th><th>Status</th></tr></thead>
              <tbody>${recent.items.map(myCallRow)}</tbody></table></div>`}
        </section>`,
      }),
    );
  });

  router.post('/practice/assignments/:id', repsToo, protect, async (req, res) => {
    if (!deps.practice) return redirectWithNotice(req, res, '/me', 'Browser practice is not set up on this installation yet.');
    const outcome = await startPractice(deps.practice, actorOf(res), String(req.params.id));
    await sendOutcome(req, res, outcome, '/me');
  });

  router.post('/scenarios/:id/try', guard, protect, async (req, res) => {
    const back = `/scenarios/${String(req.params.id)}`;
    if (!deps.practice) return redirectWithNotice(req, res, back, 'Browser calls need LiveKit keys (LIVEKIT_URL, LIVEKIT_API_KEY, LIVEKIT_API_SECRET).');
    const outcome = await startTestCall(deps.practice, actorOf(res), String(req.params.id));
    await sendOutcome(req, res, outcome, back);
  });

  router.get('/practice/calls/:id', repsToo, async (req, res) => {
    if (!deps.practice) return res.redirect(303, `/calls/${String(req.params.id)}`);
    const details = await joinDetails(deps.practice, actorOf(res), String(req.params.id));
    if (details.kind === 'ended') return res.redirect(303, `/calls/${details.callId}`);
    sendHtml(res, practicePage(req, res, details));
  });

  // The page's report that no persona joined in time (JSON for its script; CSRF from the page).
  router.post('/practice/calls/:id/no-agent', repsToo, protect, async (req, res) => {
    if (!deps.practice) return res.status(404).json({ error: 'not_found' });
    res.json(await giveBackUnansweredCall(deps.practice, actorOf(res), String(req.params.id)));
  });
}
