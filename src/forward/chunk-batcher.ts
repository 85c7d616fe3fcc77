import { MsgpackWriter } from '../codec/msgpack-writer.js';
import type { LogEvent } from '../event/event.js';

/** Packed entries of one tag, ready to become a chunk. */
export interface SealedBatch {
  tag: string;
  entries: Buffer;
  events: number;
}

class TagBatch {
  readonly writer: MsgpackWriter;
  events = 0;
  constructor(initialBytes: number) {
    this.writer = new MsgpackWriter(initialBytes);
  }
}

/**
 * Groups events by tag (a PackedForward message carries one tag) and packs each as a
 * Forward-mode entry `[time, record]` straight into that tag's buffer: one encoder pass per
 * event, no intermediate objects. A tag's batch is sealed when it reaches `chunkBytes` (so a
 * chunk exceeds it by at most one event); `flush()` seals everything (the flush interval, the
 * end of input). The per-event options map stays behind: it describes the local source
 * (positions for checkpoints) and has no place in Forward mode.
 */
export class ChunkBatcher {
  private readonly batches = new Map<string, TagBatch>();
  private buffered = 0;

  constructor(private readonly chunkBytes: number) {}

  /** Bytes packed but not sealed yet. */
  get bufferedBytes(): number {
    return this.buffered;
  }

  get isEmpty(): boolean {
    return this.buffered === 0;
  }

  /** Packs a batch of events; returns the batches that became full. */
  add(events: readonly LogEvent[]): SealedBatch[] {
    const sealed: SealedBatch[] = [];
    let lastTag: string | undefined;
    let batch: TagBatch | undefined;
    for (let i = 0; i < events.length; i++) {
      const event = events[i]!;
      // Runs of one tag are the common case: look the batch up once per run.
      if (event.tag !== lastTag || batch === undefined) {
        lastTag = event.tag;
        batch = this.batches.get(event.tag);
        if (batch === undefined) {
          batch = new TagBatch(Math.min(this.chunkBytes + 1024, 64 * 1024));
          this.batches.set(event.tag, batch);
        }
      }
      const writer = batch.writer;
      const before = writer.length;
      writer.writeArrayHeader(2);
      writer.writeEventTime(event.time);
      writer.writeMap(event.record, 1);
      batch.events++;
      this.buffered += writer.length - before;
      if (writer.length >= this.chunkBytes) {
        sealed.push(this.seal(event.tag, batch));
      }
    }
    return sealed;
  }

  /** Seals every batch that holds events. */
  flush(): SealedBatch[] {
    const sealed: SealedBatch[] = [];
    for (const [tag, batch] of this.batches) {
      if (batch.events > 0) sealed.push(this.seal(tag, batch));
    }
    // Tags come and go: drop idle buffers rather than keep one per tag ever seen.
    this.batches.clear();
    return sealed;
  }

  private seal(tag: string, batch: TagBatch): SealedBatch {
    const entries = batch.writer.take();
    const events = batch.events;
    batch.events = 0;
    this.buffered -= entries.length;
    return { tag, entries, events };
  }
}
