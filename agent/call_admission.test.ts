import { describe, expect, it } from 'vitest';
import { createCallAdmission, workerLoad } from './call_admission.js';

function request(id: string) {
  const answers: string[] = [];
  return { answers, request: { id, accept: async () => void answers.push('accept'), reject: async () => void answers.push('reject') } };
}
const running = (...ids: string[]) => ({ activeJobs: ids.map((id) => ({ job: { id } })) });

describe('worker load', () => {
  it('is the busier of CPU and the share of the call limit, reading exactly the threshold at the limit', () => {
    expect(workerLoad({ maxCalls: 4, loadThreshold: 0.8 }, 0.1, 2)).toBeCloseTo(0.4);
    expect(workerLoad({ maxCalls: 4, loadThreshold: 0.8 }, 0.1, 4)).toBeCloseTo(0.8);
    expect(workerLoad({ maxCalls: 4, loadThreshold: 0.8 }, 0.9, 1)).toBeCloseTo(0.9);
    expect(workerLoad({ maxCalls: 0, loadThreshold: 1 }, 0.95, 30)).toBe(0);
  });
});

describe('call admission', () => {
  it('refuses a call at the limit at once, counting calls accepted but not yet running', async () => {
    const admission = createCallAdmission({ maxCalls: 2, loadThreshold: 1 }, async () => 0);
    await admission.loadFunc(running());
    const [a, b, c] = [request('a'), request('b'), request('c')];
    await admission.requestFunc(a.request);
    await admission.requestFunc(b.request);
    await admission.requestFunc(c.request);
    expect([a.answers, b.answers, c.answers]).toEqual([['accept'], ['accept'], ['reject']]);
    expect(await admission.loadFunc(running('a', 'b'))).toBe(1);
    expect(admission.loadThreshold).toBe(1);
  });

  it('takes calls again once one ends', async () => {
    const admission = createCallAdmission({ maxCalls: 1, loadThreshold: 0.7 }, async () => 0.2);
    await admission.requestFunc(request('a').request);
    expect(await admission.loadFunc(running('a'))).toBeCloseTo(0.7);
    expect(await admission.loadFunc(running())).toBeCloseTo(0.2);
    const next = request('b');
    await admission.requestFunc(next.request);
    expect(next.answers).toEqual(['accept']);
  });

  it('refuses while the last CPU load is at the threshold', async () => {
    const admission = createCallAdmission({ maxCalls: 0, loadThreshold: 0.7 }, async () => 0.75);
    await admission.loadFunc(running());
    const refused = request('a');
    await admission.requestFunc(refused.request);
    expect(refused.answers).toEqual(['reject']);
  });

  it('a reservation that never became a running job stops holding a place', async () => {
    let clock = 0;
    const admission = createCallAdmission({ maxCalls: 1, loadThreshold: 1 }, async () => 0, () => clock);
    await admission.requestFunc(request('lost').request);
    const blocked = request('b');
    await admission.requestFunc(blocked.request);
    clock = 16_000;
    const later = request('c');
    await admission.requestFunc(later.request);
    expect([blocked.answers, later.answers]).toEqual([['reject'], ['accept']]);
  });

  it('with threshold 1 and no limit it never reports load (livekit-server passes over a load of 1)', async () => {
    const admission = createCallAdmission({ maxCalls: 0, loadThreshold: 1 }, async () => 1);
    expect(admission.loadThreshold).toBe(Number.POSITIVE_INFINITY);
    expect(await admission.loadFunc(running('a', 'b', 'c'))).toBe(0);
  });

  it('has a load to report at once when the calls held change, and nothing while they do not', async () => {
    const admission = createCallAdmission({ maxCalls: 1, loadThreshold: 1 }, async () => 0);
    expect(admission.pendingReport()).toBeUndefined();
    const worker: { activeJobs: { job: { id: string } }[] } = running('a');
    expect(await admission.loadFunc(worker)).toBe(1);
    expect(admission.pendingReport()).toBeUndefined();
    worker.activeJobs = [];
    expect(admission.pendingReport()).toBe(0);
    expect(admission.pendingReport()).toBeUndefined();
    await admission.requestFunc(request('b').request);
    expect(admission.pendingReport()).toBe(1);
  });
});
