import { createHash } from 'node:crypto';
import type { PositionsRecord } from '../checkpoint/checkpoint-tracker.js';
import { ChunkBatcher, type SealedBatch } from './chunk-batcher.js';
import type { Chunk } from './chunk.js';
import type { ChunkStore } from './chunk-ledger.js';
import type { Forwarder } from './forwarder.js';
import { RawEntryScanner } from './raw-entry-scanner.js';

/**
 * A run of input events with an id, as a committing forward sends them: MessagePack
 * Message-mode entries (options and their source positions included) and the highest source
 * position per source among them. With --buffer it is a chunk file of the disk buffer (it keeps
 * its id across restarts); without, a segment that MemorySegmentQueue cuts (ARCHITECTURE.md, Words).
 */
export interface InputRun {
  readonly id: string;
  readonly events: number;
  readonly payload: Buffer;
  readonly positions: PositionsRecord;
}

/** Where input runs come from, in input order, and where their delivery is reported. */
export interface InputRunQueue {
  /** The next run, waiting for one; undefined once input ended and every run was handed out. */
  next(): Promise<InputRun | undefined>;
  /** Every chunk cut from the run was acknowledged. */
  ack(run: InputRun): Promise<void>;
}

/**
 * Turns input runs (chunk files, or segments) into forward chunks and reports a run delivered
 * once all its chunks are acknowledged. It is the ChunkStore of the forwarder's ledger: the
 * chunks are durable already (in the run), so `persist` has nothing to do, and `release` (the
 * acknowledgement) counts down the run's chunks.
 *
 * Chunk ids are derived from the run's id and the chunk's index in it, and the split is
 * deterministic (by tag and route, in the order the run first holds them whatever runs came
 * before, then by --chunk-bytes; the route depends only on the source and the servers named),
 * so a run replayed after a restart is sent
 * as the same chunks with the same ids: a receiver that saw them before drops them.
 */
export class InputRunSender implements ChunkStore {
  private readonly scanner = new RawEntryScanner();
  private batcher: ChunkBatcher;
  /** Chunk id → its run's remaining count. */
  private readonly waiting = new Map<string, { run: InputRun; remaining: number }>();
  private forwarder: Forwarder | undefined;
  private acking: Promise<void> = Promise.resolve();
  runsSent = 0;

  constructor(
    private readonly queue: InputRunQueue,
    private readonly chunkBytes: number,
  ) {
    this.batcher = new ChunkBatcher(chunkBytes);
  }

  /** Sends every run the queue yields, in order, until it ends; back pressure comes from the forwarder. */
  async run(forwarder: Forwarder): Promise<void> {
    this.forwarder = forwarder;
    // chunks hold sources of one route (the servers' order), as the forwarder's own do
    this.batcher = new ChunkBatcher(this.chunkBytes, forwarder.routeOf);
    for (;;) {
      const run = await this.queue.next();
      if (!run) return;
      await this.send(run);
    }
  }

  /** Resolves when every acknowledged run has been reported to the queue. */
  settled(): Promise<void> {
    return this.acking;
  }

  async persist(): Promise<void> {}

  async release(chunk: Chunk): Promise<void> {
    const entry = this.waiting.get(chunk.id);
    if (!entry) return;
    this.waiting.delete(chunk.id);
    if (--entry.remaining === 0) this.done(entry.run);
  }

  /** A chunk cut in parts: the run now waits for each of them instead. */
  replace(chunk: Chunk, parts: readonly Chunk[]): void {
    const entry = this.waiting.get(chunk.id);
    if (!entry) return;
    this.waiting.delete(chunk.id);
    entry.remaining += parts.length - 1;
    for (const part of parts) this.waiting.set(part.id, entry);
  }

  private async send(run: InputRun): Promise<void> {
    this.scanner.push(run.payload, this.batcher);
    const batches = [...this.batcher.takeSealed(), ...this.batcher.flush()];
    this.runsSent++;
    if (batches.length === 0) {
      this.done(run);
      return;
    }
    const entry = { run, remaining: batches.length };
    const ids = batches.map((batch, index) => chunkIdOf(run.id, index, batch));
    for (const id of ids) this.waiting.set(id, entry);
    await this.forwarder!.enqueue(batches, ids);
  }

  private done(run: InputRun): void {
    // In order, one at a time: a disk buffer deletes the chunk file here.
    this.acking = this.acking.then(() => this.queue.ack(run));
  }
}

/**
 * 16 bytes, base64, as Fluentd's chunk ids: the same for the same chunk of the same run, so that a
 * receiver drops a replay it already has. It names the chunk's content (its tag, event count, size
 * and identities), not only its place in the run: a replay cut differently (another --chunk-bytes,
 * another batching order) then gets new ids, and is stored again and de-duplicated by identity,
 * rather than dropped as a resend of a chunk that held other events, which would lose them.
 */
export function chunkIdOf(runId: string, index: number, batch: SealedBatch): string {
  const hash = createHash('sha256').update(runId).update(`/${index}/${batch.events}/${batch.entries.length}/`).update(batch.tag);
  if (batch.identities) hash.update(batch.identities);
  return hash.digest().subarray(0, 16).toString('base64');
}
