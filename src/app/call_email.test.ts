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
