import { mkdir, open, readFile, readdir, rename, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { LogEvent } from '../event/event.js';
import { MsgpackWriter } from '../codec/msgpack-writer.js';
import { BufferError } from './buffer-error.js';
import { CHUNK_NAME, TEMP_SUFFIX, chunkFileName, decodeChunk, encodeChunkHead, newChunkUid, readChunkHead, type ChunkMeta } from './chunk-file.js';
import { lockDirectory } from './dir-lock.js';
import { recordPositions } from '../event/source-position.js';
import { BUFFER_DEFAULTS, MAX_CHUNK_BYTES, type OverflowPolicy } from './defaults.js';
import { Signal } from '../stream/signal.js';

export { BUFFER_DEFAULTS, MAX_CHUNK_BYTES, OVERFLOW_POLICIES, type OverflowPolicy } from './defaults.js';
export type { ChunkMeta } from './chunk-file.js';

/** Source id → byte offset just past the last committed event of that source (see `options.src`). */
export type SourcePositions = Readonly<Record<string, number>>;

export interface DiskBufferOptions {
  /** A chunk is sealed once its payload reaches this many bytes… */
  chunkBytes?: number;
  /** …or this many events… */
  chunkEvents?: number;
  /** …or its first event is this old (bounds the delay a quiet source sees). */
  chunkAgeMs?: number;
  /** Bytes of chunk files on disk at most (the corrupt/ folder aside). */
  totalLimitBytes?: number;
  /** What happens when a sealed chunk would pass the total limit, or the disk is full. */
  overflow?: OverflowPolicy;
  retryMs?: number;
  /** Diagnostics, one line each (the caller prefixes its name and writes them to stderr). */
  log?: (message: string) => void;
  /** Called, in stream order, when a chunk is durable (fsynced and renamed) with the source positions it covers. */
  onDurable?: (positions: SourcePositions, meta: ChunkMeta) => void;
  /** Called when every chunk up to and including one is acknowledged (or dropped), with the positions they covered. */
  onAcked?: (positions: SourcePositions) => void;
}

/** A sealed chunk handed to a consumer: deliver `payload`, then `ack` it (or `release` it to retry later). */
export interface Chunk {
  readonly seq: number;
  /** Unique id, stable across restarts (the forward protocol's `chunk` option). */
  readonly id: string;
  readonly events: number;
  /** MessagePack Message-mode entries, ready to write downstream. */
  readonly payload: Buffer;
  readonly positions: SourcePositions;
  readonly created: number;
}

export interface BufferStats {
  chunksOnDisk: number;
  bytesOnDisk: number;
  eventsOnDisk: number;
  chunksWritten: number;
  eventsWritten: number;
  fsyncs: number;
  chunksAcked: number;
  eventsAcked: number;
  droppedChunks: number;
  droppedEvents: number;
  corruptChunks: number;
  replayedChunks: number;
  replayedEvents: number;
}

/** A chunk on disk, as the buffer tracks it (the payload stays on disk until delivery). */
interface StoredChunk {
  readonly seq: number;
  readonly size: number;
  readonly events: number;
  readonly meta: ChunkMeta;
  state: 'queued' | 'delivering' | 'done';
  /**
   * The payload as written, kept until it is first handed out (see FRESH_PAYLOAD_CHUNKS): a
   * consumer that keeps up takes it from memory instead of reading back the file just written.
   */
  fresh?: Buffer;
}

/**
 * How many chunks written and not yet handed out keep their payload in memory. A consumer that
 * keeps up finds every chunk there; one that falls behind reads the rest from disk, and memory
 * stays bounded by this many chunks.
 */
const FRESH_PAYLOAD_CHUNKS = 2;

/** A chunk taken out of the open chunk, waiting for the sealer to write it. */
interface PendingChunk {
  readonly payload: Buffer;
  readonly events: number;
  readonly meta: ChunkMeta;
}

class OpenChunk {
  /** The writer of the chunk before, once taken: its buffer has grown to a chunk's size already. */
  constructor(readonly writer = new MsgpackWriter()) {}
  events = 0;
  positions: Record<string, number> = {};
  ids: string[] = [];
  created = 0;
}

/**
 * A durable on-disk queue of event chunks, shared by `logkit buffer` and the `--buffer` option of
 * forward, receive and store.
 *
 * Producer side: `append(events)` (or `appendEncoded`) adds events to the open chunk in memory
 * and resolves once they are ACCEPTED — it waits while the buffer is over its limit under the
 * `block` policy (that is the back pressure) and rejects with BufferError under `fail`. Events
 * are DURABLE once their chunk is sealed: written to a temporary file, fsynced, renamed to its
 * final name, and the directory fsynced. A chunk is sealed when it reaches chunkBytes or
 * chunkEvents, when its first event is chunkAgeMs old, or on `flush()`/`finish()`; `flush()`
 * resolves when everything appended before it is durable. `onDurable` reports the source
 * positions each durable chunk covers: that is when a stage that commits on durability (the
 * buffer stage) may advance the checkpoint.
 *
 * Consumer side: `next()` yields sealed chunks in sequence order (first those found on disk at
 * open — a replay — then new ones), `ack(chunk)` deletes its file, `release(chunk)` puts it back
 * to be yielded again. Several chunks may be out at once and acknowledged in any order;
 * `onAcked` reports positions only up to the first chunk not yet acknowledged, so a stage that
 * commits on the downstream's acknowledgement (forward, store) never checkpoints past a gap.
 *
 * Memory holds the open chunk and at most two sealed chunks waiting to be written (plus what
 * consumers hold), so a slow or full disk pushes back on append instead of growing the heap.
 */
export class DiskBuffer {
  private readonly options: Required<Omit<DiskBufferOptions, 'onDurable' | 'onAcked'>> & Pick<DiskBufferOptions, 'onDurable' | 'onAcked'>;
  /** Chunks on disk in sequence order; acknowledged ones stay (as 'done') until every earlier one is done too. */
  private readonly stored: StoredChunk[] = [];
  /** Stored chunks holding their payload in memory (StoredChunk.fresh). */
  private freshChunks = 0;
  private readonly pending: PendingChunk[] = [];
  private open = new OpenChunk();
  private ageTimer: NodeJS.Timeout | undefined;
  private sealing: Promise<void> | undefined;
  private failure: Error | undefined;
  private inputEnded = false;
  private closed = false;
  private nextSeq: number;
  private readonly changed = new Signal();
  private blockedSince = 0;
  private shuttingDown = false;
  private lastDropReport = 0;
  private readonly counters: BufferStats;
  /** Requests being appended in parts (startRequest/endRequest): the open chunk is not sealed meanwhile. */
  private openRequests = 0;
  private sealDeferred = false;

  private constructor(
    readonly dir: string,
    options: DiskBufferOptions,
    private readonly dirHandle: FileHandle,
    private readonly unlock: () => Promise<void>,
    nextSeq: number,
    counters: BufferStats,
  ) {
    this.options = { ...BUFFER_DEFAULTS, log: () => {}, ...options };
    if (!(this.options.chunkBytes > 0 && this.options.chunkBytes <= MAX_CHUNK_BYTES)) {
      throw new RangeError(`chunkBytes must be from 1 to ${MAX_CHUNK_BYTES}`);
    }
    if (!(this.options.chunkAgeMs > 0 && this.options.chunkAgeMs <= 2 ** 31 - 1)) {
      throw new RangeError('chunkAgeMs must be from 1 to 2^31-1 (a Node timer)');
    }
    this.nextSeq = nextSeq;
    this.counters = counters;
  }

  /**
   * Opens (creating it if needed) and locks a buffer directory, and scans it: half-written
   * temporary files are removed (they were never durable, so never committed); every chunk's
   * header and length are checked (its checksum when it is read for delivery), and a corrupt or
   * truncated one is moved to DIR/corrupt/ with a message, the rest queued for replay in order.
   */
  static async open(dir: string, options: DiskBufferOptions = {}): Promise<DiskBuffer> {
    try {
      return await DiskBuffer.openUnchecked(dir, options);
    } catch (error) {
      if (error instanceof BufferError) throw error;
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST' || code === 'ENOTDIR') throw new BufferError(`${dir} exists and is not a directory`, 'open');
      throw new BufferError(`cannot open buffer directory ${dir}: ${(error as Error).message}`, 'open');
    }
  }

  private static async openUnchecked(dir: string, options: DiskBufferOptions): Promise<DiskBuffer> {
    const log = options.log ?? (() => {});
    await mkdir(dir, { recursive: true });
    const unlock = await lockDirectory(dir);
    try {
      return await DiskBuffer.scan(dir, options, log, unlock);
    } catch (error) {
      await unlock();
      throw error;
    }
  }

  private static async scan(dir: string, options: DiskBufferOptions, log: (message: string) => void, unlock: () => Promise<void>): Promise<DiskBuffer> {
    const counters: BufferStats = {
      chunksOnDisk: 0, bytesOnDisk: 0, eventsOnDisk: 0, chunksWritten: 0, eventsWritten: 0, fsyncs: 0, chunksAcked: 0,
      eventsAcked: 0, droppedChunks: 0, droppedEvents: 0, corruptChunks: 0, replayedChunks: 0, replayedEvents: 0,
    };
    const names = (await readdir(dir)).sort();
    let maxSeq = 0;
    const found: StoredChunk[] = [];
    for (const name of names) {
      if (name.startsWith('chunk-') && name.endsWith(TEMP_SUFFIX)) {
        await unlink(join(dir, name)).catch(() => {});
        log(`removed half-written ${join(dir, name)} (it was never durable, so nothing in it was committed)`);
        continue;
      }
      const match = CHUNK_NAME.exec(name);
      if (!match) continue;
      const seq = Number(match[1]);
      maxSeq = Math.max(maxSeq, seq);
      // Header, metadata and length only: start-up costs per chunk, not per byte. The checksum
      // is verified when the chunk is read for delivery.
      const head = await readChunkHead(join(dir, name));
      if (typeof head === 'string') {
        await moveAside(dir, name, head, log);
        counters.corruptChunks++;
        continue;
      }
      found.push({ seq, size: head.size, events: head.events, meta: head.meta, state: 'queued' });
    }
    const dirHandle = await open(dir, 'r');
    const buffer = new DiskBuffer(dir, options, dirHandle, unlock, maxSeq + 1, counters);
    for (const chunk of found) {
      buffer.stored.push(chunk);
      counters.chunksOnDisk++;
      counters.bytesOnDisk += chunk.size;
      counters.eventsOnDisk += chunk.events;
      counters.replayedChunks++;
      counters.replayedEvents += chunk.events;
      // Durable already; reporting again lets a checkpoint that lagged behind a crash catch up.
      buffer.options.onDurable?.(chunk.meta.src, chunk.meta);
    }
    return buffer;
  }

  // --------------------------------------------------------------------------- producer side

  /** Adds a batch; resolves once accepted (see the class comment for when it is durable). */
  async append(events: readonly LogEvent[], ids: readonly string[] = []): Promise<void> {
    this.checkWritable();
    for (let i = 0; i < events.length; i++) {
      const event = events[i]!;
      const open = this.open;
      if (open.events === 0) this.startOpenChunk();
      open.writer.writeEntry(event);
      open.events++;
      recordPositions(open.positions, event);
      // ids (receive's forward-protocol chunk ids of this batch) go with the LAST event: they are
      // durable only when every event of the batch is (receive keeps a batch whole: startRequest)
      if (i === events.length - 1) for (const id of ids) open.ids.push(id);
      await this.sealIfFull();
    }
  }

  /**
   * A request that must not be cut (receive's: a resend is recognised by the id recorded with
   * it), appended in one or several calls (receive hands a large one on a slice at a time):
   * until the matching `endRequest()`, the open chunk is not sealed — neither by size nor by age
   * nor by `flush()` — so the request becomes durable whole or not at all, and a resend after a
   * crash finds either all of it (its id recorded) or none of it. The chunk grows past
   * chunkBytes meanwhile, bounded by the largest request the producer accepts.
   */
  startRequest(): void {
    this.openRequests++;
  }

  endRequest(): void {
    if (this.openRequests === 0) return;
    this.openRequests--;
    if (this.openRequests === 0) {
      if (this.sealDeferred) this.seal();
      this.changed.notify();
    }
  }

  private async sealIfFull(): Promise<void> {
    const open = this.open;
    if (open.writer.length >= this.options.chunkBytes || open.events >= this.options.chunkEvents) {
      this.seal();
      if (this.openRequests === 0) await this.roomForNextChunk();
    }
  }

  /**
   * Adds MessagePack Message-mode entries that are already encoded (e.g. what `receive` got on
   * the wire), `events` of them, covering `positions`. They go into the open chunk whole.
   */
  async appendEncoded(payload: Buffer, events: number, positions: SourcePositions = {}, ids: readonly string[] = []): Promise<void> {
    this.checkWritable();
    if (this.open.events === 0) this.startOpenChunk();
    this.open.writer.writeRaw(payload);
    this.open.events += events;
    Object.assign(this.open.positions, positions);
    for (const id of ids) this.open.ids.push(id);
    await this.sealIfFull();
  }

  /** Seals the open chunk and resolves when everything appended so far is durable. */
  async flush(): Promise<void> {
    // a request still being appended is not durable until it is whole
    while (this.openRequests > 0 && !this.failure) await this.changed.wait();
    this.seal();
    while (this.pending.length > 0 && !this.failure) await this.changed.wait();
    if (this.failure) throw this.failure;
  }

  /**
   * Shutting down: what is held (at most about three chunks) is written even past the total
   * limit, so that a stop loses nothing while the disk has room. A full disk still waits.
   */
  shutdown(): void {
    this.shuttingDown = true;
    this.changed.notify();
  }

  /** No more appends: seal what is held and make it durable. Consumers' `next()` ends once everything is delivered. */
  async finish(): Promise<void> {
    try {
      await this.flush();
    } finally {
      this.inputEnded = true;
      this.changed.notify();
    }
  }

  private checkWritable(): void {
    if (this.failure) throw this.failure;
    if (this.inputEnded) throw new Error('DiskBuffer: append after finish()');
  }

  private startOpenChunk(): void {
    this.open.created = Date.now();
    this.ageTimer = setTimeout(() => this.seal(), this.options.chunkAgeMs);
  }

  private seal(): void {
    if (this.openRequests > 0) {
      this.sealDeferred = true;
      return;
    }
    this.sealDeferred = false;
    if (this.ageTimer) clearTimeout(this.ageTimer);
    this.ageTimer = undefined;
    const open = this.open;
    if (open.events === 0) return;
    const payload = open.writer.take();
    this.open = new OpenChunk(open.writer);
    this.pending.push({
      payload,
      events: open.events,
      meta: { uid: newChunkUid(), created: open.created, src: open.positions, ...(open.ids.length > 0 ? { ids: open.ids } : {}) },
    });
    this.sealing ??= this.runSealer();
  }

  /** Keeps memory bounded: with one chunk being written and another waiting, the producer waits. */
  private async roomForNextChunk(): Promise<void> {
    while (this.pending.length > 1 && !this.failure) await this.changed.wait();
    if (this.failure) throw this.failure;
  }

  /** The single writer of chunk files: one at a time, so sequence numbers and renames stay in order. */
  private async runSealer(): Promise<void> {
    try {
      while (this.pending.length > 0) {
        const chunk = this.pending[0]!;
        await this.writeWithinLimits(chunk);
        this.pending.shift();
        this.changed.notify();
      }
    } catch (error) {
      this.failure = error as Error;
      this.changed.notify();
    } finally {
      this.sealing = undefined;
    }
  }

  private async writeWithinLimits(chunk: PendingChunk): Promise<void> {
    const [header, metaBytes] = encodeChunkHead(chunk.meta, chunk.events, chunk.payload);
    const size = header!.length + metaBytes!.length + chunk.payload.length;
    // The total limit, checked before writing. An empty buffer takes any one chunk, or a chunk
    // larger than the limit would wait forever.
    while (!this.shuttingDown && this.counters.bytesOnDisk > 0 && this.counters.bytesOnDisk + size > this.options.totalLimitBytes) {
      await this.overflow(`the total limit of ${this.options.totalLimitBytes} bytes is reached`);
    }
    for (;;) {
      try {
        await this.writeChunkFile(chunk, [header!, metaBytes!, chunk.payload], size);
        this.endBlocked();
        return;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code !== 'ENOSPC' && code !== 'EDQUOT') {
          throw new BufferError(`cannot write a chunk in ${this.dir}: ${(error as Error).message}`, 'io');
        }
        await this.overflow(`the disk holding ${this.dir} is full`);
      }
    }
  }

  /** Applies the overflow policy once; returns when it is worth trying again. */
  private async overflow(why: string): Promise<void> {
    const policy = this.options.overflow;
    if (policy === 'fail') throw new BufferError(`${why} (--overflow fail)`, 'full');
    if (policy === 'drop-oldest' && (await this.dropOldest(why))) return;
    if (this.blockedSince === 0) {
      this.blockedSince = Date.now();
      this.options.log(`${why}: waiting for the consumer to free space (input is held back)`);
    }
    await this.changed.wait(this.options.retryMs);
  }

  private endBlocked(): void {
    if (this.blockedSince === 0) return;
    this.options.log(`space freed after ${((Date.now() - this.blockedSince) / 1000).toFixed(1)} s; accepting input again`);
    this.blockedSince = 0;
  }

  /** Deletes the oldest chunk not out for delivery; awaits the unlink, so a full disk really has the space before the retry. */
  private async dropOldest(why: string): Promise<boolean> {
    const victim = this.stored.find((c) => c.state === 'queued');
    if (!victim) return false; // every chunk on disk is out for delivery: wait like `block`
    this.counters.droppedChunks++;
    this.counters.droppedEvents += victim.events;
    // One line a second at most: a full disk can drop many chunks a second.
    const now = Date.now();
    if (now - this.lastDropReport >= 1000) {
      this.lastDropReport = now;
      this.options.log(
        `${why}: dropped the oldest chunk (${victim.events} events, ${victim.size} bytes); ` +
          `${this.counters.droppedEvents} events in ${this.counters.droppedChunks} chunks dropped so far`,
      );
    }
    await this.remove(victim);
    return true;
  }

  private async writeChunkFile(chunk: PendingChunk, parts: Buffer[], size: number): Promise<void> {
    const seq = this.nextSeq++;
    const path = join(this.dir, chunkFileName(seq));
    const temp = path + TEMP_SUFFIX;
    let handle: FileHandle | undefined;
    try {
      handle = await open(temp, 'wx');
      await writeAll(handle, parts);
      await handle.sync();
      await handle.close();
      handle = undefined;
      await rename(temp, path);
      await this.dirHandle.sync();
      this.counters.fsyncs += 2;
    } catch (error) {
      await handle?.close().catch(() => {});
      await unlink(temp).catch(() => {});
      throw error;
    }
    const fresh = this.freshChunks < FRESH_PAYLOAD_CHUNKS ? chunk.payload : undefined;
    if (fresh) this.freshChunks++;
    this.stored.push({ seq, size, events: chunk.events, meta: chunk.meta, state: 'queued', fresh });
    this.counters.chunksOnDisk++;
    this.counters.bytesOnDisk += size;
    this.counters.eventsOnDisk += chunk.events;
    this.counters.chunksWritten++;
    this.counters.eventsWritten += chunk.events;
    this.options.onDurable?.(chunk.meta.src, chunk.meta);
  }

  // --------------------------------------------------------------------------- consumer side

  /** The next chunk to deliver, in order; waits for one; undefined once input ended and all are handed out. */
  async next(): Promise<Chunk | undefined> {
    for (;;) {
      if (this.closed) return undefined;
      const stored = this.stored.find((c) => c.state === 'queued');
      if (stored) {
        stored.state = 'delivering';
        if (stored.fresh) {
          const payload = this.takeFresh(stored)!;
          return { seq: stored.seq, id: stored.meta.uid, events: stored.events, payload, positions: stored.meta.src, created: stored.meta.created };
        }
        const name = chunkFileName(stored.seq);
        let bytes: Buffer;
        try {
          bytes = await readFile(join(this.dir, name));
        } catch (error) {
          throw new BufferError(`cannot read ${join(this.dir, name)}: ${(error as Error).message}`, 'io');
        }
        const decoded = decodeChunk(bytes);
        if (typeof decoded === 'string') {
          // Damaged after it was written (a disk fault, a person): set it aside, deliver the rest.
          this.counters.corruptChunks++;
          await moveAside(this.dir, name, decoded, this.options.log);
          this.forget(stored, false);
          continue;
        }
        return { seq: stored.seq, id: stored.meta.uid, events: stored.events, payload: decoded.payload, positions: stored.meta.src, created: stored.meta.created };
      }
      if (this.failure || (this.inputEnded && this.pending.length === 0 && this.open.events === 0)) return undefined;
      await this.changed.wait();
    }
  }

  /** Async iteration over `next()`; the consumer must still `ack` each chunk. */
  async *chunks(): AsyncGenerator<Chunk> {
    for (;;) {
      const chunk = await this.next();
      if (!chunk) return;
      yield chunk;
    }
  }

  /** The chunk is delivered (downstream acknowledged or committed it): delete it. */
  async ack(chunk: Chunk): Promise<void> {
    const stored = this.stored.find((c) => c.seq === chunk.seq);
    if (!stored || stored.state === 'done') return;
    this.counters.chunksAcked++;
    this.counters.eventsAcked += stored.events;
    await this.remove(stored);
  }

  /** Delivery failed: the chunk goes back to the queue and is yielded again, before newer ones. */
  release(chunk: Chunk): void {
    const stored = this.stored.find((c) => c.seq === chunk.seq);
    if (stored && stored.state === 'delivering') stored.state = 'queued';
    this.changed.notify();
  }

  /**
   * Deletes a chunk file. No directory fsync: a deletion lost in a crash brings a delivered chunk
   * back, which is a duplicate, never a loss — and it saves a sync per chunk.
   */
  private async remove(stored: StoredChunk): Promise<void> {
    this.forget(stored, true);
    await unlink(join(this.dir, chunkFileName(stored.seq))).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') this.options.log(`cannot delete ${chunkFileName(stored.seq)}: ${error.message}`);
    });
  }

  /** The payload kept in memory for `stored`, which now lets go of it. */
  private takeFresh(stored: StoredChunk): Buffer | undefined {
    const payload = stored.fresh;
    if (payload) {
      stored.fresh = undefined;
      this.freshChunks--;
    }
    return payload;
  }

  private forget(stored: StoredChunk, countsAsAcked: boolean): void {
    this.takeFresh(stored);
    stored.state = 'done';
    this.counters.chunksOnDisk--;
    this.counters.bytesOnDisk -= stored.size;
    this.counters.eventsOnDisk -= stored.events;
    // Advance the acknowledged watermark over every leading done chunk.
    let positions: Record<string, number> | undefined;
    while (this.stored.length > 0 && this.stored[0]!.state === 'done') {
      const done = this.stored.shift()!;
      if (countsAsAcked || done !== stored) positions = Object.assign(positions ?? {}, done.meta.src);
    }
    if (positions && this.options.onAcked) this.options.onAcked(positions);
    this.changed.notify();
  }

  // --------------------------------------------------------------------------- state

  get policy(): OverflowPolicy {
    return this.options.overflow;
  }

  /** Whether events were appended that are not durable yet (the open chunk, or a chunk waiting to be written). */
  holdsUndurable(): boolean {
    return this.open.events > 0 || this.pending.length > 0;
  }

  stats(): BufferStats {
    return { ...this.counters };
  }

  /** Stops consumers (`next()` returns undefined) and releases the directory. Call after `finish()`; un-acked chunks stay for the next start. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.ageTimer) clearTimeout(this.ageTimer);
    this.changed.notify();
    await this.dirHandle.close().catch(() => {});
    await this.unlock();
  }
}

/**
 * Writes every byte or throws. A write that runs into a full disk can return short with no error
 * (the next one fails with ENOSPC); a renamed short file would be a truncated chunk.
 */
async function writeAll(handle: FileHandle, parts: readonly Buffer[]): Promise<void> {
  for (const part of parts) {
    for (let at = 0; at < part.length; ) {
      const { bytesWritten } = await handle.write(part, at, part.length - at);
      if (bytesWritten <= 0) throw Object.assign(new Error('no space left on device (short write)'), { code: 'ENOSPC' });
      at += bytesWritten;
    }
  }
}

async function moveAside(dir: string, name: string, reason: string, log: (message: string) => void): Promise<void> {
  const corruptDir = join(dir, 'corrupt');
  const target = join(corruptDir, `${name}.${Date.now()}`);
  try {
    await mkdir(corruptDir, { recursive: true });
    await rename(join(dir, name), target);
    log(`${join(dir, name)} is unusable (${reason}); moved it to ${target}; the other chunks are delivered`);
  } catch (error) {
    log(`${join(dir, name)} is unusable (${reason}) and could not be moved aside: ${(error as Error).message}`);
  }
}
