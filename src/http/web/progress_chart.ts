// Scores per attempt for one scenario as a small inline SVG (no client JS): the overall score as a
// line with its points, each rubric criterion as a thinner line, and the pass mark dashed.
import type { ScoredAttempt } from '../../domain/practice.js';
import { html, type SafeHtml } from './html.js';

const PALETTE = ['#4c7bd9', '#9b59b6', '#e08e2b', '#2a9d8f', '#c0392b', '#7f8c8d'];
const round = (value: number) => Math.round(value * 10) / 10;

export function progressChart(attempts: readonly ScoredAttempt[], passMark: number | null, title: string): SafeHtml {
  if (attempts.length === 0) return html`<p class="muted">No scored attempts yet.</p>`;
  const left = 34;
  const pad = 10;
  const height = 140;
  const width = 480;
  const bottom = 22;
  const slot = attempts.length === 1 ? 0 : (width - left - 20) / (attempts.length - 1);
  const x = (index: number) => round(left + 10 + index * slot);
  const y = (score: number) => round(pad + height - (Math.max(0, Math.min(100, score)) / 100) * height);
  const line = (points: { index: number; score: number }[]) => points.map((p) => `${x(p.index)},${y(p.score)}`).join(' ');
  const criteria = [...new Map(attempts.flatMap((a) => a.criteria.map((c) => [c.criterionId, c.name] as const))).entries()];

  return html`<figure>
    <svg class="progress" viewBox="0 0 ${width} ${pad + height + bottom}" role="img" aria-label="Scores per attempt for ${title}">
      ${[0, 25, 50, 75, 100].map((score) => html`<line x1="${left - 4}" x2="${width}" y1="${y(score)}" y2="${y(score)}" stroke="#e3e6eb"/><text x="${left - 6}" y="${y(score) + 3}" font-size="10" text-anchor="end">${score}</text>`)}
      ${passMark === null ? '' : html`<line x1="${left}" x2="${width}" y1="${y(passMark)}" y2="${y(passMark)}" stroke="#2e8b57" stroke-dasharray="4 3"><title>Pass mark ${passMark}</title></line>`}
      ${criteria.map(([id, name], index) => {
        const points = attempts.flatMap((a, i) => a.criteria.filter((c) => c.criterionId === id).map((c) => ({ index: i, score: c.score })));
        return html`<polyline points="${line(points)}" fill="none" stroke="${PALETTE[index % PALETTE.length]}" stroke-width="1.2" opacity="0.7"><title>${name}</title></polyline>`;
      })}
      <polyline points="${line(attempts.map((a, index) => ({ index, score: a.overall })))}" fill="none" stroke="#1f2933" stroke-width="2.5"/>
      ${attempts.map(
        (a, index) => html`<a href="/calls/${a.callId}"><circle cx="${x(index)}" cy="${y(a.overall)}" r="4" fill="#1f2933"><title>Attempt ${index + 1}: ${Math.round(a.overall)}</title></circle></a>
        <text x="${x(index)}" y="${pad + height + 16}" font-size="10" text-anchor="middle">${index + 1}</text>`,
      )}
    </svg>
    <figcaption><ul class="legend"><li><svg width="12" height="12" aria-hidden="true"><rect width="12" height="3" y="5" fill="#1f2933"/></svg> Overall</li>${criteria.map(
      ([, name], index) => html`<li><svg width="12" height="12" aria-hidden="true"><rect width="12" height="2" y="5" fill="${PALETTE[index % PALETTE.length]}"/></svg> ${name}</li>`,
    )}${passMark === null ? '' : html`<li><svg width="12" height="12" aria-hidden="true"><rect width="12" height="2" y="5" fill="#2e8b57"/></svg> Pass mark</li>`}</ul><small>Score out of 100 per attempt (x axis: attempt number).</small></figcaption>
  </figure>`;
}
