/**
 * A condition to wait on: `wait()` resolves at the next `notify()`. Loops re-check their own
 * condition after each wake-up (`while (full) await signal.wait()`), so a spurious wake is harmless.
 */
export class Signal {
  private waiters: Array<() => void> = [];

  wait(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }
}
