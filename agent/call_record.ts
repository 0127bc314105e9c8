// What a call knows about itself as it goes, and how its end is recorded at shutdown: the turns
// drained, usage and cost summed, and the end event that moves the call and finalises it.
import type { voice } from '@livekit/agents';
import type { Logger } from 'pino';
import type { CallEnding } from './call_ending.js';
import type { CallStore } from './call_store.js';
import type { TurnWriter } from './turn_writer.js';
import { estimateCostUsd, type ModelUsageEntry, usageFromModelUsage } from './usage_cost.js';

const TURN_DRAIN_TIMEOUT_MS = 5000;

/** What a call knows about itself as it goes. */
export interface CallFacts {
  /** Absent on the direct trunk until the PIN gate resolves the caller. */
  callId: string | undefined;
  answeredAt?: Date;
  /** The answer being recorded; the end waits for it so the state machine sees it first. */
  answerRecorded?: Promise<void>;
  /** While the PIN is collected, nothing is a conversation turn and no failure is spoken about. */
  atPinGate: boolean;
  /** The persona's language tag; English at the PIN gate until the caller is known. */
  language: string;
  prerenderedCharacters: number;
  jobStartedAt: number;
}

/** Shutdown: drain the turns, then usage, cost and the end event (which finalises the call). */
export async function recordCallEnd(
  deps: { callStore: CallStore },
  call: { facts: CallFacts; writer: TurnWriter; session: voice.AgentSession; ending: CallEnding },
  logger: Logger,
): Promise<void> {
  const { facts, ending } = call;
  const at = new Date();
  const unwrittenTurns = await call.writer.drain(TURN_DRAIN_TIMEOUT_MS);
  if (unwrittenTurns > 0) logger.error({ unwritten: unwrittenTurns }, 'turns still unwritten at shutdown');
  if (facts.callId === undefined) return;
  await facts.answerRecorded;
  const usage = usageFromModelUsage(call.session.usage.modelUsage as ModelUsageEntry[], facts.answeredAt ? (at.getTime() - facts.answeredAt.getTime()) / 1000 : 0);
  usage.ttsCharacters += facts.prerenderedCharacters;
  const estimatedCostUsd = estimateCostUsd(usage);
  try {
    await deps.callStore.recordEnd(facts.callId, { at, outcome: ending.outcome, reason: ending.reason, usage, estimatedCostUsd, unwrittenTurns });
    logger.info({ callId: facts.callId, usage, estimatedCostUsd, outcome: ending.outcome, reason: ending.reason, jobMs: Date.now() - facts.jobStartedAt }, 'call recorded');
  } catch (error) {
    logger.error({ err: error, callId: facts.callId }, 'call end could not be recorded; the room_finished webhook will close it');
  }
}
