/*
 * What the emulated LLM says. Tests script replies with rules matched against the last user
 * message; anything unscripted gets an in-character default built from the system prompt, so an
 * ad-hoc call through the emulators still converses.
 */

export interface ChatMessage {
  readonly role: string;
  readonly content?: unknown;
  readonly tool_calls?: unknown;
  readonly tool_call_id?: string;
}

export interface ChatTool {
  readonly type?: string;
  readonly function?: { readonly name?: string; readonly parameters?: unknown };
}

export interface ChatRequest {
  readonly model: string;
  readonly messages: readonly ChatMessage[];
  readonly tools?: readonly ChatTool[];
  readonly response_format?: { readonly type?: string; readonly json_schema?: { readonly schema?: unknown } };
}

export interface ScriptedToolCall {
  readonly name: string;
  readonly arguments?: Record<string, unknown> | string;
}

export interface ReplyRule {
  /**
   * Matches the last user message: a string (case-insensitive substring), a RegExp, or a predicate
   * over the whole request. Omitted: matches any request.
   */
  readonly when?: string | RegExp | ((request: ChatRequest, lastUser: string) => boolean);
  /** Spoken text. */
  readonly reply?: string;
  readonly toolCalls?: readonly ScriptedToolCall[];
  /** Content for response_format requests (serialised as JSON). */
  readonly json?: unknown;
  /** Use this rule for one request only (default: every match). */
  readonly once?: boolean;
}

export interface Reply {
  readonly content: string;
  readonly toolCalls: readonly ScriptedToolCall[];
  /** Which rule produced it: its index, or 'default'. */
  readonly source: number | 'default';
}

export interface PersonaScript {
  /** Adds rules; earlier rules win. */
  add(...rules: readonly ReplyRule[]): void;
  reset(): void;
  rules(): readonly ReplyRule[];
  replyTo(request: ChatRequest): Reply;
}

export function messageText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((part: unknown) => (typeof part === 'object' && part !== null && 'text' in part && typeof part.text === 'string' ? part.text : ''))
      .join('');
  }
  return '';
}

