import type { Chunk, ChunkCarrier } from './chunk.js';

/**
 * Where chunks can be persisted across their life. The in-memory default does nothing; a disk
 * buffer implements it to write a chunk durably before it is first sent and delete it once it is
 * acknowledged, which makes `forward` a committing stage (see docs/delivery.md).
 */
export interface ChunkStore {
  /** Called once per chunk, before it can be sent. */
  persist(chunk: Chunk): Promise<void>;
  /** Called once per chunk, after its acknowledgement (or once it is kept in the dead-letter file). */
  release(chunk: Chunk): Promise<void>;
  /** A chunk was cut into `parts` (poison-isolation.ts): they stand for it from now on. */
  replace(chunk: Chunk, parts: readonly Chunk[]): void;
}

export const MEMORY_CHUNK_STORE: ChunkStore = {
  persist: async () => {},
  release: async () => {},
  replace: () => {},
};

/**
 * Every chunk from the moment it is created to its acknowledgement: the queue of chunks waiting
 * to be sent (first in, first out; a resent chunk goes to the front, it is the oldest), the
 * chunks in flight per carrier, and the bytes held — the bound of --max-pending-bytes. Nothing
 * leaves the ledger except by an acknowledgement, so nothing is dropped silently.
 */
export class ChunkLedger {
  private queue: Chunk[] = [];
  private queueHead = 0;
  private readonly unacked = new Map<string, Chunk>();
  private held = 0;
  private heldEvents = 0;

  /** Counters for --stats. */
  readonly totals = { created: 0, acked: 0, resent: 0, ackedEvents: 0, ackedBytes: 0, split: 0, deadLetteredChunks: 0, deadLetteredEvents: 0 };
  /** Chunks a server refused as bad data, held because there is no dead-letter file: never sent again. */
  private readonly refused = new Set<Chunk>();

  constructor(private readonly store: ChunkStore = MEMORY_CHUNK_STORE) {}

  /** Bytes of every chunk not yet acknowledged. */
  get heldBytes(): number {
    return this.held;
  }

  get heldChunks(): number {
    return this.unacked.size;
  }

  get pendingEvents(): number {
    return this.heldEvents;
  }

  /** Chunks held only because a server refused them (no dead-letter file): nothing more will happen to them. */
  get refusedChunks(): number {
    return this.refused.size;
  }

  get refusedEvents(): number {
    let events = 0;
    for (const chunk of this.refused) events += chunk.events;
    return events;
  }

  /** Chunks waiting to be sent (not in flight). */
  get queued(): number {
    return this.queue.length - this.queueHead;
  }

  /** A new chunk: persisted, then queued for sending. */
  async add(chunk: Chunk): Promise<void> {
    this.held += chunk.bytes;
    this.heldEvents += chunk.events;
    this.unacked.set(chunk.id, chunk);
    this.totals.created++;
    await this.store.persist(chunk);
    this.queue.push(chunk);
  }

  get(id: string): Chunk | undefined {
    return this.unacked.get(id);
  }

  /** The next chunk to send, or undefined. */
  next(): Chunk | undefined {
    while (this.queueHead < this.queue.length) {
      const chunk = this.queue[this.queueHead]!;
      this.queue[this.queueHead] = undefined as never;
      this.queueHead++;
      if (this.queueHead > 1024 && this.queueHead * 2 > this.queue.length) {
        this.queue.splice(0, this.queueHead);
        this.queueHead = 0;
      }
      if (chunk.state === 'created') return chunk;
    }
    return undefined;
  }

  /** Puts a chunk back at the front of the queue (it could not be handed to a carrier after all). */
  unshift(chunk: Chunk): void {
    if (this.queueHead > 0) this.queue[--this.queueHead] = chunk;
    else this.queue.unshift(chunk);
  }

  /** Puts chunks back at the front of the queue, in their order (their server could not take them yet). */
  putBack(chunks: readonly Chunk[]): void {
    if (chunks.length <= this.queueHead) {
      for (let i = chunks.length - 1; i >= 0; i--) this.queue[--this.queueHead] = chunks[i]!;
    } else {
      this.queue = [...chunks, ...this.queue.slice(this.queueHead)];
      this.queueHead = 0;
    }
  }

  markSent(chunk: Chunk, carrier: ChunkCarrier, now: number): void {
    chunk.state = 'sent';
    chunk.carrier = carrier;
    chunk.sentAt = now;
    chunk.attempts++;
    if (chunk.attempts > 1) this.totals.resent++;
  }

  /**
   * An acknowledgement arrived for `id` (from any carrier: a late ack from a server we gave up on
   * still proves delivery). Returns the chunk, or undefined for an unknown or repeated id.
   */
  ack(id: string): Chunk | undefined {
    const chunk = this.unacked.get(id);
    if (!chunk) return undefined;
    this.unacked.delete(id);
    chunk.state = 'acked';
    chunk.carrier = undefined;
    this.held -= chunk.bytes;
    this.heldEvents -= chunk.events;
    this.totals.acked++;
    this.totals.ackedEvents += chunk.events;
    this.totals.ackedBytes += chunk.bytes;
    void this.store.release(chunk);
    return chunk;
  }

  /** The carrier failed or timed out: the chunk goes back to the front of the queue. */
  requeue(chunk: Chunk): void {
    if (chunk.state !== 'sent') return;
    chunk.state = 'created';
    chunk.lastFailedOn = chunk.carrier;
    chunk.carrier = undefined;
    this.unshift(chunk);
  }

  /**
   * A chunk cut into `parts` (in order): they take its place at the front of the queue. The chunk
   * itself is neither acknowledged nor counted as delivered; its parts are.
   */
  replace(chunk: Chunk, parts: readonly Chunk[]): void {
    this.forget(chunk);
    this.totals.split++;
    this.totals.created += parts.length;
    this.store.replace(chunk, parts);
    for (let i = parts.length - 1; i >= 0; i--) {
      const part = parts[i]!;
      this.held += part.bytes;
      this.heldEvents += part.events;
      this.unacked.set(part.id, part);
      this.unshift(part);
    }
  }

  /** The chunk's events are safe in the dead-letter file: it leaves the ledger, counted as such. */
  deadLetter(chunk: Chunk): void {
    this.forget(chunk);
    this.totals.deadLetteredChunks++;
    this.totals.deadLetteredEvents += chunk.events;
    void this.store.release(chunk);
  }

  /** Refused, with nowhere to keep it: held (and reported at the end), never sent again. */
  holdRefused(chunk: Chunk): void {
    chunk.state = 'created';
    chunk.carrier = undefined;
    this.refused.add(chunk);
  }

  private forget(chunk: Chunk): void {
    this.unacked.delete(chunk.id);
    chunk.state = 'acked'; // out of the queue for good (next() skips it)
    chunk.carrier = undefined;
    this.held -= chunk.bytes;
    this.heldEvents -= chunk.events;
  }

  /** Chunks in flight longer than `timeoutMs`. */
  expired(now: number, timeoutMs: number): Chunk[] {
    const late: Chunk[] = [];
    for (const chunk of this.unacked.values()) {
      if (chunk.state === 'sent' && now - chunk.sentAt >= timeoutMs) late.push(chunk);
    }
    return late;
  }

  /** Every chunk not yet acknowledged (for the final report). */
  unackedChunks(): IterableIterator<Chunk> {
    return this.unacked.values();
  }
}
