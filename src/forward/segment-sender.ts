import { createHash } from 'node:crypto';
import { ChunkBatcher } from './chunk-batcher.js';
import type { Chunk } from './chunk.js';
import type { ChunkStore } from './chunk-ledger.js';
import type { Forwarder } from './forwarder.js';
import { RawEntryScanner } from './raw-entry-scanner.js';
import type { Segment, SegmentQueue } from './segment-queue.js';

/**
 * Turns segments (disk buffer chunks, or memory segments) into forward chunks and reports a
 * segment delivered once all its chunks are acknowledged. It is the ChunkStore of the
 * forwarder's ledger: the chunks are durable already (in the segment), so `persist` has nothing
 * to do, and `release` (the acknowledgement) counts down the segment's chunks.
 *
 * Chunk ids are derived from the segment id and the chunk's index in it, and the split is
 * deterministic (by tag and route, then by --chunk-bytes; the route depends only on the source
 * and the servers named), so a segment replayed after a restart is sent
 * as the same chunks with the same ids: a receiver that saw them before drops them.
 */
export class SegmentSender implements ChunkStore {
  private readonly scanner = new RawEntryScanner();
  private batcher: ChunkBatcher;
  /** Chunk id → its segment's remaining count. */
  private readonly waiting = new Map<string, { segment: Segment; remaining: number }>();
  private forwarder: Forwarder | undefined;
  private acking: Promise<void> = Promise.resolve();
  segmentsSent = 0;

  constructor(
    private readonly queue: SegmentQueue,
    private readonly chunkBytes: number,
  ) {
    this.batcher = new ChunkBatcher(chunkBytes);
  }

  /** Sends every segment the queue yields, in order, until it ends; back pressure comes from the forwarder. */
  async run(forwarder: Forwarder): Promise<void> {
    this.forwarder = forwarder;
    // chunks hold sources of one route (the servers' order), as the forwarder's own do
    this.batcher = new ChunkBatcher(this.chunkBytes, forwarder.routeOf);
    for (;;) {
      const segment = await this.queue.next();
      if (!segment) return;
      await this.send(segment);
    }
  }

  /** Resolves when every acknowledged segment has been reported to the queue. */
  settled(): Promise<void> {
    return this.acking;
  }

  async persist(): Promise<void> {}

  async release(chunk: Chunk): Promise<void> {
    const entry = this.waiting.get(chunk.id);
    if (!entry) return;
    this.waiting.delete(chunk.id);
    if (--entry.remaining === 0) this.done(entry.segment);
  }

  /** A chunk cut in parts: the segment now waits for each of them instead. */
  replace(chunk: Chunk, parts: readonly Chunk[]): void {
    const entry = this.waiting.get(chunk.id);
    if (!entry) return;
    this.waiting.delete(chunk.id);
    entry.remaining += parts.length - 1;
    for (const part of parts) this.waiting.set(part.id, entry);
  }

  private async send(segment: Segment): Promise<void> {
    this.scanner.push(segment.payload, this.batcher);
    const batches = [...this.batcher.takeSealed(), ...this.batcher.flush()];
    this.segmentsSent++;
    if (batches.length === 0) {
      this.done(segment);
      return;
    }
    const entry = { segment, remaining: batches.length };
    const ids = batches.map((_, index) => chunkIdOf(segment.id, index));
    for (const id of ids) this.waiting.set(id, entry);
    await this.forwarder!.enqueue(batches, ids);
  }

  private done(segment: Segment): void {
    // In order, one at a time: a disk buffer deletes the chunk file here.
    this.acking = this.acking.then(() => this.queue.ack(segment));
  }
}

/** 16 bytes, base64, as Fluentd's chunk ids; the same for the same segment and index. */
export function chunkIdOf(segmentId: string, index: number): string {
  return createHash('sha256').update(segmentId).update(`/${index}`).digest().subarray(0, 16).toString('base64');
}
