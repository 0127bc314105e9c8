import { describe, expect, it } from 'vitest';
import { html, joinHtml, trustedHtml } from './html.js';

describe('html', () => {
  it('escapes interpolated strings, including in attributes', () => {
    const name = `<script>alert("x")</script>'`;
    expect(html`<p title="${name}">${name}</p>`.toString()).toBe(
      '<p title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39;">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39;</p>',
    );
  });

  it('nests fragments without escaping them twice, and escapes strings inside arrays', () => {
    const items = ['a&b', '<i>'];
    expect(html`<ul>${items.map((item) => html`<li>${item}</li>`)}</ul>`.toString()).toBe('<ul><li>a&amp;b</li><li>&lt;i&gt;</li></ul>');
    expect(html`${['<b>', html`<b>`]}`.toString()).toBe('&lt;b&gt;<b>');
  });

  it('renders nothing for null, undefined and booleans, and numbers as text', () => {
    expect(html`${null}${undefined}${false}${true}${0}${1.5}`.toString()).toBe('01.5');
  });

  it('passes trusted markup through and joins with escaping', () => {
    expect(html`${trustedHtml('<path d="M0 0"/>')}`.toString()).toBe('<path d="M0 0"/>');
    expect(joinHtml(['<a>', html`<b>`], ', ').toString()).toBe('&lt;a&gt;, <b>');
  });
});
