/**
 * The one way the tests wait. A test waits for a condition with a deadline (waitFor), never for a
 * fixed time standing in for one: a loaded machine makes any fixed time too short, or the test
 * pass without the condition ever being checked.
 */

/** Polls `condition` every `intervalMs` until it holds; throws `timed out waiting for WHAT` after `timeoutMs`. */
export async function waitFor(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000, intervalMs = 25): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/**
 * Waits until `read` gives the same value twice, `intervalMs` apart (a process has taken all it
 * will take: its count stopped moving), and `accept` holds for it; returns that value.
 */
export async function waitForSteady<T>(read: () => T | Promise<T>, what: string, options: { intervalMs: number; timeoutMs?: number; accept?: (value: T) => boolean }): Promise<T> {
  let last = await read();
  let steady: T | undefined;
  await waitFor(
    async () => {
      const now = await read();
      const same = now === last && (options.accept?.(now) ?? true);
      last = now;
      if (same) steady = now;
      return same;
    },
    `${what} to stop changing`,
    options.timeoutMs ?? 30_000,
    options.intervalMs,
  );
  return steady as T;
}

/**
 * A pause for pacing what a test does (a sender's rate, the time between two writes a test
 * measures): never to wait for something to have happened — that is waitFor.
 */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
