// Turns as the agent stores them, derived from the framework's chat items. Pure.

export interface TurnMetricsRecord {
  endOfUtteranceDelayMs: number | null;
  sttMs: number | null;
  llmTtftMs: number | null;
  ttsTtfbMs: number | null;
  endToEndMs: number | null;
  /**
   * Overlapped pipeline: how long before the rep's turn committed this reply's generation started
   * (it was prepared speculatively, so its LLM and TTS time overlap the endpointing silence). Null
   * when the reply was generated after the commit.
   */
  speculativeLeadMs: number | null;
}

export interface TurnRecord {
  speaker: 'rep' | 'persona';
  text: string;
  startedAt: Date;
  endedAt: Date;
  interrupted: boolean;
  /** Persona turns only. */
  metrics?: TurnMetricsRecord;
  /** Persona turns of a staged call: which persona spoke (turns.persona_id). */
  personaId?: string;
}

/** The fields of @livekit/agents' ChatMessage.metrics this module reads (seconds), plus our own. */
export interface ChatItemMetrics {
  /**
   * Ours, in ms: the STT request for the segment that ended the rep's turn (stt_metrics.durationMs).
   * The framework's transcriptionDelay also counts the VAD silence before the request is made.
   */
  sttRequestMs?: number;
  startedSpeakingAt?: number;
  stoppedSpeakingAt?: number;
  transcriptionDelay?: number;
  endOfTurnDelay?: number;
  llmNodeTtft?: number;
  ttsNodeTtfb?: number;
  e2eLatency?: number;
}

export interface ChatItemLike {
  role: string;
  text: string;
  interrupted: boolean;
  /** Epoch ms. */
  createdAt: number;
  metrics: ChatItemMetrics;
}

const ms = (seconds: number | undefined): number | null =>
  seconds === undefined || !Number.isFinite(seconds) ? null : Math.round(seconds * 1000 * 10) / 10;

/**
 * Maps a chat item to a stored turn. `previousUser` is the rep turn this persona turn answers; its
 * endpointing and STT figures belong to the persona turn's latency breakdown. Returns undefined for
 * items that are not spoken turns (system/tool messages, empty text).
 */
export function turnFromChatItem(
  item: ChatItemLike,
  previousUser: ChatItemMetrics | undefined,
  now: number = Date.now(),
  speculativeLeadMs: number | null = null,
): TurnRecord | undefined {
  // Whisper's segments each start with a space and the framework joins them with another one.
  const text = item.text.replace(/\s+/g, ' ').trim();
  if (text === '' || (item.role !== 'user' && item.role !== 'assistant')) return undefined;
  const startedMs = item.metrics.startedSpeakingAt !== undefined ? item.metrics.startedSpeakingAt * 1000 : item.createdAt;
  const endedMs = item.metrics.stoppedSpeakingAt !== undefined ? item.metrics.stoppedSpeakingAt * 1000 : Math.max(now, startedMs);
  const turn: TurnRecord = {
    speaker: item.role === 'user' ? 'rep' : 'persona',
    text,
    startedAt: new Date(startedMs),
    endedAt: new Date(Math.max(endedMs, startedMs)),
    interrupted: item.interrupted,
  };
  if (turn.speaker === 'persona') {
    turn.metrics = {
      endOfUtteranceDelayMs: ms(previousUser?.endOfTurnDelay),
      sttMs: previousUser?.sttRequestMs === undefined ? null : Math.round(previousUser.sttRequestMs * 10) / 10,
      llmTtftMs: ms(item.metrics.llmNodeTtft),
      ttsTtfbMs: ms(item.metrics.ttsNodeTtfb),
      endToEndMs: ms(item.metrics.e2eLatency),
      speculativeLeadMs,
    };
  }
  return turn;
}

/**
 * How long before the rep's turn committed the reply's generation started, or null when it started
 * after (not speculative) or no rep turn preceded it (the greeting, a wrap-up line).
 */
export function speculativeLeadMs(generationStartedAt: number | undefined, repTurnCommittedAt: number | undefined): number | null {
  if (generationStartedAt === undefined || repTurnCommittedAt === undefined) return null;
  return generationStartedAt < repTurnCommittedAt ? repTurnCommittedAt - generationStartedAt : null;
}
