import type { LogEvent } from '../../event/event.js';
import type { DiskBuffer } from '../../buffer/disk-buffer.js';
import type { EventSink } from '../event-sink.js';
import type { SeenChunks } from './seen-chunks.js';
import type { RelayPositions } from '../../protocol/raw-entries.js';

/**
 * `receive --buffer`: the ack point becomes DURABILITY. Each event is stamped with receive's own
 * position (`options.relay = {id: <this buffer>, off: <next offset>}`, which the store's
 * checkpoint commits, telling receive what it may delete); its identity `options.src` (restored
 * by the connection: carried by the sender, or derived from the chunk id) is kept, and an event
 * without one gets the relay position as its identity. Each batch is appended to the disk buffer,
 * and `deliver` resolves only once the chunk holding it is fsynced and renamed — so an ack lost
 * to a crash means the forwarder resends. A request handed on in parts (startRequest/endRequest)
 * lands whole in one chunk: it is durable whole, with its id, or not at all.
 *
 * Appends are serialized (a connection's batches stay in order and offsets increase in append
 * order); the fsyncs are group-committed: every batch appended while one flush runs waits for
 * the next one, so many connections cost one fsync per round, not one per request.
 */
export class DurableSink implements EventSink {
  /** Entries transcoded with `relayPositions()` stamped in (the raw path): no decode, no re-encode. */
  readonly acceptsEncoded = true;
  private appending: Promise<void> = Promise.resolve();
  private queuedEvents = 0;
  private flushWaiters: Array<{ resolve: () => void; reject: (error: Error) => void }> = [];
  private flushing = false;
  private readyWaiters: Array<() => void> = [];
  /** Chunk ids received but not durable yet: a resend arriving meanwhile waits for the first copy. */
  private readonly pendingIds = new Map<string, Promise<void>>();

  constructor(
    private readonly buffer: DiskBuffer,
    private readonly seen: SeenChunks,
    private readonly sourceId: string,
    /** The last offset handed out (the next event gets lastOff + 1). */
    private lastOff: number,
    private readonly highWaterEvents = 50_000,
  ) {}

  get congested(): boolean {
    return this.queuedEvents >= this.highWaterEvents;
  }

  ready(): Promise<void> {
    if (!this.congested) return Promise.resolve();
    return new Promise((resolve) => this.readyWaiters.push(resolve));
  }

  /** When `id` was received before: a promise that resolves once that copy is durable (ack the resend then). */
  duplicateOf(id: string): Promise<void> | undefined {
    const pending = this.pendingIds.get(id);
    if (pending) return pending;
    return this.seen.has(id) ? Promise.resolve() : undefined;
  }

  deliver(events: LogEvent[], ids: readonly string[] = []): Promise<void> {
    for (let i = 0; i < events.length; i++) {
      const event = events[i]!;
      const relay = { id: this.sourceId, off: ++this.lastOff };
      const options = event.options;
      event.options = options === undefined ? { src: relay, relay } : { ...options, src: options.src ?? relay, relay };
    }
    return this.enqueue(events.length, ids, () => this.buffer.append(events, ids));
  }

  /**
   * The relay positions the next entries get, for entries transcoded with them already stamped
   * in (see transcodeEntries): the next `deliverEncoded` must follow before anything else is
   * delivered, and takes them.
   */
  relayPositions(): RelayPositions {
    return { id: this.sourceId, firstOff: this.lastOff + 1 };
  }

  /** `count` entries transcoded with `relayPositions()` stamped in. */
  deliverEncoded(bytes: Buffer, count: number, ids: readonly string[] = []): Promise<void> {
    this.lastOff += count;
    const positions = { [this.sourceId]: this.lastOff };
    return this.enqueue(count, ids, () => this.buffer.appendEncoded(bytes, count, positions, ids));
  }

  private enqueue(count: number, ids: readonly string[], append: () => Promise<void>): Promise<void> {
    this.seen.floor = this.lastOff;
    this.queuedEvents += count;
    const appended = (this.appending = this.appending.then(async () => {
      // one batch (one request, or several whole ones) is never cut across chunks
      this.buffer.startRequest();
      try {
        await append();
      } finally {
        this.buffer.endRequest();
      }
    }));
    const durable = appended.then(() => this.flushSoon());
    const settled = durable.then(
      () => {
        this.seen.addAll(ids);
        this.settle(ids, count);
      },
      (error: Error) => {
        this.settle(ids, count);
        throw error;
      },
    );
    for (const id of ids) this.pendingIds.set(id, settled);
    // a failed append must not stop the chain for later batches (they fail on their own)
    this.appending = appended.catch(() => {});
    return settled;
  }

  startRequest(): void {
    this.appending = this.appending.then(() => this.buffer.startRequest());
  }

  endRequest(): void {
    this.appending = this.appending.then(() => this.buffer.endRequest());
  }

  /** Resolves once every batch delivered so far is in the buffer (not yet durable). */
  appended(): Promise<void> {
    return this.appending;
  }

  /** Everything delivered so far is durable. */
  async flush(): Promise<void> {
    await this.appending;
    await this.buffer.flush();
  }

  private settle(ids: readonly string[], events: number): void {
    for (const id of ids) this.pendingIds.delete(id);
    this.queuedEvents -= events;
    if (!this.congested && this.readyWaiters.length > 0) {
      const waiters = this.readyWaiters;
      this.readyWaiters = [];
      for (const w of waiters) w();
    }
  }

  private flushSoon(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.flushWaiters.push({ resolve, reject });
      if (!this.flushing) void this.runFlushes();
    });
  }

  private async runFlushes(): Promise<void> {
    this.flushing = true;
    // let the appends of this turn of the event loop join the first round
    await new Promise((resolve) => setImmediate(resolve));
    while (this.flushWaiters.length > 0) {
      const round = this.flushWaiters;
      this.flushWaiters = [];
      try {
        await this.buffer.flush();
        for (const w of round) w.resolve();
      } catch (error) {
        for (const w of round) w.reject(error as Error);
      }
    }
    this.flushing = false;
  }
}
