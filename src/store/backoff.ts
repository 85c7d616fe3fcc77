/** Capped exponential backoff with jitter: 100 ms, 200 ms, … up to `maxMs`. */
export class Backoff {
  private attempt = 0;

  constructor(
    private readonly maxMs: number,
    private readonly initialMs = 100,
  ) {}

  get attempts(): number {
    return this.attempt;
  }

  nextDelay(): number {
    const base = Math.min(this.maxMs, this.initialMs * 2 ** Math.min(this.attempt, 20));
    this.attempt++;
    // jitter (50–100 %) keeps many aggregators from reconnecting in lockstep after an outage
    return Math.round(base * (0.5 + Math.random() * 0.5));
  }

  reset(): void {
    this.attempt = 0;
  }
}
