// Polling for what real servers do in their own time (a turn stored, a room deleted, an email sent).
const T0 = Date.now();
const tl = (s: string) => { if (process.env.TIMELINE) console.log(`TL ${((Date.now() - T0) / 1000).toFixed(2)} ${s}`); };
export const sleep = (ms: number): Promise<void> => { tl(`sleep ${ms}`); return new Promise((resolve) => setTimeout(resolve, ms)); };

/** Calls probe every 200 ms until it returns a value; fails naming `what` after timeoutMs. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  const s = Date.now();
  tl(`wait> ${what}`);
  for (;;) {
    const value = await probe();
    if (value !== undefined) { tl(`wait< ${what} ${Date.now() - s}ms`); return value; }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
