import { WorkerMessage, WorkerStatus } from '@livekit/protocol';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createCallAdmission } from './call_admission.js';
import { createLoadReporter } from './load_report.js';

function worker(...ids: string[]) {
  const sent: WorkerMessage[] = [];
  return {
    sent,
    activeJobs: ids.map((id) => ({ job: { id } })),
    event: {
      emit: (name: string | symbol, message: WorkerMessage) => {
        if (name === 'worker_msg') sent.push(message);
        return true;
      },
    },
  };
}
const updates = (sent: WorkerMessage[]) => sent.map((message) => (message.message.case === 'updateWorker' ? { load: message.message.value.load, status: message.message.value.status } : message.message.case));

afterEach(() => vi.useRealTimers());

describe('load reports', () => {
  it('tell livekit-server within a tick that a call ended, then that one was accepted; nothing once draining', async () => {
    vi.useFakeTimers();
    const admission = createCallAdmission({ maxCalls: 1, loadThreshold: 1 }, async () => 0);
    const reporter = createLoadReporter(admission, () => undefined);
    const line = worker('a');
    expect(await reporter.loadFunc(line)).toBe(1);
    vi.advanceTimersByTime(500);
    expect(line.sent).toEqual([]);
    line.activeJobs = [];
    vi.advanceTimersByTime(100);
    expect(updates(line.sent)).toEqual([{ load: 0, status: WorkerStatus.WS_AVAILABLE }]);
    await admission.requestFunc({ id: 'b', accept: async () => undefined, reject: async () => undefined });
    vi.advanceTimersByTime(100);
    expect(updates(line.sent)).toEqual([{ load: 0, status: WorkerStatus.WS_AVAILABLE }, { load: 1, status: WorkerStatus.WS_FULL }]);
    reporter.stop();
    line.activeJobs = [];
    vi.advanceTimersByTime(60_000);
    expect(line.sent).toHaveLength(2);
  });

  it('a message the connection cannot send is passed on, not thrown', async () => {
    vi.useFakeTimers();
    const errors: unknown[] = [];
    const admission = createCallAdmission({ maxCalls: 1, loadThreshold: 1 }, async () => 0);
    const line = { activeJobs: [{ job: { id: 'a' } }], event: { emit: () => { throw new Error('WebSocket is not open'); } } };
    await createLoadReporter(admission, (error) => errors.push(error)).loadFunc(line);
    line.activeJobs = [];
    vi.advanceTimersByTime(100);
    expect(errors).toHaveLength(1);
  });
});
