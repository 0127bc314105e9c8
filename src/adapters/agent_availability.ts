// Agent availability from the agent workers' own endpoints (agents-js HTTP server on
// AGENT_HTTP_PORT): `/` answers 200 only while the worker is registered with LiveKit, and `/worker`
// says how many jobs (calls) it runs. A persona is free when some worker is registered and, with
// AGENT_MAX_CALLS set, holds fewer calls than that; otherwise the caller hears "no practice partner
// is free". Read from @livekit/agents src/http_server.ts and worker.ts (healthCheck, getWorkerInfo).
import type { AgentAvailability } from '../app/ports.js';

export interface AgentAvailabilityOptions {
  timeoutMs?: number;
  /** AGENT_MAX_CALLS: a worker holding this many calls is full; 0: only registration counts. */
  maxCalls?: number;
}

type WorkerState = { free: true } | { free: false; detail: string };

async function askWorker(healthUrl: string, timeoutMs: number, maxCalls: number): Promise<WorkerState> {
  const url = new URL('/', healthUrl).toString();
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    if (!response.ok) {
      const reason = (await response.text().catch(() => '')).slice(0, 120);
      return { free: false, detail: `agent worker at ${url} answered ${response.status}${reason ? `: ${reason}` : ''}` };
    }
    if (maxCalls === 0) return { free: true };
    const info = (await (await fetch(new URL('/worker', healthUrl), { signal: AbortSignal.timeout(timeoutMs) })).json()) as { active_jobs?: unknown };
    const active = typeof info.active_jobs === 'number' ? info.active_jobs : 0;
    return active < maxCalls ? { free: true } : { free: false, detail: `agent worker at ${url} is full (${active} of ${maxCalls} calls)` };
  } catch (error) {
    const cause = error instanceof Error ? (error.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : error.message) : String(error);
    return { free: false, detail: `agent worker at ${url} unreachable: ${cause}` };
  }
}

export function createAgentAvailability(healthUrls: string | readonly string[], options: AgentAvailabilityOptions | number = {}): AgentAvailability {
  const { timeoutMs = 1500, maxCalls = 0 } = typeof options === 'number' ? { timeoutMs: options } : options;
  const urls = (typeof healthUrls === 'string' ? healthUrls.split(',') : healthUrls).map((url) => url.trim()).filter((url) => url !== '');
  return async () => {
    const states = await Promise.all(urls.map((url) => askWorker(url, timeoutMs, maxCalls)));
    if (states.some((state) => state.free)) return { available: true };
    return { available: false, detail: states.map((state) => (state.free ? '' : state.detail)).join('; ') };
  };
}
