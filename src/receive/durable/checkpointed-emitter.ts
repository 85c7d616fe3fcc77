import type { Writable } from 'node:stream';
import type { Chunk, DiskBuffer } from '../../buffer/disk-buffer.js';
import { readCheckpointFile } from '../../checkpoint/checkpoint-file.js';
import { relayPositionOf } from '../../event/source-position.js';
import { MessageStreamDecoder } from '../../codec/msgpack-reader.js';
import { encodeEntries } from '../../codec/msgpack-writer.js';
import type { SeenChunks } from './seen-chunks.js';

export interface EmitterStats {
  emittedChunks: number;
  emittedEvents: number;
  /** Bytes written to stdout. */
  emittedBytes: number;
  /** Chunks found on disk at start that the store's checkpoint already covered (not emitted again). */
  skippedChunks: number;
  /** Chunks deleted because the store's checkpoint passed them. */
  committedChunks: number;
}

/** A chunk written downstream, kept (without its payload) until the store's checkpoint covers it. */
interface Emitted {
  chunk: Chunk;
  last: number;
}

/**
 * The consumer side of `receive --buffer`: writes the buffer's chunks, in order, to stdout
 * (MessagePack Message-mode entries — the chunk payload as it is, stamped with receive's relay
 * positions) and deletes a chunk only once the STORE's checkpoint file says it committed the
 * chunk's last relay offset. The checkpoint is polled (a small file, read every `pollMs`).
 *
 * At start-up the chunks left on disk are replayed: those the checkpoint covers are deleted
 * without being emitted; a chunk it covers in part is emitted from the first uncovered event.
 */
export class CheckpointedEmitter {
  readonly stats: EmitterStats = { emittedChunks: 0, emittedEvents: 0, emittedBytes: 0, skippedChunks: 0, committedChunks: 0 };
  private committed: number;
  private readonly emitted: Emitted[] = [];
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> = Promise.resolve();
  private lastEmitted = -1;
  private stopped = false;
  /** When chunks were first seen waiting on a checkpoint that does not move (0: not waiting). */
  private stalledSince = 0;
  private warnedStall = false;
  private lastProblem: string | undefined;

  constructor(
    private readonly buffer: DiskBuffer,
    private readonly seen: SeenChunks,
    private readonly out: Writable,
    private readonly sourceId: string,
    private readonly checkpointPath: string,
    committed: number,
    private readonly log: (message: string) => void,
    private readonly pollMs = 200,
  ) {
    this.committed = committed;
  }

  /** Emits until the buffer ends (after `finish()`/`close()`). Rejects on a stdout error. */
  async run(): Promise<void> {
    this.timer = setInterval(() => void this.poll(), this.pollMs);
    try {
      for await (const chunk of this.buffer.chunks()) {
        const last = chunk.positions[this.sourceId] ?? 0;
        if (last <= this.committed) {
          this.stats.skippedChunks++;
          await this.buffer.ack(chunk);
          continue;
        }
        let payload = chunk.payload;
        let events = chunk.events;
        if (this.committed > this.lastEmitted) {
          // the checkpoint may cover the start of this chunk (a store that committed part of it)
          const rest = new MessageStreamDecoder().push(payload).filter((e) => (relayPositionOf(e)?.off ?? Infinity) > this.committed);
          payload = encodeEntries(rest);
          events = rest.length;
        }
        this.lastEmitted = last;
        this.emitted.push({ chunk: { ...chunk, payload: Buffer.alloc(0) }, last });
        this.stats.emittedChunks++;
        this.stats.emittedEvents += events;
        this.stats.emittedBytes += payload.length;
        if (!this.out.write(payload)) await waitForDrain(this.out);
      }
    } finally {
      if (this.timer) clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  /** Reads the store's checkpoint once more and deletes what it covers (at exit). */
  async finalPoll(): Promise<void> {
    this.stopped = false;
    await this.poll();
    this.stopped = true;
  }

  private warnIfStalled(): void {
    if (this.emitted.length === 0) {
      this.stalledSince = 0;
      return;
    }
    if (this.stalledSince === 0) this.stalledSince = Date.now();
    else if (!this.warnedStall && Date.now() - this.stalledSince > STALL_WARNING_MS) {
      this.warnedStall = true;
      this.log(
        `the store's checkpoint ${this.checkpointPath} has not covered the events written to stdout for ${STALL_WARNING_MS / 1000} s; ` +
          'they stay in the buffer until it does (is the store run with --checkpoint on this same file?)',
      );
    }
  }

  private poll(): Promise<void> {
    this.polling = this.polling.then(async () => {
      if (this.stopped) return;
      let off: number | undefined;
      try {
        off = (await readCheckpointFile(this.checkpointPath)).get(this.sourceId)?.off;
      } catch (error) {
        // once per distinct problem, not every poll: the chunks simply stay until it is readable
        const message = `cannot read the store checkpoint: ${(error as Error).message}; keeping the buffered chunks`;
        if (message !== this.lastProblem) this.log(message);
        this.lastProblem = message;
        return;
      }
      this.lastProblem = undefined;
      if (off === undefined || off <= this.committed) {
        this.warnIfStalled();
        return;
      }
      this.committed = off;
      this.stalledSince = 0;
      const covered: Emitted[] = [];
      while (this.emitted.length > 0 && this.emitted[0]!.last <= off) covered.push(this.emitted.shift()!);
      if (covered.length === 0) return;
      // the duplicate memory (ids, offset floor) must outlive the chunks that carried it
      try {
        await this.seen.save();
      } catch (error) {
        this.log(`cannot save the duplicate memory: ${(error as Error).message}; keeping the chunks`);
        this.emitted.unshift(...covered);
        return;
      }
      for (const e of covered) await this.buffer.ack(e.chunk);
      this.stats.committedChunks += covered.length;
    });
    return this.polling;
  }
}

/** A checkpoint that never moves fills the buffer: say so once (a store run without --checkpoint, or another FILE). */
const STALL_WARNING_MS = 60_000;

function waitForDrain(out: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (error?: Error) => {
      out.off('drain', onDrain);
      out.off('error', done);
      out.off('close', onClose);
      if (error) reject(error);
      else resolve();
    };
    const onDrain = () => done();
    const onClose = () => done(new Error('stdout closed'));
    out.on('drain', onDrain);
    out.on('error', done);
    out.on('close', onClose);
  });
}
