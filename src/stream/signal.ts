/**
 * A condition to wait on: `wait()` resolves at the next `notify()`, or after `timeoutMs` when one
 * is given. Loops re-check their own condition after each wake-up (`while (full) await
 * signal.wait()`), so a spurious or timed-out wake is harmless. logkit's one wait/notify primitive
 * (the forwarder, the segment queue, the disk buffer and the tailer all wait on one).
 */
export class Signal {
  private waiters: Array<() => void> = [];

  wait(timeoutMs?: number): Promise<void> {
    if (timeoutMs === undefined) return new Promise((resolve) => this.waiters.push(resolve));
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== done);
        resolve();
      }, timeoutMs);
      this.waiters.push(done);
    });
  }

  notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}
