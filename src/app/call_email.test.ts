import { describe, expect, it } from 'vitest';
import { computeAnalytics, type AnalyticsTurn } from '../domain/analytics.js';
import { renderCallEmail, type CallEmailInput } from './call_email.js';

const turns: AnalyticsTurn[] = [
  { speaker: 'persona', text: 'Hello <Diane> & co.', startMs: 1000, endMs: 3000, interrupted: false },
  { speaker: 'rep', text: 'Hi! "Quick" question: <script>alert(1)</script>?', startMs: 3500, endMs: 9000, interrupted: false },
];

const input = (overrides: Partial<CallEmailInput> = {}): CallEmailInput => ({
  recipient: { name: 'Riley <Rep>', role: 'rep' },
  repName: 'Riley <Rep>',
  personaName: 'Diane "The CFO" Carter',
  scenarioTitle: 'Cold call <b>CFO</b>',
  callId: 'c1',
  startedAt: new Date('2026-11-25T10:00:00Z'),
  durationSeconds: 125,
  turns,
  analytics: computeAnalytics(turns),
  scorecard: {
    status: 'scored',
    overallScore: 72.4,
    passed: true,
    summary: 'Good <em>start</em>.',
    criteria: [{ criterionId: 'd', name: 'Discovery & depth', weight: 1, score: 72, evidence: 'Quick" question', suggestion: 'Ask "why now?" <early>' }],
  },
  passMark: 70,
  callUrl: 'https://practice.example.com/calls/c1?a=1&b=2',
  ...overrides,
});

describe('renderCallEmail', () => {
  it('escapes every value in the HTML', () => {
    const { html } = renderCallEmail(input());
    for (const raw of ['<script>', '<Diane>', '<b>CFO</b>', '<em>start</em>', '<Rep>', '<early>']) expect(html).not.toContain(raw);
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('Hello &lt;Diane&gt; &amp; co.');
    expect(html).toContain('Diane &quot;The CFO&quot; Carter');
    expect(html).toContain('href="https://practice.example.com/calls/c1?a=1&amp;b=2"');
    expect(html).toContain('<title>Your practice call: Cold call &lt;b&gt;CFO&lt;/b&gt; (72/100, passed)</title>');
  });

  it('writes a plain-text version with times relative to the first turn', () => {
    const { text, subject } = renderCallEmail(input());
    expect(subject).toBe('Your practice call: Cold call <b>CFO</b> (72/100, passed)');
    expect(text).toContain('[00:00] Diane "The CFO" Carter: Hello <Diane> & co.');
    expect(text).toContain('[00:03] Riley <Rep>: Hi! "Quick" question: <script>alert(1)</script>?');
    expect(text).toContain('Call length: 2 min 5 s');
    expect(text).toContain('Talk ratio (you): 73%');
  });

  it('addresses the manager about the rep, and says when the scorecard is unavailable', () => {
    const { subject, text } = renderCallEmail(
      input({ recipient: { name: 'Morgan Lee', role: 'manager' }, scorecard: { status: 'unavailable', reason: 'Groq answered 500' }, passMark: null }),
    );
    expect(subject).toBe("Riley <Rep>'s practice call: Cold call <b>CFO</b> (scorecard unavailable)");
    expect(text).toMatch(/^Hi Morgan,/);
    expect(text).toContain('Scorecard unavailable: Groq answered 500');
    expect(text).toContain('Talk ratio (Riley): 73%');
  });
});

describe('a staged call in the email (decision 018)', () => {
  const staged: AnalyticsTurn[] = [
    { speaker: 'persona', text: 'Front desk, Sam speaking.', startMs: 0, endMs: 1500, interrupted: false, personaId: 'sam', personaName: 'Sam Reyes' },
    { speaker: 'rep', text: 'Riley from Acme, about your freight costs.', startMs: 2000, endMs: 4000, interrupted: false, personaId: null },
    { speaker: 'persona', text: 'One moment, I will put you through.', startMs: 4000, endMs: 6000, interrupted: false, personaId: 'sam', personaName: 'Sam Reyes' },
    { speaker: 'persona', text: 'Diane Carter.', startMs: 8000, endMs: 9500, interrupted: false, personaId: 'diane', personaName: 'Diane <CFO> Carter' },
  ];

  it('names each persona and shows where the rep was put through, in text and HTML', () => {
    const { text, html } = renderCallEmail(input({ personaName: 'Sam Reyes', turns: staged, analytics: computeAnalytics(staged) }));
    expect(text).toContain('[00:04] Sam Reyes: One moment, I will put you through.\n— put through to Diane <CFO> Carter —\n[00:08] Diane <CFO> Carter: Diane Carter.');
    expect(html).toContain('— put through to Diane &lt;CFO&gt; Carter —');
    expect(text.match(/put through to/g)).toHaveLength(1);
  });

  it('shows no handoff for a single-persona call', () => {
    expect(renderCallEmail(input()).text).not.toContain('put through');
  });
});
