// Tells livekit-server at once when the calls a worker holds change (call_admission.ts says why:
// the framework reports only every 2.5 s, and livekit-server drops a room's job when no worker is
// available at that moment). It sends the same updateWorker message the framework's own load loop
// sends (@livekit/agents 1.9.0 src/worker.ts: `event.emit('worker_msg', ...)`), so the two agree.
import { WorkerMessage, WorkerStatus } from '@livekit/protocol';
import type { EventEmitter } from 'node:events';
import type { CallAdmission } from './call_admission.js';

/** The part of the framework's AgentServer this uses: the emitter its LiveKit connection sends from. */
export interface WorkerLine {
  event: Pick<EventEmitter, 'emit'>;
}

/** How often the calls held are compared with what livekit-server last heard. */
const CHECK_INTERVAL_MS = 100;

export interface LoadReporter {
  /** For ServerOptions.loadFunc: remembers the worker (the framework passes it there), then asks admission. */
  loadFunc(worker: Parameters<CallAdmission['loadFunc']>[0] & WorkerLine): Promise<number>;
  /** Draining: the framework reports the worker full from now on; nothing here may say otherwise. */
  stop(): void;
}

export function createLoadReporter(admission: CallAdmission, onError: (error: unknown) => void): LoadReporter {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const report = (line: WorkerLine) => {
    const load = admission.pendingReport();
    if (load === undefined) return;
    const status = load >= admission.loadThreshold ? WorkerStatus.WS_FULL : WorkerStatus.WS_AVAILABLE;
    try {
      line.event.emit('worker_msg', new WorkerMessage({ message: { case: 'updateWorker', value: { load, status } } }));
    } catch (error) {
      // Not connected to LiveKit right now: the framework's next report carries the same state.
      onError(error);
    }
  };
  return {
    loadFunc(worker) {
      if (!timer && !stopped) {
        timer = setInterval(() => report(worker), CHECK_INTERVAL_MS);
        timer.unref();
      }
      return admission.loadFunc(worker);
    },
    stop() {
      stopped = true;
      clearInterval(timer);
    },
  };
}
