import { setTimeout as sleep } from 'node:timers/promises';
import type { LogEvent } from '../event/event.js';
import { Backoff } from '../retry/backoff.js';
import { PermanentStoreError, TransientStoreError, errorMessage } from './store-errors.js';
import type { StoreSink } from './store-sink.js';

export interface BatcherOptions {
  /** A batch is written once this many events are pending… */
  batchSize: number;
  /** …or once the input that carried the pending events reaches this many bytes… */
  batchBytes: number;
  /** …or when the oldest pending event has waited this long. */
  flushIntervalMs: number;
  /** Cap of the backoff between retries of a transient failure. */
  retryMaxDelayMs: number;
  /** Give up retrying a transient failure after this long (0: retry forever). */
  retryTimeoutMs: number;
  log: (message: string) => void;
}

/** Thrown when a transient failure outlasted --retry-timeout (or the SIGTERM grace period). */
export class RetriesExhaustedError extends Error {}

/**
 * Collects events into batches bounded by count and age, and writes them to a sink one at a
 * time, in order. A transient failure is retried with capped backoff (the batch is kept, so
 * nothing is lost); a permanent one is kept in `failure` and stops the run. `add` waits while
 * a full batch is being written, which is the back-pressure that stops reading stdin when the
 * store is slow or down.
 */
export class StoreBatcher {
  private pending: LogEvent[] = [];
  /** Input bytes behind the pending events (approximate: what was read since the last write began). */
  private pendingBytes = 0;
  private chain: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private oldestPendingAt = 0;
  private retryDeadline: number | undefined;
  /** A batch is being written (drain() is running). */
  private writing = false;
  private idleWriteScheduled = false;
  failure: Error | undefined;
  /** Rejects when a permanent failure stops the batcher (so an idle reader learns of it). */
  readonly failed: Promise<never>;
  private signalFailure: (error: Error) => void = () => {};
  committed = 0;
  /** Transient failures retried (for the metrics). */
  retries = 0;
  received = 0;

  constructor(
    private readonly sink: StoreSink,
    private readonly options: BatcherOptions,
  ) {
    this.failed = new Promise<never>((_, reject) => (this.signalFailure = reject));
    this.failed.catch(() => {});
    const tick = Math.max(10, Math.min(options.flushIntervalMs, 1000) / 2);
    this.timer = setInterval(() => this.onTick(), tick);
  }

  /** Adds a batch of input events; resolves when the batcher can take more. */
  async add(events: readonly LogEvent[], inputBytes = 0): Promise<void> {
    if (this.failure) throw this.failure;
    if (events.length === 0) return;
    if (this.pending.length === 0) this.oldestPendingAt = Date.now();
    for (let i = 0; i < events.length; i++) this.pending.push(events[i]!);
    this.pendingBytes += inputBytes;
    this.received += events.length;
    if (this.pending.length >= this.options.batchSize || this.pendingBytes >= this.options.batchBytes) await this.flush();
    else this.scheduleIdleWrite();
  }

  /**
   * Group commit: when no write is under way, write what is pending as soon as the input has
   * nothing more to give right away (setImmediate runs after the I/O already queued has been
   * read). A quiet stream's events are stored within one write + fsync, not --flush-interval
   * later; under load the events that arrive while a batch is written make the next batch, so
   * batches grow with the rate on their own (drain() writes until nothing is pending).
   */
  private scheduleIdleWrite(): void {
    if (this.writing || this.idleWriteScheduled) return;
    this.idleWriteScheduled = true;
    setImmediate(() => {
      this.idleWriteScheduled = false;
      if (this.writing || this.failure || this.pending.length === 0) return;
      this.flush().catch(() => {
        // recorded in this.failure; the reading loop reports it
      });
    });
  }

  /** Writes everything pending; resolves when it is committed, rejects on a permanent failure. */
  flush(): Promise<void> {
    this.chain = this.chain.then(() => this.drain());
    return this.chain;
  }

  /** From now on, transient failures are retried for at most `ms` more (shutdown grace). */
  limitRetries(ms: number): void {
    this.retryDeadline = Date.now() + ms;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
  }

  get uncommitted(): number {
    return this.received - this.committed;
  }

  stopTimer(): void {
    clearInterval(this.timer);
  }

  private onTick(): void {
    if (this.failure || this.pending.length === 0) return;
    if (Date.now() - this.oldestPendingAt < this.options.flushIntervalMs) return;
    this.flush().catch(() => {
      // recorded in this.failure; the reading loop reports it
    });
  }

  private async drain(): Promise<void> {
    if (this.failure) throw this.failure;
    this.writing = true;
    try {
      await this.drainPending();
    } finally {
      this.writing = false;
    }
  }

  private async drainPending(): Promise<void> {
    while (this.pending.length > 0) {
      // bounded by count, and by input bytes: split what is pending in proportion (events of one
      // stream are roughly alike in size)
      const total = this.pending.length;
      let size = this.options.batchSize;
      if (this.pendingBytes > this.options.batchBytes) {
        size = Math.min(size, Math.max(1, Math.floor((total * this.options.batchBytes) / this.pendingBytes)));
      }
      const batch = total <= size ? this.pending : this.pending.slice(0, size);
      const batchBytes = Math.round((this.pendingBytes * batch.length) / total);
      this.pendingBytes -= batchBytes;
      this.pending = batch === this.pending ? [] : this.pending.slice(batch.length);
      if (this.pending.length > 0) this.oldestPendingAt = Date.now();
      try {
        await this.writeWithRetry(batch);
      } catch (error) {
        // keep what was not stored in order, so the count reported is exact
        this.pending = batch.concat(this.pending);
        this.pendingBytes += batchBytes;
        this.failure = error as Error;
        this.signalFailure(this.failure);
        throw error;
      }
      this.committed += batch.length;
    }
  }

  private writeWithRetry(batch: readonly LogEvent[]): Promise<void> {
    return this.retry(() => this.sink.write(batch));
  }

  /** Runs `operation` until it succeeds, retrying transient failures with capped backoff. */
  async retry<T>(operation: () => Promise<T>): Promise<T> {
    const backoff = new Backoff({ initialMs: 100, maxMs: this.options.retryMaxDelayMs });
    const started = Date.now();
    for (;;) {
      try {
        const result = await operation();
        if (backoff.attempts > 0) this.options.log(`${this.sink.description}: succeeded after ${backoff.attempts} retries`);
        return result;
      } catch (error) {
        if (!(error instanceof TransientStoreError)) {
          throw error instanceof PermanentStoreError ? error : new PermanentStoreError(errorMessage(error), error);
        }
        const now = Date.now();
        const timeout = this.options.retryTimeoutMs;
        if ((timeout > 0 && now - started >= timeout) || (this.retryDeadline !== undefined && now >= this.retryDeadline)) {
          throw new RetriesExhaustedError(`${error.message}; gave up retrying after ${Math.round((now - started) / 1000)} s`);
        }
        const delay = backoff.next();
        this.retries++;
        // the first failure and then every tenth: enough to see an outage without a wall of logs
        if (backoff.attempts === 1 || backoff.attempts % 10 === 0) {
          this.options.log(`${this.sink.description}: ${error.message}; retrying (attempt ${backoff.attempts}, next in ${delay} ms)`);
        }
        await sleep(delay);
      }
    }
  }
}
