// Turns, as they finish: every conversation item the session adds becomes a stored turn with its
// metrics (turns.ts), written without blocking the call (turn_writer.ts). Also remembers when the
// persona last started speaking and the rep last spoke, which end_call needs.
import { voice } from '@livekit/agents';
import type { Logger } from 'pino';
import { type ChatItemMetrics, speculativeLeadMs, type TurnRecord, turnFromChatItem } from './turns.js';

export interface TurnCaptureDeps {
  logger: Logger;
  record(turn: TurnRecord): number;
  /** While the PIN is collected, nothing is a conversation turn. */
  isSuppressed(): boolean;
  /** A persona reply reached the caller (fallback lines are not chat items). */
  onPersonaTurn(): void;
  /** Staged calls: the persona speaking now (the session's current agent), stored with its turns. */
  speakingPersonaId?(): string | undefined;
}

export interface TurnCapture {
  /** The persona started generating a reply, speculative or not (PersonaAgent.llmNode). */
  replyGenerationStarted(): void;
  /** Whether the persona has started speaking since the rep's last turn (its goodbye, before end_call). */
  personaSpokeSinceRepTurn(): boolean;
}

export function captureTurns(session: voice.AgentSession, deps: TurnCaptureDeps): TurnCapture {
  let lastRepTurnAt = 0;
  let lastSpeakingStartedAt = 0;
  let replyGenerationStartedAt: number | undefined;
  let repTurnCommittedAt: number | undefined;
  /** Duration of the latest STT request, for the turn it completes. */
  let lastSttRequestMs: number | undefined;
  let previousUserMetrics: ChatItemMetrics | undefined;

  session.on(voice.AgentSessionEventTypes.ConversationItemAdded, ({ item }) => {
    if (item.type !== 'message') return;
    const metrics = item.metrics as ChatItemMetrics;
    const lead = item.role === 'assistant' ? speculativeLeadMs(replyGenerationStartedAt, repTurnCommittedAt) : null;
    const turn = turnFromChatItem({ role: item.role, text: item.textContent ?? '', interrupted: item.interrupted, createdAt: item.createdAt, metrics }, previousUserMetrics, Date.now(), lead);
    if (item.role === 'user') {
      // Emitted when the rep's turn commits (the reply is scheduled at the same moment).
      repTurnCommittedAt = Date.now();
      previousUserMetrics = { ...metrics, ...(lastSttRequestMs === undefined ? {} : { sttRequestMs: lastSttRequestMs }) };
      lastSttRequestMs = undefined;
    }
    if (turn === undefined || deps.isSuppressed()) return;
    if (turn.speaker === 'persona') {
      deps.onPersonaTurn();
      const personaId = deps.speakingPersonaId?.();
      if (personaId !== undefined) turn.personaId = personaId;
    } else lastRepTurnAt = Date.now();
    const seq = deps.record(turn);
    deps.logger.info({ seq, speaker: turn.speaker, interrupted: turn.interrupted, metrics: turn.metrics, pii: { text: turn.text } }, 'turn');
  });

  session.on(voice.AgentSessionEventTypes.MetricsCollected, ({ metrics }) => {
    if (metrics.type === 'stt_metrics' && metrics.durationMs > 0) lastSttRequestMs = metrics.durationMs;
  });

  session.on(voice.AgentSessionEventTypes.AgentStateChanged, ({ newState }) => {
    if (newState === 'speaking') lastSpeakingStartedAt = Date.now();
  });

  return {
    replyGenerationStarted() {
      replyGenerationStartedAt = Date.now();
    },
    personaSpokeSinceRepTurn() {
      return lastSpeakingStartedAt > lastRepTurnAt;
    },
  };
}
