// Graceful shutdown with a deadline: the steps run in order, each failure is logged and does not
// stop the ones after it, and a step that hangs cannot keep the process alive past the deadline
// (the orchestrator's SIGKILL would otherwise come first, mid-write).
import type { Logger } from './logger.js';

export interface ShutdownStep {
  name: string;
  run(): Promise<unknown>;
}

export interface ShutdownReport {
  /** False when the deadline passed before every step finished. */
  completed: boolean;
  failed: string[];
  /** The step still running at the deadline, if any. */
  hung?: string;
}

export async function runShutdown(steps: readonly ShutdownStep[], deadlineMs: number, logger: Pick<Logger, 'warn' | 'error'>): Promise<ShutdownReport> {
  const deadline = Date.now() + deadlineMs;
  const failed: string[] = [];
  for (const step of steps) {
    const left = deadline - Date.now();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), Math.max(0, left));
    });
    try {
      const outcome = await Promise.race([step.run().then(() => 'done' as const), timedOut]);
      if (outcome === 'timeout') {
        logger.error({ step: step.name, deadlineMs }, 'shutdown deadline passed; exiting without the remaining steps');
        return { completed: false, failed, hung: step.name };
      }
    } catch (error) {
      failed.push(step.name);
      logger.warn({ err: error, step: step.name }, 'shutdown step failed; continuing');
    } finally {
      clearTimeout(timer);
    }
  }
  return { completed: true, failed };
}
