import type { InputFormat } from '../codec/read-events.js';
import type { CliError } from '../cli/exit-codes.js';
import { BUFFER_DEFAULTS, type OverflowPolicy } from '../buffer/defaults.js';
import type { Chunk as BufferChunk } from '../buffer/disk-buffer.js';
import { DurableStdin, readStdinInto, type Until } from '../buffer/durable-stdin.js';
import { parseTotalLimit } from '../buffer/buffer-options.js';
import type { CheckpointTracker } from '../checkpoint/checkpoint-tracker.js';
import { closeCheckpoint, openCheckpoint } from '../checkpoint/open-checkpoint.js';
import type { Forwarder } from './forwarder.js';
import { MemorySegmentQueue, type SegmentQueue } from './segment-queue.js';
import { SegmentSender } from './segment-sender.js';

export interface DurableOptions {
  /** --buffer DIR: chunks durable on disk before they are sent, deleted once acknowledged. */
  buffer?: string;
  /** --checkpoint FILE: forward commits source positions (on durability with --buffer, on acknowledgement without). */
  checkpoint?: string;
  totalLimit: string | number;
  overflow: OverflowPolicy;
  chunkBytes: number;
  flushIntervalMs: number;
  input: InputFormat;
}

export interface DurableOutcome {
  /** Events not acknowledged at the end. */
  undeliveredEvents: number;
  /** …of which safe on disk for the next start (--buffer). */
  keptEvents: number;
  keptChunks: number;
}

/**
 * `forward` as the committing stage of a collector (see "Delivery guarantee" in the README). Input
 * events (with their source positions) go into segments — chunks of a DiskBuffer with --buffer,
 * memory segments without — and a SegmentSender turns each into forward chunks with stable ids.
 * With --buffer a chunk is durable before it is first sent, deleted once every forward chunk
 * cut from it is acknowledged, and replayed in order, before new input, after a restart; the
 * checkpoint advances when a chunk is durable. Without --buffer it advances when a segment and
 * every one before it are acknowledged.
 */
export class DurableInput {
  private sending: Promise<void> = Promise.resolve();
  private sendError: Error | undefined;

  private constructor(
    readonly sender: SegmentSender,
    private readonly options: DurableOptions,
    private readonly durable: DurableStdin | undefined,
    private readonly memory: MemorySegmentQueue | undefined,
    private readonly checkpoint: CheckpointTracker | undefined,
  ) {}

  static async open(options: DurableOptions): Promise<DurableInput> {
    const checkpoint = options.checkpoint ? await openCheckpoint('forward', options.checkpoint) : undefined;
    if (options.buffer === undefined) {
      const memory = new MemorySegmentQueue(options.chunkBytes, options.flushIntervalMs, (positions) => checkpoint?.commitPositions(positions));
      return new DurableInput(new SegmentSender(memory, options.chunkBytes), options, undefined, memory, checkpoint);
    }
    const durable = await DurableStdin.open({
      command: 'forward',
      dirName: '--buffer',
      dir: options.buffer,
      input: options.input,
      checkpoint,
      replayVerb: 'resending',
      limits: {
        chunkBytes: options.chunkBytes,
        chunkEvents: BUFFER_DEFAULTS.chunkEvents,
        chunkAgeMs: Math.max(1, options.flushIntervalMs),
        totalLimitBytes: parseTotalLimit(options.totalLimit, options.chunkBytes),
        overflow: options.overflow,
      },
    });
    const buffer = durable.buffer;
    const queue: SegmentQueue = { next: () => buffer.next(), ack: (segment) => buffer.ack(segment as BufferChunk) };
    return new DurableInput(new SegmentSender(queue, options.chunkBytes), options, durable, undefined, checkpoint);
  }

  /**
   * Reads stdin into segments until its end or termination, sending them meanwhile. Returns the
   * input's decode error (after keeping what came before it), if any.
   */
  async read(forwarder: Forwarder, orTerminated: Until): Promise<CliError | undefined> {
    this.sending = this.sender.run(forwarder).catch((error: unknown) => {
      this.sendError = error as Error;
    });
    return this.durable ? this.durable.fill(orTerminated) : readStdinInto(this.memory!, this.options.input, orTerminated);
  }

  /**
   * End of input or SIGTERM: make what is held durable (--buffer), send the rest and wait for
   * the acknowledgements until `drainMs` has passed, commit the checkpoint, release the buffer.
   */
  async complete(forwarder: Forwarder, drainMs: number, terminated: boolean): Promise<DurableOutcome> {
    const deadline = Date.now() + drainMs;
    const left = (): number => Math.max(0, deadline - Date.now());
    if (this.durable) {
      // On SIGTERM what is held is written even past --total-limit: a stop loses nothing.
      if (terminated) this.durable.buffer.shutdown();
      await withDeadline(this.durable.finish(), left());
    } else {
      this.memory!.finish();
    }
    await withDeadline(this.sending, left());
    if (this.sendError) throw this.sendError;
    const undelivered = await forwarder.drain(left());
    await this.sender.settled();
    await closeCheckpoint('forward', this.checkpoint);
    const undeliveredEvents = undelivered.reduce((sum, chunk) => sum + chunk.events, 0);
    if (!this.durable) return { undeliveredEvents, keptEvents: 0, keptChunks: 0 };
    const kept = await this.durable.close();
    return { undeliveredEvents: Math.max(undeliveredEvents, kept.eventsOnDisk), keptEvents: kept.eventsOnDisk, keptChunks: kept.chunksOnDisk };
  }
}

function withDeadline(work: Promise<unknown>, ms: number): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([work, new Promise((resolve) => (timer = setTimeout(resolve, ms)))]).finally(() => clearTimeout(timer));
}
