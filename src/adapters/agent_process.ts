// `npm start` runs the whole product on one machine: when LiveKit and the providers are configured,
// the dispatch service also starts the persona agent worker as a child process (production runs
// the two separately: `npm run start:dispatch` and `npm run start:agent`). It is a separate
// process because the agents framework forks its own job processes and owns signal handling.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Logger } from './logger.js';

const agentEntry = fileURLToPath(new URL('../../agent/main.ts', import.meta.url));

export interface AgentWorkerProcess {
  pid: number | undefined;
  /** SIGTERM (the worker drains its calls), SIGKILL after graceMs. */
  stop(graceMs?: number): Promise<void>;
}

export function startAgentWorkerProcess(options: { logger: Logger; dispatchUrl: string }): AgentWorkerProcess {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', agentEntry, 'start'], {
    // The worker reads the same environment (and .env) through src/config.ts; it reaches us on loopback.
    env: { ...process.env, DISPATCH_INTERNAL_URL: process.env.DISPATCH_INTERNAL_URL ?? options.dispatchUrl },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  let stopping = false;
  const exited = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      if (!stopping) options.logger.error({ code, signal }, 'agent worker exited; calls are not answered until it is restarted');
      resolve();
    }),
  );
  options.logger.info({ pid: child.pid }, 'agent worker started');
  return {
    pid: child.pid,
    async stop(graceMs = 10_000) {
      stopping = true;
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}
