// The worker's watch over its job processes. A call's job process can die mid-call (killed, out of
// memory, a native crash) and then nobody hangs up: the agent is the only one who ends a practice
// call. livekit-server notices only when the agent's connection times out, about 20 s of silence
// for the caller (its ICE and ping timers are fixed). The worker knows at once, since the job
// leaves its activeJobs when the process exits, so it tells the dispatch service, which fails the
// call as agent_lost and deletes the room if the call was still live (src/app/agent_lost.ts).
// Every job is reported when it ends, a clean one too: by then its call is already ended, and
// the state machine keeps that end.
//
// @livekit/agents 1.9 keeps its process pool private and emits nothing when a job process exits,
// so the running jobs are compared every CHECK_INTERVAL_MS, as load_report.ts does for the load.

/** The part of the framework's AgentServer this reads (the same object ServerOptions.loadFunc receives). */
export interface JobsView {
  activeJobs: readonly { job: { id: string; room?: { name: string } } }[];
}

export interface EndedJob {
  jobId: string;
  roomName: string;
}

const CHECK_INTERVAL_MS = 100;

export interface JobWatch {
  /** Starts watching `worker` (the first call wins; later ones are the same worker). */
  watch(worker: JobsView): void;
  /** Compares the running jobs with the last look, reporting those gone (the timer calls this). */
  check(): void;
  stop(): void;
}

export function createJobWatch(onJobEnded: (job: EndedJob) => void): JobWatch {
  const running = new Map<string, string>();
  let worker: JobsView | undefined;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const check = () => {
    if (!worker) return;
    const now = new Map(worker.activeJobs.flatMap(({ job }) => (job.room?.name ? [[job.id, job.room.name] as const] : [])));
    for (const [jobId, roomName] of running) {
      if (now.has(jobId)) continue;
      running.delete(jobId);
      onJobEnded({ jobId, roomName });
    }
    for (const [jobId, roomName] of now) running.set(jobId, roomName);
  };
  return {
    watch(view) {
      if (worker || stopped) return;
      worker = view;
      timer = setInterval(check, CHECK_INTERVAL_MS);
      timer.unref();
    },
    check,
    stop() {
      stopped = true;
      clearInterval(timer);
    },
  };
}
