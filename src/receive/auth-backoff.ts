/** Consecutive failures an address may have before it is made to wait. */
const FREE_FAILURES = 2;
/** A failure older than this (or twice the longest wait) is forgotten: the address starts again from zero. */
const FORGET_MS = 15 * 60_000;
/** Addresses remembered at most (the oldest is forgotten first), so a spray of addresses cannot grow memory. */
const MAX_ADDRESSES = 10_000;

interface Failures {
  count: number;
  last: number;
  blockedUntil: number;
}

/**
 * Slows down shared-key guessing: after FREE_FAILURES consecutive failed handshakes from one
 * address, that address is refused for 1 s, then 2 s, 4 s … up to `maxMs` per further failure.
 * A successful handshake clears it. Keyed by `addressKey` (an IPv6 /64 counts as one address).
 */
export class AuthBackoff {
  private readonly failures = new Map<string, Failures>();

  private readonly forgetMs: number;

  constructor(
    private readonly maxMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.forgetMs = Math.max(FORGET_MS, 2 * maxMs);
  }

  /** Milliseconds this address must still wait (0: it may try). */
  waitMs(key: string | undefined): number {
    if (key === undefined) return 0;
    const entry = this.current(key);
    return entry ? Math.max(0, entry.blockedUntil - this.now()) : 0;
  }

  /** Records a failed handshake; returns how long the address must now wait (ms). */
  failed(key: string | undefined): number {
    if (key === undefined || this.maxMs <= 0) return 0;
    const now = this.now();
    const entry = this.current(key) ?? { count: 0, last: now, blockedUntil: 0 };
    this.failures.delete(key); // re-inserted last: Map order is the eviction order
    entry.count++;
    entry.last = now;
    const over = entry.count - FREE_FAILURES;
    const wait = over > 0 ? Math.min(this.maxMs, 1000 * 2 ** Math.min(over - 1, 30)) : 0;
    entry.blockedUntil = now + wait;
    this.failures.set(key, entry);
    if (this.failures.size > MAX_ADDRESSES) this.failures.delete(this.failures.keys().next().value!);
    return wait;
  }

  succeeded(key: string | undefined): void {
    if (key !== undefined) this.failures.delete(key);
  }

  private current(key: string): Failures | undefined {
    const entry = this.failures.get(key);
    if (entry && this.now() - entry.last > this.forgetMs) {
      this.failures.delete(key);
      return undefined;
    }
    return entry;
  }
}
