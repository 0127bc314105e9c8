// The room-metadata contract between the dispatch service and the persona agent (docs/architecture.md,
// "The room metadata contract"). Both sides import this one schema; a change that an older agent
// could misread must bump `v`.
//
// Two stages share the envelope `{ v, stage }` so the agent can tell them apart before it reads
// anything else:
//   - `ready`: the call is resolved; the persona, scenario and rep are all here. The Twilio path
//     creates its room with this; the direct-trunk path gets it back from
//     `POST /api/dispatch/resolve` (and the room metadata is updated to it).
//   - `awaiting_pin`: a direct-trunk call whose room was created by an individual dispatch rule;
//     nobody knows who is calling yet. The agent collects the PIN (or resolves by the called
//     number) and posts it to the resolve endpoint. `callId` is absent until then.
//
// Versions: a single-persona call is `v: 1`, exactly as before stages existed. A staged call
// (gatekeeper -> decision-maker, decision 018) is `v: 2`: it adds `personaId` (who answers) and
// `stages` (who the caller can be put through to, in order, each with the rule for getting there).
// An agent that predates stages refuses v 2 with its apology instead of playing a gatekeeper who
// can never put anyone through; this agent accepts both.
import { z } from 'zod';
import type { RubricCriterion } from './scorecard.js';
import { BACKGROUND_NOISES } from './background_noise.js';

export const ROOM_METADATA_VERSION = 1 as const;
/** A call with stages (decision 018); single-persona calls stay at ROOM_METADATA_VERSION. */
export const STAGED_ROOM_METADATA_VERSION = 2 as const;
const SUPPORTED_VERSIONS: readonly unknown[] = [ROOM_METADATA_VERSION, STAGED_ROOM_METADATA_VERSION];

const text = (what: string, max = 4000) =>
  z.string({ message: `expected ${what}` }).trim().min(1, `expected ${what}`).max(max, `${what} is too long`);

export const roomPersonaSchema = z.object({
  name: text('the persona name', 200),
  /** Job title, e.g. "Chief Financial Officer". */
  role: text('the persona role', 200),
  company: text('the persona company', 200),
  personality: text('the persona personality'),
  objections: z.array(text('an objection', 1000)).max(50),
  openingLine: text('an opening line', 1000),
  voiceId: text('a voice id', 200),
  /** BCP 47 language tag, e.g. "en" or "en-US". */
  language: z.string().regex(/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, 'expected a language tag such as en or en-US'),
  llmModel: text('an LLM model', 200),
  temperature: z.number().min(0, 'expected a temperature between 0 and 2').max(2, 'expected a temperature between 0 and 2'),
});

export const rubricCriterionSchema = z.object({
  id: text('a criterion id', 100),
  name: text('a criterion name', 200),
  description: z.string().max(2000),
  weight: z.number().positive('expected a positive weight'),
}) satisfies z.ZodType<RubricCriterion>;

export const roomScenarioSchema = z.object({
  title: text('a scenario title', 200),
  objective: text('a scenario objective'),
  context: z.string().max(8000),
  difficulty: z.enum(['easy', 'medium', 'hard']),
  rubric: z.array(rubricCriterionSchema).max(50),
  timeLimitSeconds: z.number().int().positive('expected a positive time limit').max(4 * 3600, 'expected a time limit of at most 4 hours'),
  /** Absent (metadata from before it existed, fixtures): a quiet room. */
  backgroundNoise: z.enum(BACKGROUND_NOISES).optional(),
  /** false: do not record this call. Absent (metadata written before recordings existed) means record. */
  recordCalls: z.boolean().optional(),
});

export const roomRepSchema = z.object({
  id: z.uuid(),
  firstName: text('the rep first name', 100),
});

/** A persona the caller can be put through to, and the rule (plain words, for the persona before) for doing so. */
export const roomStageSchema = z.object({
  personaId: z.uuid(),
  persona: roomPersonaSchema,
  advanceRule: text('an advance rule', 1000),
});

