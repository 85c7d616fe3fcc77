import { MsgpackWriter } from '../codec/msgpack-writer.js';
import type { EventTime } from '../event/event-time.js';
import type { LogEvent } from '../event/event.js';
import type { RawEntrySink } from './raw-entry-scanner.js';
import { sourcePositionOf } from '../checkpoint/checkpoint-tracker.js';
import { IdentityRuns, type Identity } from '../protocol/identity-option.js';

/** Packed entries of one tag and one source, ready to become a chunk. */
export interface SealedBatch {
  tag: string;
  entries: Buffer;
  events: number;
  /** The entries' identities, the logkit_src option value (undefined when none had one). */
  identities?: Buffer;
  /** The source id every entry's identity names (undefined: the entries have no identity). */
  source?: string;
}

class SourceBatch {
  readonly writer: MsgpackWriter;
  readonly identities = new IdentityRuns();
  events = 0;
  constructor(
    readonly tag: string,
    readonly source: string | undefined,
    initialBytes: number,
  ) {
    this.writer = new MsgpackWriter(initialBytes);
  }
}

/**
 * Groups events by tag (a PackedForward message carries one tag) and by source (the id of the
 * event's identity, so that a chunk holds one source's events and can follow that source's route:
 * see RendezvousRouter), and packs each as a Forward-mode entry `[time, record]` straight into its
 * batch's buffer: one encoder pass per event, no intermediate objects. Events without an identity
 * share one batch per tag. A batch is sealed when it reaches `chunkBytes` (so a chunk exceeds it
 * by at most one event); `flush()` seals everything (the flush interval, the end of input). The per-event options map stays behind, except each event's identity
 * (`options.src`), which goes with the chunk as the logkit_src option (protocol/identity-option.ts).
 */
export class ChunkBatcher implements RawEntrySink {
  /** tag → source id (undefined: no identity) → batch. */
  private readonly batches = new Map<string, Map<string | undefined, SourceBatch>>();
  private buffered = 0;
  /** Batches that became full during addRaw calls, collected by takeSealed(). */
  private full: SealedBatch[] = [];
  private rawBatch: SourceBatch | undefined;

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
    let batch: SourceBatch | undefined;
    for (let i = 0; i < events.length; i++) {
      const event = events[i]!;
      const identity = sourcePositionOf(event);
      // Runs of one tag and source are the common case: look the batch up once per run.
      if (batch === undefined || event.tag !== batch.tag || identity?.id !== batch.source) {
        batch = this.batchFor(event.tag, identity?.id);
      }
      const writer = batch.writer;
      const before = writer.length;
      writer.writeArrayHeader(2);
      writer.writeEventTime(event.time);
      writer.writeMap(event.record, 1);
      batch.identities.add(identity);
      batch.events++;
      this.buffered += writer.length - before;
      if (writer.length >= this.chunkBytes) {
        sealed.push(this.seal(batch));
      }
    }
    return sealed;
  }

  /** One entry as bytes (see RawEntryScanner): copied, not re-encoded. */
  addRaw(tag: string, buf: Buffer, timeStart: number, recordStart: number, recordEnd: number, time: EventTime | undefined, identity: Identity | undefined): void {
    let batch = this.rawBatch;
    if (batch === undefined || tag !== batch.tag || identity?.id !== batch.source) {
      batch = this.batchFor(tag, identity?.id);
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
    if (writer.length >= this.chunkBytes) this.full.push(this.seal(batch));
  }

  /** The batches addRaw filled since the last call. */
  takeSealed(): SealedBatch[] {
    const full = this.full;
    this.full = [];
    return full;
  }

  private batchFor(tag: string, source: string | undefined): SourceBatch {
    let bySource = this.batches.get(tag);
    if (bySource === undefined) {
      bySource = new Map();
      this.batches.set(tag, bySource);
    }
    let batch = bySource.get(source);
    if (batch === undefined) {
      // Small at first: many tags and sources at once must not cost a large buffer each; a busy one grows it.
      batch = new SourceBatch(tag, source, Math.min(this.chunkBytes + 1024, 4096));
      bySource.set(source, batch);
    }
    return batch;
  }

  /** Seals every batch that holds events. */
  flush(): SealedBatch[] {
    const sealed: SealedBatch[] = [];
    for (const bySource of this.batches.values()) {
      for (const batch of bySource.values()) if (batch.events > 0) sealed.push(this.seal(batch));
    }
    // Tags and sources come and go: drop idle buffers rather than keep one per batch ever seen.
    this.batches.clear();
    this.rawBatch = undefined;
    return sealed;
  }

  private seal(batch: SourceBatch): SealedBatch {
    const entries = batch.writer.take();
    const events = batch.events;
    batch.events = 0;
    this.buffered -= entries.length;
    return { tag: batch.tag, entries, events, identities: batch.identities.take(), source: batch.source };
  }
}
