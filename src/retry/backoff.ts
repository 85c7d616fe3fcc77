/**
 * Capped exponential backoff with jitter, for every retry loop (forward's reconnects, store's
 * transient database errors): the wait doubles after each failure, from `initialMs` up to
 * `maxMs`, and each wait is drawn between half and all of that step ("equal jitter"). The jitter
 * spreads many clients that lost the same server over half an interval, so they do not come
 * back in step; drawing below the step, never above it, keeps `maxMs` a true bound.
 */
export interface BackoffSettings {
  /** The first wait (before jitter). */
  initialMs: number;
  /** The cap of any wait. */
  maxMs: number;
  /** Source of randomness in [0, 1); a fixed one makes waits predictable in tests. */
  random?: () => number;
}

export class Backoff {
  private failures = 0;
  private readonly random: () => number;

  constructor(private readonly settings: BackoffSettings) {
    this.random = settings.random ?? Math.random;
  }

  /** The wait before the next attempt; each call counts one more failure. */
  next(): number {
    const { initialMs, maxMs } = this.settings;
    const step = Math.min(maxMs, initialMs * 2 ** Math.min(this.failures, 30));
    this.failures++;
    return Math.round(step * (0.5 + 0.5 * this.random()));
  }

  /** A success: the next failure starts from `initialMs` again. */
  reset(): void {
    this.failures = 0;
  }

  /** Failures since the last reset. */
  get attempts(): number {
    return this.failures;
  }
}
