// Agent availability from the agent worker's own health endpoint (agents-js HTTP server on
// AGENT_HTTP_PORT): 200 only while the worker is registered with LiveKit, so a dead or
// disconnected worker reads as "no practice partner is free". Read from @livekit/agents
// src/http_server.ts and worker.ts (healthCheck).
import type { AgentAvailability } from '../app/ports.js';

export function createAgentAvailability(healthUrl: string, timeoutMs = 1500): AgentAvailability {
  const url = new URL('/', healthUrl).toString();
  return async () => {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
      if (response.ok) return { available: true };
      const reason = (await response.text().catch(() => '')).slice(0, 120);
      return { available: false, detail: `agent worker at ${url} answered ${response.status}${reason ? `: ${reason}` : ''}` };
    } catch (error) {
      const cause = error instanceof Error ? (error.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : error.message) : String(error);
      return { available: false, detail: `agent worker at ${url} unreachable: ${cause}` };
    }
  };
}
