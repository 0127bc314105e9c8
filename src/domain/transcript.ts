/**
 * Uploaded transcripts (for scoring a rubric without a call): JSON or plain "Speaker: text" lines.
 * Pure parsing; the result feeds the same analytics and scorecard as a real call.
 */
import { z } from 'zod';
import { type AnalyticsTurn, type Speaker, words } from './analytics.js';

export interface ParsedTranscript {
  turns: AnalyticsTurn[];
  /** False when times were estimated from word counts (then time-based analytics are null). */
  timed: boolean;
}

export class TranscriptError extends Error {
  readonly code = 'transcript_invalid';
  constructor(message: string) {
    super(message);
    this.name = 'TranscriptError';
  }
}

const REP_LABELS = new Set(['rep', 'sales rep', 'salesperson', 'sales', 'seller', 'me', 'caller', 'user']);
const PERSONA_LABELS = new Set(['persona', 'buyer', 'prospect', 'customer', 'client', 'ai', 'assistant', 'bot']);

/** Speaking pace used to lay out untimed transcripts; only the order matters then. */
const ESTIMATED_WORDS_PER_MINUTE = 150;

function speakerOf(label: string, repLabels: ReadonlySet<string>): Speaker | undefined {
  const key = label.trim().toLowerCase();
  if (repLabels.has(key) || REP_LABELS.has(key)) return 'rep';
  if (PERSONA_LABELS.has(key)) return 'persona';
  return undefined;
}

interface RawTurn {
  label: string;
  text: string;
  startMs?: number;
  endMs?: number;
  interrupted: boolean;
}

const seconds = z.number().nonnegative();
const jsonTurnSchema = z.object({
  speaker: z.string().min(1),
  text: z.string(),
  /** Seconds from the start of the call. */
  start: seconds.optional(),
  end: seconds.optional(),
  startedAt: z.iso.datetime({ offset: true }).optional(),
  endedAt: z.iso.datetime({ offset: true }).optional(),
  interrupted: z.boolean().optional(),
});
const jsonTranscriptSchema = z.union([z.array(jsonTurnSchema), z.object({ turns: z.array(jsonTurnSchema) })]);

function fromJson(value: unknown): RawTurn[] {
  const parsed = jsonTranscriptSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new TranscriptError(
      `JSON transcript must be an array of { speaker, text, start?, end? } (or { turns: [...] }): ${issue ? `${issue.path.join('.')} ${issue.message}` : 'invalid'}`,
    );
  }
  const list = Array.isArray(parsed.data) ? parsed.data : parsed.data.turns;
  return list.map((turn) => {
    const startMs = turn.start !== undefined ? turn.start * 1000 : turn.startedAt ? Date.parse(turn.startedAt) : undefined;
    const endMs = turn.end !== undefined ? turn.end * 1000 : turn.endedAt ? Date.parse(turn.endedAt) : undefined;
    return {
      label: turn.speaker,
      text: turn.text,
      ...(startMs === undefined ? {} : { startMs }),
      ...(endMs === undefined ? {} : { endMs }),
      interrupted: turn.interrupted ?? false,
    };
  });
}

/** `[01:02]`, `01:02`, `[1:02:03]` or `(00:05)` before the speaker label. */
const LINE = /^\s*(?:[[(]?(\d{1,2}:)?(\d{1,2}):(\d{2})(?:\.\d+)?[\])]?\s*[-–]?\s*)?([^:]{1,40}?)\s*:\s*(.*)$/;

function fromLines(text: string): RawTurn[] {
  const turns: RawTurn[] = [];
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === '') continue;
    const match = LINE.exec(line);
    if (match && match[4] !== undefined) {
      const [, hours, minutes, secs, label, said] = match;
      const startMs =
        minutes !== undefined && secs !== undefined
          ? ((Number(hours?.slice(0, -1) ?? 0) * 60 + Number(minutes)) * 60 + Number(secs)) * 1000
          : undefined;
      turns.push({ label: label ?? '', text: (said ?? '').trim(), ...(startMs === undefined ? {} : { startMs }), interrupted: false });
    } else {
      const last = turns[turns.length - 1];
      if (!last) throw new TranscriptError(`expected "Speaker: text" on the first line, got "${line.trim().slice(0, 60)}"`);
      last.text = `${last.text} ${line.trim()}`.trim();
    }
  }
  return turns;
}

function estimatedMs(text: string): number {
  return Math.max(1000, (words(text).length / ESTIMATED_WORDS_PER_MINUTE) * 60_000);
}

/**
 * Parses a transcript. Rep lines are labelled "Rep" (or "Sales rep", "Me", "Caller", or a name
 * passed in `repLabels`); every other label is the persona, but at least one rep line is required
 * so a mislabelled file is refused rather than scored as silence.
 */
export function parseTranscript(input: string, options: { repLabels?: readonly string[] } = {}): ParsedTranscript {
  const repLabels = new Set((options.repLabels ?? []).map((label) => label.trim().toLowerCase()));
  const trimmed = input.trim();
  if (trimmed === '') throw new TranscriptError('the transcript is empty');

  let raw: RawTurn[];
  if (trimmed.startsWith('[') || trimmed.startsWith('{')) {
    let json: unknown;
    try {
      json = JSON.parse(trimmed);
    } catch {
      json = undefined;
    }
    raw = json === undefined ? fromLines(trimmed) : fromJson(json);
  } else {
    raw = fromLines(trimmed);
  }
  raw = raw.filter((turn) => turn.text !== '');
  if (raw.length === 0) throw new TranscriptError('the transcript has no turns');

  const speakers = raw.map((turn) => speakerOf(turn.label, repLabels));
  if (!speakers.includes('rep')) {
    const labels = [...new Set(raw.map((turn) => turn.label))].slice(0, 5).join(', ');
    throw new TranscriptError(`no rep lines found (labels seen: ${labels}); label the rep's lines "Rep:"`);
  }

  const timed = raw.every((turn) => turn.startMs !== undefined);
  const turns: AnalyticsTurn[] = [];
  let clock = 0;
  for (const [index, turn] of raw.entries()) {
    const speaker = speakers[index] ?? 'persona';
    if (timed) {
      const startMs = turn.startMs ?? 0;
      const next = raw[index + 1]?.startMs;
      const endMs = turn.endMs ?? (next !== undefined && next > startMs ? next : startMs + estimatedMs(turn.text));
      turns.push({ speaker, text: turn.text, startMs, endMs, interrupted: turn.interrupted });
    } else {
      const endMs = clock + estimatedMs(turn.text);
      turns.push({ speaker, text: turn.text, startMs: clock, endMs, interrupted: turn.interrupted });
      clock = endMs;
    }
  }
  return { turns, timed };
}
