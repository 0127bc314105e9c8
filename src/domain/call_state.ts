// The call lifecycle (docs/architecture.md, "One call, end to end"). Events arrive from Twilio status
// callbacks and LiveKit webhooks, each possibly duplicated, late or out of order, so every
// transition is monotonic: a call only moves forward, a terminal state never changes, and an event
// that would move it backwards (a late "ringing" after "in_progress") is ignored.

export const CALL_STATUSES = ['dispatching', 'ringing', 'in_progress', 'completed', 'failed', 'abandoned'] as const;
export type CallStatus = (typeof CALL_STATUSES)[number];
export const TERMINAL_STATUSES: readonly CallStatus[] = ['completed', 'failed', 'abandoned'];
export const isTerminal = (status: CallStatus): boolean => TERMINAL_STATUSES.includes(status);
/** Not over yet: the states a call moves through before a terminal one. */
export const LIVE_STATUSES = ['dispatching', 'ringing', 'in_progress'] as const satisfies readonly CallStatus[];

const rank: Record<CallStatus, number> = { dispatching: 0, ringing: 1, in_progress: 2, completed: 3, failed: 3, abandoned: 3 };

export type CallEvent =
  /** The leg towards LiveKit is ringing. */
  | { type: 'ringing'; at: Date }
  /** The caller is connected to the room (SIP participant joined, or the Dial leg answered). */
  | { type: 'answered'; at: Date }
  /** The call is over for a normal reason: hang-up, room finished, persona ended it. */
  | { type: 'ended'; at: Date; reason: string }
  /** The call could not be connected or broke (busy, failed, no-answer, room creation failed). */
  | { type: 'failed'; at: Date; reason: string };

export interface CallSnapshot {
  status: CallStatus;
  answeredAt: Date | null;
  endedAt: Date | null;
}

export interface CallChanges {
  status: CallStatus;
  answeredAt?: Date;
  endedAt?: Date;
  endReason?: string;
  durationSeconds?: number;
}

export type Transition = { changed: false; status: CallStatus } | { changed: true; status: CallStatus; changes: CallChanges };

/** Pure: what `event` does to `call`. Apply `changes` only if the row still has `call.status` (compare-and-set). */
export function applyCallEvent(call: CallSnapshot, event: CallEvent): Transition {
  if (isTerminal(call.status)) return { changed: false, status: call.status };

  switch (event.type) {
    case 'ringing':
      return moveTo(call, 'ringing', {});
    case 'answered':
      return moveTo(call, 'in_progress', { answeredAt: call.answeredAt ?? event.at });
    case 'ended': {
      // Hung up before ever reaching the persona: abandoned, not a completed practice call.
      const status: CallStatus = call.status === 'in_progress' ? 'completed' : 'abandoned';
      return moveTo(call, status, endChanges(call, event.at, event.reason));
    }
    case 'failed':
      return moveTo(call, 'failed', endChanges(call, event.at, event.reason));
  }
}

function moveTo(call: CallSnapshot, status: CallStatus, changes: Omit<CallChanges, 'status'>): Transition {
  if (rank[status] <= rank[call.status]) return { changed: false, status: call.status };
  return { changed: true, status, changes: { status, ...changes } };
}

function endChanges(call: CallSnapshot, at: Date, reason: string): Omit<CallChanges, 'status'> {
  const endedAt = call.endedAt ?? at;
  const changes: Omit<CallChanges, 'status'> = { endedAt, endReason: reason };
  if (call.answeredAt) changes.durationSeconds = callDurationSeconds(call.answeredAt, endedAt);
  return changes;
}

/** The one definition of a call's length: whole seconds from answer to end; 0 if nobody ever answered. */
export function callDurationSeconds(answeredAt: Date | null, endedAt: Date): number {
  if (answeredAt === null) return 0;
  return Math.max(0, Math.round((endedAt.getTime() - answeredAt.getTime()) / 1000));
}
