import { MsgpackWriter } from '../codec/msgpack-writer.js';
import type { EventTime } from '../event/event-time.js';
import type { LogEvent } from '../event/event.js';
import type { RawEntrySink } from './raw-entry-scanner.js';
import { sourcePositionOf } from '../event/source-position.js';
import { IdentityRuns, type Identity } from '../protocol/identity-option.js';

/** Packed entries of one tag and one route, ready to become a chunk. */
export interface SealedBatch {
  tag: string;
  entries: Buffer;
  events: number;
  /** The entries' identities, the logkit_src option value (undefined when none had one). */
  identities?: Buffer;
  /**
   * A source id of the entries' identities (undefined: the entries have no identity); every
   * source in the batch has the same route (see ChunkBatcher), so this one stands for all.
   */
  source?: string;
}

class RouteBatch {
  readonly writer: MsgpackWriter;
  readonly identities = new IdentityRuns();
  events = 0;
  constructor(
    readonly tag: string,
    readonly route: string | undefined,
    public source: string | undefined,
    initialBytes: number,
  ) {
    this.writer = new MsgpackWriter(initialBytes);
  }
}

/**
 * Groups events by tag (a PackedForward message carries one tag) and by route: `routeOf` the
 * source id of the event's identity, by default the source itself. forward gives the source's
 * rendezvous order over its servers (see RendezvousRouter), so that a chunk holds only sources
 * that go to the same server whichever servers are down, and follows their route; many sources
 * then do not make many small chunks. Events without an identity share one batch per tag. Each
 * event is packed as a Forward-mode entry `[time, record]` straight into its batch's buffer: one
 * encoder pass per event, no intermediate objects. A batch is sealed when it reaches `chunkBytes`
 * (so a chunk exceeds it by at most one event); `flush()` seals everything (the flush interval,
 * the end of input). The per-event options map stays behind, except each event's identity
 * (`options.src`), which goes with the chunk as the logkit_src option (protocol/identity-option.ts).
 */
export class ChunkBatcher implements RawEntrySink {
  /**
   * tag → route (undefined: no identity) → batch, of the batches that got events since the last
   * flush, in the order they got their first: the order flush() seals them in.
   */
  private batches = new Map<string, Map<string | undefined, RouteBatch>>();
  /** The batches the last flush sealed, kept for their grown buffers: reused when their tag and route come back. */
  private spare = new Map<string, Map<string | undefined, RouteBatch>>();
  private buffered = 0;
  /** Batches that became full during addRaw calls, collected by takeSealed(). */
  private full: SealedBatch[] = [];

  /** The last source looked up and its batch: runs of one source are the common case. */
  private lastSource: string | undefined;
  private lastBatch: RouteBatch | undefined;

  constructor(
    private readonly chunkBytes: number,
    private readonly routeOf: (source: string) => string = (source) => source,
  ) {}

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
    let batch: RouteBatch | undefined;
    for (let i = 0; i < events.length; i++) {
      const event = events[i]!;
      const identity = sourcePositionOf(event);
      if (batch === undefined || event.tag !== batch.tag || identity?.id !== this.lastSource) {
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
    let batch = this.lastBatch;
    if (batch === undefined || tag !== batch.tag || identity?.id !== this.lastSource) {
      batch = this.batchFor(tag, identity?.id);
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

  private batchFor(tag: string, source: string | undefined): RouteBatch {
    const route = source === undefined ? undefined : this.routeOf(source);
    let byRoute = this.batches.get(tag);
    if (byRoute === undefined) {
      byRoute = new Map();
      this.batches.set(tag, byRoute);
    }
    let batch = byRoute.get(route);
    if (batch === undefined) {
      batch = this.spare.get(tag)?.get(route);
      if (batch !== undefined) {
        this.spare.get(tag)!.delete(route);
        batch.source = source;
      } else {
        // Small at first: many tags and routes at once must not cost a large buffer each; a busy one grows it.
        batch = new RouteBatch(tag, route, source, Math.min(this.chunkBytes + 1024, 4096));
      }
      byRoute.set(route, batch);
    }
    this.lastSource = source;
    this.lastBatch = batch;
    return batch;
  }

  /**
   * Seals every batch that holds events, in the order their tag and route first got events since
   * the last flush, whatever came before: forward --buffer names a replayed run's chunks by their
   * index in it, so a restarted forward (a fresh batcher) must cut a run as the one before did.
   * A batch that held none since the last flush is dropped: tags and sources come and go, and an
   * idle one must not keep its buffer. A busy one keeps it (as a spare), so that the next chunk is
   * packed into a buffer already grown to a chunk's size rather than doubled up to it again
   * (megabytes of garbage per chunk).
   */
  flush(): SealedBatch[] {
    const sealed: SealedBatch[] = [];
    for (const byRoute of this.batches.values()) {
      for (const [route, batch] of byRoute) {
        if (batch.events > 0) sealed.push(this.seal(batch));
        else byRoute.delete(route);
      }
    }
    this.spare = this.batches;
    this.batches = new Map();
    this.lastSource = undefined;
    this.lastBatch = undefined;
    return sealed;
  }

  private seal(batch: RouteBatch): SealedBatch {
    const entries = batch.writer.take();
    const events = batch.events;
    batch.events = 0;
    this.buffered -= entries.length;
    return { tag: batch.tag, entries, events, identities: batch.identities.take(), source: batch.source };
  }
}
