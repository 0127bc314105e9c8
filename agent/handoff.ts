// Staged calls (decision 018): the persona who answers (a gatekeeper) can put the caller through to
// the next stage's persona (a decision-maker). Each persona is its own agent with its own voice; the
// transfer tool hands the session to the next one (llm.handoff), which rings for about two seconds
// and then greets with its opening line, knowing what was said before it picked up.
import type { stt as sttNs } from '@livekit/agents';
import type { Logger } from 'pino';
import { baseLanguage } from '../src/domain/languages.js';
import type { ReadyRoomMetadata, RoomPersona } from '../src/domain/room_metadata.js';
import { framesStream, prerender } from './greeting.js';
import { holdRingFrames } from './hold_ring.js';
import { createPersonaAgent, PersonaAgent, type PersonaAgentDeps, type Transfer } from './persona_agent.js';
import type { ConversationLine } from './persona_instructions.js';
import { createTts, type ProviderSettings } from './session_factory.js';

/** What every persona of a call shares: the call's callbacks, and how to build a voice and an ear. */
export interface StageDeps extends Pick<PersonaAgentDeps, 'providers' | 'onGenerationStart' | 'personaSpokeSinceRepTurn' | 'endCall'> {
  logger: Logger;
  providers: ProviderSettings;
  /** Speech-to-text for a language (the overlapped pipeline's segmenter included). */
  sttFor(language: string): sttNs.STT;
  /** The call's output sample rate, for the ring. */
  sampleRate: number;
  /** The caller was put through to `persona` (stage `index`, 1 = the first after the one who answers). */
  onPutThrough(persona: RoomPersona, index: number): void;
  /** Characters synthesised outside the session (the prerendered greeting), for the call's TTS usage. */
  onPrerendered(characters: number): void;
}

/** The staged parts of the answering persona's agent deps: its id and its transfer tool, if the call has stages. */
export function firstStage(metadata: ReadyRoomMetadata, deps: StageDeps): Pick<PersonaAgentDeps, 'personaId' | 'transfer'> {
  return {
    ...(metadata.personaId !== undefined ? { personaId: metadata.personaId } : {}),
    ...transferTo(metadata, 1, deps),
  };
}

function transferTo(metadata: ReadyRoomMetadata, index: number, deps: StageDeps): Pick<PersonaAgentDeps, 'transfer'> {
  const to = metadata.stages?.[index - 1];
  if (!to) return {};
  const transfer: Transfer = { to, nextAgent: (from) => stageAgent(metadata, index, from, deps) };
  return { transfer };
}

/** Stage `index`'s persona, built as the caller is put through to it from `from`. */
function stageAgent(metadata: ReadyRoomMetadata, index: number, from: PersonaAgent, deps: StageDeps): PersonaAgent {
  const stage = metadata.stages![index - 1]!;
  const before = index === 1 ? metadata.persona : metadata.stages![index - 2]!.persona;
  const { persona } = stage;
  const tts = createTts(deps.providers, persona.voiceId, persona.language);
  // Synthesised while the ring plays, so the greeting follows it without a gap.
  const greeting = prerender(tts, persona.openingLine, deps.logger);
  const stt = baseLanguage(persona.language) === baseLanguage(before.language) ? undefined : deps.sttFor(persona.language);
  return createPersonaAgent(
    { ...metadata, persona },
    {
      providers: deps.providers,
      onGenerationStart: deps.onGenerationStart,
      personaSpokeSinceRepTurn: deps.personaSpokeSinceRepTurn,
      endCall: deps.endCall,
      tts,
      ...(stt ? { stt } : {}),
      personaId: stage.personaId,
      putThroughBy: { persona: before, conversation: conversationOf(from) },
      ...transferTo(metadata, index + 1, deps),
      onEnter: async (agent) => {
        deps.onPutThrough(persona, index);
        agent.session.say('', { audio: framesStream(holdRingFrames(deps.sampleRate)), allowInterruptions: false, addToChatCtx: false });
        const frames = await greeting;
        if (frames) deps.onPrerendered(persona.openingLine.length);
        agent.session.say(persona.openingLine, frames ? { audio: framesStream(frames) } : {});
      },
    },
  );
}

/** The spoken lines of an agent's chat so far (no tool calls, no instructions), for the next persona's prompt. */
export function conversationOf(agent: PersonaAgent): ConversationLine[] {
  const lines: ConversationLine[] = [];
  for (const item of agent.chatCtx.items) {
    if (item.type !== 'message' || (item.role !== 'user' && item.role !== 'assistant')) continue;
    const text = (item.textContent ?? '').replace(/\s+/g, ' ').trim();
    if (text !== '') lines.push({ speaker: item.role === 'user' ? 'caller' : 'persona', text });
  }
  return lines;
}