/** The persona's name from prompts such as "You are Dana Whitfield, ..." or "Your name is Dana". */
export function personaNameFrom(system: string): string | undefined {
  const patterns = [
    /\byour name is\s+([A-Z][\w'-]+)/i,
    /\b[Yy]ou are\s+([A-Z][\w'-]+)(?=[\s,.(])/,
    /\b[Yy]ou're\s+([A-Z][\w'-]+)/,
    /\bnamed\s+([A-Z][\w'-]+)/,
    /\bpersona:\s*([A-Z][\w'-]+)/i,
    /\bname:\s*([A-Z][\w'-]+)/i,
  ];
  for (const pattern of patterns) {
    const name = pattern.exec(system)?.[1];
    if (name && !['a', 'an', 'the'].includes(name.toLowerCase())) return name;
  }
  return undefined;
}

function companyFrom(system: string): string | undefined {
  return /\b(?:at|from|of|company:)\s+([A-Z][\w&'-]*(?:\s+[A-Z][\w&'-]*)*)/.exec(system)?.[1];
}

const DEFAULT_LINES = [
  'I see. How exactly would that help us?',
  'Hmm, we already have something in place for that.',
  'What would that cost us?',
  'I am not sure that is a priority for us right now.',
  'Can you give me an example of a customer like us?',
  'Okay, go on.',
] as const;

function hash(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
}

function defaultReply(request: ChatRequest, lastUser: string): Reply {
  const system = request.messages.filter((m) => m.role === 'system' || m.role === 'developer').map((m) => messageText(m.content)).join('\n');
  const name = personaNameFrom(system);
  const company = companyFrom(system);
  const userTurns = request.messages.filter((m) => m.role === 'user').length;
  const last = request.messages[request.messages.length - 1];
  if (last?.role === 'tool') return { content: '', toolCalls: [], source: 'default' };
  const hasEndCall = request.tools?.some((t) => t.function?.name === 'end_call') ?? false;
  if (hasEndCall && /\b(bye|goodbye|hang up)\b/i.test(lastUser)) {
    return { content: 'Thanks for calling, goodbye.', toolCalls: [{ name: 'end_call', arguments: {} }], source: 'default' };
  }
  if (userTurns === 0 || lastUser.trim() === '') {
    const who = name ? `this is ${name}${company ? ` at ${company}` : ''}` : 'who is this';
    return { content: name ? `Hello, ${who}. Who am I speaking with?` : `Hello, ${who}?`, toolCalls: [], source: 'default' };
  }
  return { content: DEFAULT_LINES[hash(lastUser) % DEFAULT_LINES.length] ?? 'Okay.', toolCalls: [], source: 'default' };
}

function matches(rule: ReplyRule, request: ChatRequest, lastUser: string): boolean {
  const when = rule.when;
  if (when === undefined) return true;
  if (typeof when === 'string') return lastUser.toLowerCase().includes(when.toLowerCase());
  if (when instanceof RegExp) return when.test(lastUser);
  return when(request, lastUser);
}

export function createPersonaScript(initial: readonly ReplyRule[] = []): PersonaScript {
  let rules: Array<{ rule: ReplyRule; used: boolean }> = initial.map((rule) => ({ rule, used: false }));
  return {
    add(...more) {
      rules.push(...more.map((rule) => ({ rule, used: false })));
    },
    reset() {
      rules = [];
    },
    rules: () => rules.map((r) => r.rule),
    replyTo(request) {
      const lastUserMessage = [...request.messages].reverse().find((m) => m.role === 'user');
      const lastUser = messageText(lastUserMessage?.content);
      for (const [index, entry] of rules.entries()) {
        if (entry.used || !matches(entry.rule, request, lastUser)) continue;
        if (entry.rule.once) entry.used = true;
        const content = entry.rule.json !== undefined ? JSON.stringify(entry.rule.json) : entry.rule.reply ?? '';
        return { content, toolCalls: entry.rule.toolCalls ?? [], source: index };
      }
      return defaultReply(request, lastUser);
    },
  };
}

/** A value that satisfies a JSON schema (the common subset: objects, arrays, enums, consts, unions, refs). */
export function exampleForSchema(schema: unknown, root: unknown = schema, depth = 0): unknown {
  if (typeof schema !== 'object' || schema === null || depth > 12) return null;
  const s = schema as Record<string, unknown>;
  if (typeof s['$ref'] === 'string') {
    const path = s['$ref'].replace(/^#\//, '').split('/');
    let target: unknown = root;
    for (const key of path) target = typeof target === 'object' && target !== null ? (target as Record<string, unknown>)[key] : undefined;
    return exampleForSchema(target, root, depth + 1);
  }
  if ('const' in s) return s['const'];
  if (Array.isArray(s['enum']) && s['enum'].length > 0) return s['enum'][0];
  if ('default' in s) return s['default'];
  for (const key of ['anyOf', 'oneOf', 'allOf'] as const) {
    const options = s[key];
    if (Array.isArray(options) && options.length > 0) {
      const nonNull = options.find((o: unknown) => !(typeof o === 'object' && o !== null && (o as Record<string, unknown>)['type'] === 'null'));
      return exampleForSchema(nonNull ?? options[0], root, depth + 1);
    }
  }
  const type = Array.isArray(s['type']) ? (s['type'].find((t) => t !== 'null') as unknown) : s['type'];
  switch (type) {
    case 'object': {
      const out: Record<string, unknown> = {};
      const props = (s['properties'] ?? {}) as Record<string, unknown>;
      for (const [key, sub] of Object.entries(props)) out[key] = exampleForSchema(sub, root, depth + 1);
      return out;
    }
    case 'array': {
      const count = Math.max(1, typeof s['minItems'] === 'number' ? s['minItems'] : 1);
      return Array.from({ length: count }, () => exampleForSchema(s['items'], root, depth + 1));
    }
    case 'integer':
    case 'number': {
      const min = typeof s['minimum'] === 'number' ? s['minimum'] : undefined;
      const max = typeof s['maximum'] === 'number' ? s['maximum'] : undefined;
      if (min !== undefined && max !== undefined) return type === 'integer' ? Math.round((min + max) / 2) : (min + max) / 2;
      return min ?? max ?? 0;
    }
    case 'boolean':
      return true;
    case 'null':
      return null;
    case 'string': {
      const minLength = typeof s['minLength'] === 'number' ? s['minLength'] : 0;
      return 'example'.padEnd(minLength, '.');
    }
    default:
      return typeof s['properties'] === 'object' ? exampleForSchema({ ...s, type: 'object' }, root, depth + 1) : null;
  }
}
