// A small inline SVG: one stacked bar per persona turn, split into endpointing, STT, LLM time to
// first token, TTS time to first byte, and the rest of the measured end-to-end time.
import { html, type SafeHtml } from './html.js';

export interface TurnLatency {
  seq: number;
  endOfUtteranceDelayMs: number | null;
  sttMs: number | null;
  llmTtftMs: number | null;
  ttsTtfbMs: number | null;
  endToEndMs: number | null;
}

export const latencyParts = [
  { key: 'endOfUtteranceDelayMs', label: 'Endpointing', color: '#8fa3bf' },
  { key: 'sttMs', label: 'STT', color: '#4c7bd9' },
  { key: 'llmTtftMs', label: 'LLM first token', color: '#9b59b6' },
  { key: 'ttsTtfbMs', label: 'TTS first byte', color: '#e08e2b' },
] as const;

const OTHER_COLOR = '#c9ced6';

/** The part of end-to-end time not covered by the measured components (transport, queuing). */
export function otherMs(turn: TurnLatency): number {
  if (turn.endToEndMs === null) return 0;
  const parts = latencyParts.reduce((sum, part) => sum + (turn[part.key] ?? 0), 0);
  return Math.max(0, turn.endToEndMs - parts);
}

const round = (value: number) => Math.round(value * 10) / 10;

export function latencyChart(turns: readonly TurnLatency[]): SafeHtml {
  if (turns.length === 0) return html`<p class="muted">No latency figures were recorded for this call.</p>`;
  const totals = turns.map((turn) => Math.max(turn.endToEndMs ?? 0, latencyParts.reduce((sum, p) => sum + (turn[p.key] ?? 0), 0)));
  const maxMs = Math.max(500, ...totals);
  // A round scale top (next multiple of 500 ms) keeps the gridlines readable.
  const top = Math.ceil(maxMs / 500) * 500;
  const left = 44;
  const bottom = 24;
  const height = 180;
  const barWidth = Math.max(8, Math.min(36, Math.floor(560 / turns.length) - 6));
  const width = left + turns.length * (barWidth + 6) + 10;
  const y = (ms: number) => round(height - (ms / top) * height);
  const gridSteps = [0, 0.25, 0.5, 0.75, 1].map((f) => f * top);

  const bars = turns.map((turn, index) => {
    const x = left + index * (barWidth + 6);
    let base = 0;
    const segments = [...latencyParts.map((p) => ({ label: p.label, color: p.color, ms: turn[p.key] ?? 0 })), { label: 'Other', color: OTHER_COLOR, ms: otherMs(turn) }]
      .filter((segment) => segment.ms > 0)
      .map((segment) => {
        const rect = html`<rect x="${x}" y="${y(base + segment.ms)}" width="${barWidth}" height="${round((segment.ms / top) * height)}" fill="${segment.color}"><title>Turn ${turn.seq}: ${segment.label} ${Math.round(segment.ms)} ms</title></rect>`;
        base += segment.ms;
        return rect;
      });
    return html`<g>${segments}<text x="${x + barWidth / 2}" y="${height + 16}" font-size="10" text-anchor="middle">${turn.seq}</text></g>`;
  });

  return html`<figure>
    <svg class="latency" viewBox="0 0 ${width} ${height + bottom}" role="img" aria-label="Latency per persona turn, stacked by stage">
      ${gridSteps.map((ms) => html`<line x1="${left - 4}" x2="${width}" y1="${y(ms)}" y2="${y(ms)}" stroke="#e3e6eb"/><text x="${left - 6}" y="${y(ms) + 3}" font-size="10" text-anchor="end">${ms >= 1000 ? `${ms / 1000}s` : `${ms}`}</text>`)}
      ${bars}
    </svg>
    <figcaption><ul class="legend">${[...latencyParts, { label: 'Other (transport, queuing)', color: OTHER_COLOR }].map(
      (part) => html`<li><svg width="12" height="12" aria-hidden="true"><rect width="12" height="12" fill="${part.color}"/></svg> ${part.label}</li>`,
    )}</ul><small>Milliseconds per persona turn (x axis: turn number).</small></figcaption>
  </figure>`;
}
