// The agents a call is handed to: the persona (its prompt, its model, its end_call tool) and the
// PIN prompt that stands in for it on the direct trunk until the caller is known. The worker and
// the in-process tests (agent/persona_agent.test.ts) build them here.
import { llm, type stt as sttNs, type tts as ttsNs, voice } from '@livekit/agents';
import { personaLines } from '../src/domain/languages.js';
import type { ReadyRoomMetadata, RoomPersona, RoomStage } from '../src/domain/room_metadata.js';
import { buildPersonaInstructions, type StageContext } from './persona_instructions.js';
import { createLlm, type ProviderSettings } from './session_factory.js';

/** Said for the persona when it used end_call without a goodbye of its own (English; personaLines has the others). */
export const END_CALL_GOODBYE = personaLines('en').goodbye;

export interface PersonaAgentDeps {
  providers: ProviderSettings;
  /** The persona's voice; omitted, the session's. */
  tts?: ttsNs.TTS;
  /** Speech-to-text in the persona's language; omitted, the session's (built for the room metadata's language). */
  stt?: sttNs.STT;
  /** The persona started generating a reply, speculative or not (turn_metrics.speculative_lead_ms). */
  onGenerationStart(): void;
  /** Whether the persona has spoken since the rep's last turn, i.e. said its goodbye already. */
  personaSpokeSinceRepTurn(): boolean;
  /** Ends the call as persona_ended, saying `goodbye` first if given (call_ending.ts). */
  endCall(goodbye?: string): void;
  /** Staged calls: the persona's row id, stored with its turns. */
  personaId?: string;
  /** Staged calls: who put the caller through to this persona (its instructions say so). */
  putThroughBy?: StageContext['putThroughBy'];
  /** Staged calls, all but the last persona: the next stage and how to reach it (the transfer tool). */
  transfer?: Transfer;
  /** Runs when the session hands the call to this agent (the handed-off persona rings and greets). */
  onEnter?(agent: PersonaAgent): Promise<void>;
}

/** Putting the caller through to the next persona (decision 018). */
export interface Transfer {
  to: RoomStage;
  /** Builds the next persona's agent from this one (whose chat is the conversation so far). */
  nextAgent(from: PersonaAgent): voice.Agent;
}

/**
 * The persona. It reports when each reply generation starts, speculative or not, so a stored turn
 * can say whether its reply was prepared before the rep's turn committed (turn_metrics).
 */
export class PersonaAgent extends voice.Agent {
  constructor(
    options: ConstructorParameters<typeof voice.Agent>[0],
    private readonly onGenerationStart: () => void,
    /** Who this agent plays (the time limit's lines are said in its name and language). */
    readonly persona: RoomPersona,
    /** Staged calls: which persona this is (turns.persona_id). */
    readonly personaId?: string,
    private readonly enter?: (agent: PersonaAgent) => Promise<void>,
  ) {
    super(options);
  }

  override async onEnter(): Promise<void> {
    await this.enter?.(this);
  }

  override async llmNode(...args: Parameters<voice.Agent['llmNode']>): ReturnType<voice.Agent['llmNode']> {
    this.onGenerationStart();
    return super.llmNode(...args);
  }
}

export function createPersonaAgent(metadata: ReadyRoomMetadata, deps: PersonaAgentDeps): PersonaAgent {
  const goodbye = personaLines(metadata.persona.language).goodbye;
  const personaLlm = createLlm(deps.providers, metadata.persona.llmModel, metadata.persona.temperature);
  personaLlm.prewarm();
  const stage: StageContext = {
    ...(deps.transfer ? { transferTo: { persona: deps.transfer.to.persona, advanceRule: deps.transfer.to.advanceRule } } : {}),
    ...(deps.putThroughBy ? { putThroughBy: deps.putThroughBy } : {}),
  };
  return new PersonaAgent(
    {
      instructions: buildPersonaInstructions(metadata, stage),
      tools: [endCallTool(deps, goodbye), ...(deps.transfer ? [transferTool(deps.transfer)] : [])],
      llm: personaLlm,
      ...(deps.tts ? { tts: deps.tts } : {}),
      ...(deps.stt ? { stt: deps.stt } : {}),
    },
    deps.onGenerationStart,
    metadata.persona,
    deps.personaId,
    deps.onEnter,
  );
}

function transferTool(transfer: Transfer) {
  const { persona, advanceRule } = transfer.to;
  return llm.tool({
    name: 'transfer',
    description: `Put the caller through to ${persona.name}, ${persona.role}. Use only when this is true: ${advanceRule.trim()} Say a short line such as "One moment, I'll put you through" in this reply first; you do not speak after it.`,
    execute: async (_args, { ctx: run }) => {
      // The "putting you through" line plays out first; the next persona then rings and greets (its onEnter).
      await run.waitForPlayout();
      const current = run.session.currentAgent;
      if (!(current instanceof PersonaAgent)) throw new llm.ToolError('nobody to transfer from');
      return llm.handoff({ agent: transfer.nextAgent(current) });
    },
  });
}

function endCallTool(deps: Pick<PersonaAgentDeps, 'personaSpokeSinceRepTurn' | 'endCall'>, goodbye: string) {
  return llm.tool({
    name: 'end_call',
    description:
      'Hang up the phone. Use only when the conversation is naturally over and you have already said goodbye in this reply. No further words are possible after this.',
    execute: async (_args, { ctx: run }) => {
      // Text the model sent with this call (its goodbye) plays while tools run; let it finish.
      await run.waitForPlayout();
      // Say a goodbye only if the persona has not spoken since the rep's last turn.
      // Not awaited: the reply that carries this call only finishes once the tool has returned.
      deps.endCall(deps.personaSpokeSinceRepTurn() ? undefined : goodbye);
      return undefined;
    },
  });
}

/**
 * Direct trunk, before the PIN: an agent with no model that only speaks the PIN prompts (pin_gate.ts);
 * on a line in another language, with that language's voice and speech-to-text.
 */
export function createPinPromptAgent(speech: { tts?: ttsNs.TTS; stt?: sttNs.STT } = {}): voice.Agent {
  return new voice.Agent({ instructions: 'You are the automated PIN prompt of Practice Line. You never improvise.', ...speech });
}

/** The persona agent that has the session now (after a transfer, the next stage's); undefined at the PIN gate. */
export function speakingAgent(session: { currentAgent: unknown }): PersonaAgent | undefined {
  try {
    const agent = session.currentAgent;
    return agent instanceof PersonaAgent ? agent : undefined;
  } catch {
    return undefined; // not running yet
  }
}
