// Polling for what real servers do in their own time (a turn stored, a room deleted, an email sent).

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Calls probe every 50 ms until it returns a value; fails naming `what` after timeoutMs. Most
 * probes are one small query, and a test usually waits on several in a row, so a longer interval
 * is paid again at every step (at 200 ms, about half a second per call test).
 */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}
