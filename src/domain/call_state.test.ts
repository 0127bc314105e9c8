import { describe, expect, it } from 'vitest';
import { applyCallEvent, type CallEvent, type CallSnapshot } from './call_state.js';

const t = (seconds: number) => new Date(Date.UTC(2026, 0, 1, 10, 0, seconds));
const fresh: CallSnapshot = { status: 'dispatching', answeredAt: null, endedAt: null };

/** Folds events the way the database would see them, applying only changed transitions. */
function run(events: CallEvent[], start: CallSnapshot = fresh) {
  let call = { ...start, endReason: null as string | null, durationSeconds: null as number | null };
  for (const event of events) {
    const result = applyCallEvent(call, event);
    if (result.changed) call = { ...call, ...result.changes };
  }
  return call;
}

describe('call state machine', () => {
  it('walks a normal call from dispatching to completed with times and duration', () => {
    const call = run([
      { type: 'ringing', at: t(1) },
      { type: 'answered', at: t(2) },
      { type: 'ended', at: t(47), reason: 'caller_hung_up' },
    ]);
    expect(call).toMatchObject({ status: 'completed', answeredAt: t(2), endedAt: t(47), endReason: 'caller_hung_up', durationSeconds: 45 });
  });

  it('ignores a late ringing after the call was answered, and duplicates of anything', () => {
    const answered = run([{ type: 'answered', at: t(2) }]);
    expect(applyCallEvent(answered, { type: 'ringing', at: t(3) })).toEqual({ changed: false, status: 'in_progress' });
    expect(applyCallEvent(answered, { type: 'answered', at: t(4) })).toEqual({ changed: false, status: 'in_progress' });
  });

  it('keeps terminal states: a replayed or contradicting event changes nothing', () => {
    const done = run([{ type: 'answered', at: t(2) }, { type: 'ended', at: t(10), reason: 'room_finished' }]);
    for (const event of [
      { type: 'ended', at: t(20), reason: 'twilio_completed' },
      { type: 'failed', at: t(21), reason: 'failed' },
      { type: 'answered', at: t(22) },
      { type: 'ringing', at: t(23) },
    ] as CallEvent[]) {
      expect(applyCallEvent(done, event)).toEqual({ changed: false, status: 'completed' });
    }
  });

  it('calls it abandoned when the caller leaves before reaching the persona', () => {
    expect(run([{ type: 'ringing', at: t(1) }, { type: 'ended', at: t(3), reason: 'canceled' }])).toMatchObject({
      status: 'abandoned',
      endedAt: t(3),
      durationSeconds: null,
    });
  });

  it('records failures with their reason, before or after answering', () => {
    expect(run([{ type: 'failed', at: t(1), reason: 'room_create_failed' }])).toMatchObject({ status: 'failed', endReason: 'room_create_failed' });
    expect(run([{ type: 'answered', at: t(1) }, { type: 'failed', at: t(5), reason: 'failed' }])).toMatchObject({
      status: 'failed',
      durationSeconds: 4,
    });
  });

  it('reaches the same end whatever order the same events arrive in', () => {
    const events: CallEvent[] = [
      { type: 'ringing', at: t(1) },
      { type: 'answered', at: t(2) },
      { type: 'ended', at: t(30), reason: 'room_finished' },
    ];
    const orders = [events, [events[1]!, events[0]!, events[2]!], [events[1]!, events[2]!, events[0]!]];
    const ends = orders.map((order) => run(order).status);
    expect(ends).toEqual(['completed', 'completed', 'completed']);
  });
});
