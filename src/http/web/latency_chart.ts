// A small inline SVG: one stacked bar per persona turn, split into endpointing, STT, LLM time to
// first token, TTS time to first byte, and the rest of the measured end-to-end time. A reply
// prepared speculatively (decision 011) ran its STT, LLM and TTS during the endpointing silence, so
// stacking them would overstate the wait: its bar is endpointing plus what came after the commit.
import { html, type SafeHtml } from './html.js';

export interface TurnLatency {
  seq: number;
  endOfUtteranceDelayMs: number | null;
  sttMs: number | null;
  llmTtftMs: number | null;
  ttsTtfbMs: number | null;
  endToEndMs: number | null;
  /** Set when the reply was prepared before the rep's turn committed. */
  speculativeLeadMs?: number | null;
}

export const latencyParts = [
  { key: 'endOfUtteranceDelayMs', label: 'Endpointing', color: '#8fa3bf' },
  { key: 'sttMs', label: 'STT', color: '#4c7bd9' },
  { key: 'llmTtftMs', label: 'LLM first token', color: '#9b59b6' },
  { key: 'ttsTtfbMs', label: 'TTS first byte', color: '#e08e2b' },
] as const;

const OTHER_COLOR = '#c9ced6';
const AFTER_COMMIT_COLOR = '#5aa469';

const isSpeculative = (turn: TurnLatency) => turn.speculativeLeadMs !== null && turn.speculativeLeadMs !== undefined;

interface Segment {
  label: string;
  color: string;
  ms: number;
}

/** What the caller waited through, in order; overlapped stages are not stacked. */
export function latencySegments(turn: TurnLatency): Segment[] {
  if (isSpeculative(turn) && turn.endToEndMs !== null) {
    const endpointing = turn.endOfUtteranceDelayMs ?? 0;
    return [
      { label: 'Endpointing (reply prepared meanwhile)', color: latencyParts[0].color, ms: endpointing },
      { label: 'After the turn ended', color: AFTER_COMMIT_COLOR, ms: Math.max(0, turn.endToEndMs - endpointing) },
    ].filter((segment) => segment.ms > 0);
  }
  return [...latencyParts.map((p) => ({ label: p.label, color: p.color, ms: turn[p.key] ?? 0 })), { label: 'Other', color: OTHER_COLOR, ms: otherMs(turn) }].filter((segment) => segment.ms > 0);
}

/** The part of end-to-end time not covered by the measured components (transport, queuing). */
export function otherMs(turn: TurnLatency): number {
  if (turn.endToEndMs === null || isSpeculative(turn)) return 0;
  const parts = latencyParts.reduce((sum, part) => sum + (turn[part.key] ?? 0), 0);
  return Math.max(0, turn.endToEndMs - parts);
}

const round = (value: number) => Math.round(value * 10) / 10;

export function latencyChart(turns: readonly TurnLatency[]): SafeHtml {
  if (turns.length === 0) return html`<p class="muted">No latency figures were recorded for this call.</p>`;
  const totals = turns.map((turn) => latencySegments(turn).reduce((sum, segment) => sum + segment.ms, 0));
  const maxMs = Math.max(500, ...totals);
  // Gridlines on round figures: every 250 ms, 500 ms or whole seconds depending on the range.
  const step = maxMs <= 1000 ? 250 : maxMs <= 2500 ? 500 : 1000;
  const top = Math.ceil(maxMs / step) * step;
  const left = 44;
  const pad = 10;
  const bottom = 24;
  const height = 180;
  // A fixed drawing width keeps text the same size whatever the number of turns.
  const width = 640;
  const slot = (width - left - 10) / turns.length;
  const barWidth = round(Math.max(4, Math.min(40, slot * 0.7)));
  // With many turns, label only every few bars so the numbers do not overlap.
  const labelEvery = Math.max(1, Math.ceil(16 / slot));
  const y = (ms: number) => round(pad + height - (ms / top) * height);
  const gridSteps = Array.from({ length: top / step + 1 }, (_, index) => index * step);

  const bars = turns.map((turn, index) => {
    const x = round(left + index * slot + (slot - barWidth) / 2);
    let base = 0;
    const segments = latencySegments(turn)
      .map((segment) => {
        const rect = html`<rect x="${x}" y="${y(base + segment.ms)}" width="${barWidth}" height="${round((segment.ms / top) * height)}" fill="${segment.color}"><title>Turn ${turn.seq}: ${segment.label} ${Math.round(segment.ms)} ms</title></rect>`;
        base += segment.ms;
        return rect;
      });
    return html`<g>${segments}${index % labelEvery === 0 ? html`<text x="${round(x + barWidth / 2)}" y="${pad + height + 16}" font-size="10" text-anchor="middle">${turn.seq}</text>` : ''}</g>`;
  });

  return html`<figure>
    <svg class="latency" viewBox="0 0 ${width} ${pad + height + bottom}" role="img" aria-label="Latency per persona turn, stacked by stage">
      ${gridSteps.map((ms) => html`<line x1="${left - 4}" x2="${width}" y1="${y(ms)}" y2="${y(ms)}" stroke="#e3e6eb"/><text x="${left - 6}" y="${y(ms) + 3}" font-size="10" text-anchor="end">${ms >= 1000 ? `${ms / 1000} s` : `${ms}`}</text>`)}
      ${bars}
    </svg>
    <figcaption><ul class="legend">${[
      ...latencyParts,
      { label: 'Other (transport, queuing)', color: OTHER_COLOR },
      ...(turns.some(isSpeculative) ? [{ label: 'After the turn ended (reply prepared during the silence)', color: AFTER_COMMIT_COLOR }] : []),
    ].map(
      (part) => html`<li><svg width="12" height="12" aria-hidden="true"><rect width="12" height="12" fill="${part.color}"/></svg> ${part.label}</li>`,
    )}</ul><small>Milliseconds per persona turn (x axis: turn number).</small></figcaption>
  </figure>`;
}