export const readyRoomMetadataSchema = z
  .object({
    v: z.union([z.literal(ROOM_METADATA_VERSION), z.literal(STAGED_ROOM_METADATA_VERSION)]),
    stage: z.literal('ready'),
    callId: z.uuid(),
    persona: roomPersonaSchema,
    scenario: roomScenarioSchema,
    rep: roomRepSchema,
    /** v 2: the id of the persona who answers, so turns can say who spoke. */
    personaId: z.uuid().optional(),
    /** v 2: the personas after the one who answers, in order. */
    stages: z.array(roomStageSchema).min(1, 'expected at least one stage').max(5, 'at most 5 stages').optional(),
  })
  .superRefine((metadata, ctx) => {
    const staged = metadata.stages !== undefined || metadata.personaId !== undefined;
    if (metadata.v === STAGED_ROOM_METADATA_VERSION && (metadata.stages === undefined || metadata.personaId === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['stages'], message: 'version 2 metadata needs personaId and stages' });
    }
    if (metadata.v === ROOM_METADATA_VERSION && staged) {
      ctx.addIssue({ code: 'custom', path: ['v'], message: 'metadata with stages must be version 2' });
    }
  });

export const awaitingPinRoomMetadataSchema = z.object({
  v: z.literal(ROOM_METADATA_VERSION),
  stage: z.literal('awaiting_pin'),
  callId: z.uuid().optional(),
});

export const roomMetadataSchema = z.discriminatedUnion('stage', [readyRoomMetadataSchema, awaitingPinRoomMetadataSchema]);

export type RoomPersona = z.infer<typeof roomPersonaSchema>;
export type RoomScenario = z.infer<typeof roomScenarioSchema>;
export type RoomRep = z.infer<typeof roomRepSchema>;
export type RoomStage = z.infer<typeof roomStageSchema>;
export type ReadyRoomMetadata = z.infer<typeof readyRoomMetadataSchema>;
export type AwaitingPinRoomMetadata = z.infer<typeof awaitingPinRoomMetadataSchema>;
export type RoomMetadata = z.infer<typeof roomMetadataSchema>;

/** What a direct-trunk dispatch rule puts in its agent dispatch metadata (sip/ provisioning). */
export const AWAITING_PIN_METADATA: AwaitingPinRoomMetadata = Object.freeze({ v: ROOM_METADATA_VERSION, stage: 'awaiting_pin' });

export type RoomMetadataParseResult =
  | { ok: true; metadata: RoomMetadata }
  | { ok: false; code: 'empty' | 'not_json' | 'unsupported_version' | 'invalid'; problems: string[] };

/**
 * Parses metadata as it arrives on a room or a job (a JSON string). Never throws: the agent must
 * turn any failure into a short apology and a hang-up, never improvise a persona.
 */
export function parseRoomMetadata(raw: string | undefined | null): RoomMetadataParseResult {
  if (raw === undefined || raw === null || raw.trim() === '') return { ok: false, code: 'empty', problems: ['metadata is empty'] };
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return { ok: false, code: 'not_json', problems: ['metadata is not JSON'] };
  }
  if (typeof value === 'object' && value !== null && 'v' in value && !SUPPORTED_VERSIONS.includes(value.v)) {
    return { ok: false, code: 'unsupported_version', problems: [`metadata version ${String(value.v)} is not one of ${SUPPORTED_VERSIONS.join(', ')}`] };
  }
  const parsed = roomMetadataSchema.safeParse(value);
  if (!parsed.success) {
    return { ok: false, code: 'invalid', problems: parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`) };
  }
  return { ok: true, metadata: parsed.data };
}

/** Validates before serialising, so the service can never hand the agent metadata it would refuse. */
export function encodeRoomMetadata(metadata: RoomMetadata): string {
  return JSON.stringify(roomMetadataSchema.parse(metadata));
}
