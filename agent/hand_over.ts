// Handing the session to another agent (the PIN prompt in the line's language, the persona once the
// PIN resolves) is asynchronous in agents-js: the old activity drains first, and a say() made in the
// meantime is spoken by the old agent, in its voice and language. handOver resolves once the new
// agent's activity has started (its onEnter runs), so what is said next is the new agent's.
import type { voice } from '@livekit/agents';

/** Never wait longer than this for the switch: a prompt in the old voice beats silence. */
export const HAND_OVER_TIMEOUT_MS = 5_000;

export function handOver(session: Pick<voice.AgentSession, 'updateAgent'>, agent: voice.Agent, timeoutMs = HAND_OVER_TIMEOUT_MS): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    const onEnter = agent.onEnter.bind(agent);
    // agents-js calls onEnter once the session's activity is the new agent's.
    agent.onEnter = async () => {
      clearTimeout(timer);
      resolve();
      await onEnter();
    };
    session.updateAgent(agent);
  });
}
