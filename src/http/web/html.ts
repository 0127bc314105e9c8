// Escaping by construction: every interpolated value is HTML-escaped unless it is itself the
// output of `html` (a SafeHtml). The only way to emit raw markup is `trustedHtml`, which no page
// passes user data to. We wrote these ~40 lines instead of pulling a package because the small
// tagged-template libraries we read each keep an easy raw path (ghtml needs a `!` before every
// nested template; html-template-tag joins arrays unescaped) and template engines like eta keep
// templates outside the type checker.

export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

/** Anything a template may interpolate; nullish and booleans render as nothing. */
export type HtmlValue = SafeHtml | string | number | bigint | boolean | null | undefined | readonly HtmlValue[];

const entities: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;' };

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"'`]/g, (char) => entities[char] ?? char);
}

function render(value: HtmlValue): string {
  if (value instanceof SafeHtml) return value.value;
  if (value === null || value === undefined || typeof value === 'boolean') return '';
  if (Array.isArray(value)) return value.map(render).join('');
  return escapeHtml(String(value));
}

export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml {
  let out = strings[0] ?? '';
  for (const [index, value] of values.entries()) out += render(value) + (strings[index + 1] ?? '');
  return new SafeHtml(out);
}

/** Markup we wrote ourselves (e.g. a computed SVG path); never user input. */
export const trustedHtml = (markup: string): SafeHtml => new SafeHtml(markup);

/** Joins fragments, escaping any plain strings among them. */
export const joinHtml = (parts: readonly HtmlValue[], separator: HtmlValue = ''): SafeHtml =>
  new SafeHtml(parts.map(render).join(render(separator)));
