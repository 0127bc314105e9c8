// Honest load for the agent worker (docs/scale-out.md). LiveKit sends a call only to workers that
// report themselves available, weighted by 1 - load, and when a worker refuses a job it offers it
// to the next one. The framework's own load is the host's CPU, sampled every 2.5 s: a burst of
// calls lands on one worker before its CPU moves. So the load is the busier of CPU and the share
// of AGENT_MAX_CALLS in use, and a job request is refused at once when the worker holds its
// maximum (counting calls accepted but not yet running) or its last load passed the threshold.
//
// The framework sends the load to livekit-server every 2.5 s, and livekit-server drops a room's job
// for good (no retry) when no worker is available the moment the room is created. So a worker whose
// call just ended, which /worker already shows as free (the dispatch service's check), would still
// be full to livekit-server for up to 2.5 s, and a call placed then would ring with no persona.
// `pendingReport` gives the load to send at once whenever the calls held change (load_report.ts).
import type { JobRequest } from '@livekit/agents';
import { cpus } from 'node:os';

export interface AdmissionSettings {
  /** Calls one worker holds at most; 0: no limit by count. */
  maxCalls: number;
  /** Load (0-1) at which the worker is full; 1: never full for CPU. */
  loadThreshold: number;
}

/** The busier of CPU and calls; the call share is scaled so holding maxCalls reads as exactly the threshold. */
export function workerLoad(settings: AdmissionSettings, cpu: number, calls: number): number {
  const cpuLoad = settings.loadThreshold >= 1 ? 0 : cpu;
  const callLoad = settings.maxCalls > 0 ? (Math.min(1, settings.loadThreshold) * calls) / settings.maxCalls : 0;
  return Math.min(1, Math.max(cpuLoad, callLoad));
}

/** What the worker knows about itself: the ids of the jobs its processes are running. */
export interface WorkerView {
  activeJobs: readonly { job: { id: string } }[];
}

/** How long an accepted job may take to show up as running before it stops holding a place. */
const RESERVATION_MS = 15_000;

export interface CallAdmission {
  /** For ServerOptions.loadThreshold: the framework marks the worker full at load >= this. */
  loadThreshold: number;
  /** For ServerOptions.loadFunc. */
  loadFunc(worker: WorkerView): Promise<number>;
  /** For ServerOptions.requestFunc. */
  requestFunc(request: Pick<JobRequest, 'id' | 'accept' | 'reject'>): Promise<void>;
  /** The load to report now if the calls held changed since livekit-server last heard; else undefined. */
  pendingReport(): number | undefined;
}

export function createCallAdmission(settings: AdmissionSettings, cpuPercent: () => Promise<number>, now: () => number = Date.now): CallAdmission {
  const reserved = new Map<string, number>();
  let worker: WorkerView | undefined;
  let lastLoad = 0;
  let lastCpu = 0;
  /** The calls held when livekit-server last heard the load. */
  let reportedCalls = 0;
  const callsHeld = () => {
    const running = new Set((worker?.activeJobs ?? []).map((info) => info.job.id));
    for (const [id, at] of reserved) if (running.has(id) || now() - at > RESERVATION_MS) reserved.delete(id);
    return running.size + reserved.size;
  };
  const full = () => (settings.maxCalls > 0 && callsHeld() >= settings.maxCalls) || lastLoad >= settings.loadThreshold;
  return {
    // At 1 nothing is ever full for CPU; the call count still reports (and refuses) via its own share.
    loadThreshold: settings.loadThreshold >= 1 && settings.maxCalls === 0 ? Number.POSITIVE_INFINITY : Math.min(1, settings.loadThreshold),
    async loadFunc(view) {
      worker = view;
      lastCpu = settings.loadThreshold >= 1 ? 0 : await cpuPercent();
      reportedCalls = callsHeld();
      lastLoad = workerLoad(settings, lastCpu, reportedCalls);
      return lastLoad;
    },
    pendingReport() {
      if (!worker) return undefined;
      const calls = callsHeld();
      if (calls === reportedCalls) return undefined;
      reportedCalls = calls;
      lastLoad = workerLoad(settings, lastCpu, calls);
      return lastLoad;
    },
    async requestFunc(request) {
      if (full()) {
        await request.reject();
        return;
      }
      reserved.set(request.id, now());
      await request.accept();
    },
  };
}

/** Busy share (0-1) of all the host's cores over `intervalMs`, as the framework's default load measures it. */
export function hostCpuLoad(intervalMs = 1000): Promise<number> {
  const busy = () => cpus().reduce((acc, cpu) => {
    const total = Object.values(cpu.times).reduce((a, b) => a + b, 0);
    return { idle: acc.idle + cpu.times.idle, total: acc.total + total };
  }, { idle: 0, total: 0 });
  const before = busy();
  return new Promise((resolve) => {
    setTimeout(() => {
      const after = busy();
      const total = after.total - before.total;
      resolve(total <= 0 ? 0 : Math.min(1, Math.max(0, 1 - (after.idle - before.idle) / total)));
    }, intervalMs).unref();
  });
}
