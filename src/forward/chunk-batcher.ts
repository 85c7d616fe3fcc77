import { MsgpackWriter } from '../codec/msgpack-writer.js';
import type { EventTime } from '../event/event-time.js';
import type { LogEvent } from '../event/event.js';
import type { RawEntrySink } from './raw-entry-scanner.js';
import { sourcePositionOf } from '../event/source-position.js';
import { IdentityRuns, type Identity } from '../protocol/identity-option.js';

/** Packed entries of one tag, ready to become a chunk. */
export interface SealedBatch {
  tag: string;
  entries: Buffer;
  events: number;
  /** The entries' identities, the logkit_src option value (undefined when none had one). */
  identities?: Buffer;
}

class TagBatch {
  readonly writer: MsgpackWriter;
  readonly identities = new IdentityRuns();
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
 * end of input). The per-event options map stays behind, except each event's identity
 * (`options.src`), which goes with the chunk as the logkit_src option (protocol/identity-option.ts).
 */
export class ChunkBatcher implements RawEntrySink {
  private readonly batches = new Map<string, TagBatch>();
  private buffered = 0;
  /** Batches that became full during addRaw calls, collected by takeSealed(). */
  private full: SealedBatch[] = [];
  private rawTag: string | undefined;
  private rawBatch: TagBatch | undefined;

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
        batch = this.batchFor(event.tag);
      }
      const writer = batch.writer;
      const before = writer.length;
      writer.writeArrayHeader(2);
      writer.writeEventTime(event.time);
      writer.writeMap(event.record, 1);
      batch.identities.add(sourcePositionOf(event));
      batch.events++;
      this.buffered += writer.length - before;
      if (writer.length >= this.chunkBytes) {
        sealed.push(this.seal(event.tag, batch));
      }
    }
    return sealed;
  }

  /** One entry as bytes (see RawEntryScanner): copied, not re-encoded. */
  addRaw(tag: string, buf: Buffer, timeStart: number, recordStart: number, recordEnd: number, time: EventTime | undefined, identity: Identity | undefined): void {
    let batch = this.rawBatch;
    if (tag !== this.rawTag || batch === undefined) {
      this.rawTag = tag;
      batch = this.batchFor(tag);
      this.rawBatch = batch;
    }
    const writer = batch.writer;
    const before = writer.length;
    writer.writeArrayHeader(2);
    if (time) {
      writer.writeEventTime(time);
      writer.writeRaw(buf.subarray(recordStart, recordEnd));
    } else {
      writer.writeRaw(buf.subarray(timeStart, recordEnd));
    }
    batch.identities.add(identity);
    batch.events++;
    this.buffered += writer.length - before;
    if (writer.length >= this.chunkBytes) this.full.push(this.seal(tag, batch));
  }

  /** The batches addRaw filled since the last call. */
  takeSealed(): SealedBatch[] {
    const full = this.full;
    this.full = [];
    return full;
  }

  private batchFor(tag: string): TagBatch {
    let batch = this.batches.get(tag);
    if (batch === undefined) {
      // Small at first: many tags at once must not cost a large buffer each; a busy tag grows it.
      batch = new TagBatch(Math.min(this.chunkBytes + 1024, 4096));
      this.batches.set(tag, batch);
    }
    return batch;
  }

  /** Seals every batch that holds events. */
  flush(): SealedBatch[] {
    const sealed: SealedBatch[] = [];
    for (const [tag, batch] of this.batches) {
      if (batch.events > 0) sealed.push(this.seal(tag, batch));
    }
    // Tags come and go: drop idle buffers rather than keep one per tag ever seen.
    this.batches.clear();
    this.rawTag = undefined;
    this.rawBatch = undefined;
    return sealed;
  }

  private seal(tag: string, batch: TagBatch): SealedBatch {
    const entries = batch.writer.take();
    const events = batch.events;
    batch.events = 0;
    this.buffered -= entries.length;
    return { tag, entries, events, identities: batch.identities.take() };
  }
}
