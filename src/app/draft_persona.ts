// "Describe the buyer in a sentence": the LLM drafts a complete persona that the manager then edits
// and saves (or discards). Nothing is stored here; the draft is validated exactly as a persona
// would be on create, so a draft that could not be saved is reported instead of shown.
import { z } from 'zod';
import { assertStaff, type Actor } from '../domain/access.js';
import { isProviderError } from '../domain/provider_error.js';
import { buildDraftMessages, DESCRIPTION_MAX_CHARS, draftJsonSchema, parseDraftAnswer, type DraftVoice } from '../domain/persona_draft.js';
import { createPersonaInput, type CreatePersonaInput, type PersonaDefaults } from './personas.js';
import type { ScorecardModel } from './score_transcript.js';
import { fieldsOf } from '../domain/errors.js';
import { parseInput } from './use_case.js';

/** The account's voices (the ElevenLabs catalogue); null when it cannot be read. */
export interface VoiceList {
  list(): Promise<DraftVoice[] | null>;
}

export interface PersonaDraftDeps {
  /** The structured-output model the scorecard uses (GROQ_SCORECARD_MODEL); null without a Groq key. */
  draftModel: ScorecardModel | null;
  voices?: VoiceList | undefined;
  personaDefaults: PersonaDefaults;
}

export const draftPersonaInput = z.object({
  description: z.string().trim().min(1, 'required').max(DESCRIPTION_MAX_CHARS, `at most ${DESCRIPTION_MAX_CHARS} characters`),
});

export type PersonaDraft = Required<Pick<CreatePersonaInput, 'name' | 'role' | 'company' | 'personality' | 'objections' | 'openingLine' | 'voiceId' | 'language' | 'llmModel' | 'temperature'>>;

export type DraftOutcome =
  | { status: 'drafted'; draft: PersonaDraft; model: string; notes: string[] }
  | { status: 'failed'; reason: string; model: string };

export async function draftPersona(deps: PersonaDraftDeps, actor: Actor, raw: unknown): Promise<DraftOutcome> {
  assertStaff(actor);
  const { description } = parseInput(draftPersonaInput, raw);
  const model = deps.draftModel;
  if (!model) return { status: 'failed', reason: 'drafting needs the Groq key (GROQ_API_KEY), which is not configured', model: 'none' };
  const voices = (await deps.voices?.list()) ?? [];
  let content: string;
  try {
    content = await model.complete({ messages: buildDraftMessages(description, voices), format: 'json_schema', jsonSchema: draftJsonSchema(voices), schemaName: 'persona' });
  } catch (error) {
    if (isProviderError(error)) return { status: 'failed', reason: `the model could not be reached: ${error.message}`, model: model.model };
    throw error;
  }
  const parsed = parseDraftAnswer(content);
  if (!parsed.ok) return { status: 'failed', reason: parsed.reason, model: model.model };

  const notes: string[] = [];
  const { voiceId: suggested, language, ...fields } = parsed.answer;
  let voiceId = deps.personaDefaults.voiceId;
  if (suggested && voices.some((voice) => voice.id === suggested)) voiceId = suggested;
  else if (suggested) notes.push(`The suggested voice ${suggested} is not in your voice list; the default voice is used.`);
  const candidate = { ...fields, voiceId, language: language || 'en', llmModel: deps.personaDefaults.llmModel, temperature: 0.7 };
  // The same schema as creating a persona: a draft the manager could not save is not a draft.
  const checked = createPersonaInput.safeParse(candidate);
  if (!checked.success) {
    return { status: 'failed', reason: `the model's draft is not a valid persona (${Object.keys(fieldsOf(checked.error)).join(', ')})`, model: model.model };
  }
  return { status: 'drafted', draft: candidate, model: model.model, notes };
}
