import { describe, expect, it } from 'vitest';
import { createJobWatch, type EndedJob, type JobsView } from './job_watch.js';

const job = (id: string, room?: string) => ({ job: { id, ...(room ? { room: { name: room } } : {}) } });

describe('createJobWatch', () => {
  it('reports each job once, when it leaves the running jobs, with its room', () => {
    const ended: EndedJob[] = [];
    const worker: { activeJobs: JobsView['activeJobs'] } = { activeJobs: [] };
    const watch = createJobWatch((gone) => ended.push(gone));
    watch.watch(worker);
    watch.stop();

    worker.activeJobs = [job('AJ_1', 'call-a'), job('AJ_2', 'call-b')];
    watch.check();
    expect(ended).toEqual([]);
    worker.activeJobs = [job('AJ_2', 'call-b'), job('AJ_3', 'call-c')];
    watch.check();
    expect(ended).toEqual([{ jobId: 'AJ_1', roomName: 'call-a' }]);
    worker.activeJobs = [];
    watch.check();
    watch.check();
    expect(ended).toEqual([
      { jobId: 'AJ_1', roomName: 'call-a' },
      { jobId: 'AJ_2', roomName: 'call-b' },
      { jobId: 'AJ_3', roomName: 'call-c' },
    ]);
  });

  it('ignores a job without a room (nothing to hang up) and does nothing before it has a worker', () => {
    const ended: EndedJob[] = [];
    const watch = createJobWatch((gone) => ended.push(gone));
    watch.check();
    const worker: { activeJobs: JobsView['activeJobs'] } = { activeJobs: [job('AJ_1')] };
    watch.watch(worker);
    watch.stop();
    watch.check();
    worker.activeJobs = [];
    watch.check();
    expect(ended).toEqual([]);
  });

  it('checks on its own timer once watching', async () => {
    const ended: EndedJob[] = [];
    const worker: { activeJobs: JobsView['activeJobs'] } = { activeJobs: [job('AJ_1', 'call-a')] };
    const watch = createJobWatch((gone) => ended.push(gone));
    watch.watch(worker);
    await new Promise((resolve) => setTimeout(resolve, 250));
    worker.activeJobs = [];
    await new Promise((resolve) => setTimeout(resolve, 250));
    watch.stop();
    expect(ended).toEqual([{ jobId: 'AJ_1', roomName: 'call-a' }]);
  });
});
