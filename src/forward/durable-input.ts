import { DecodeError } from '../codec/decode-error.js';
import type { InputFormat } from '../codec/read-events.js';
import { BufferError } from '../buffer/buffer-error.js';
import { BUFFER_DEFAULTS, type OverflowPolicy } from '../buffer/defaults.js';
import type { DiskBuffer, Chunk as BufferChunk } from '../buffer/disk-buffer.js';
import { DurableStdin, readInputInto } from '../buffer/durable-stdin.js';
import { checkTotalLimit } from '../buffer/buffer-options.js';
import type { CheckpointTracker } from '../checkpoint/checkpoint-tracker.js';
import { closeCheckpoint, openCheckpoint } from '../checkpoint/open-checkpoint.js';
import { log } from '../log/logger.js';
import type { Forwarder } from './forwarder.js';
import { MemorySegmentQueue } from './segment-queue.js';
import { InputRunSender, type InputRunQueue } from './input-run-sender.js';
import type { StageInput } from '../stream/stage-io.js';

export interface DurableOptions {
  /** --buffer DIR: chunks durable on disk before they are sent, deleted once acknowledged. */
  buffer?: string;
  /** --checkpoint FILE: forward commits source positions (on durability with --buffer, on acknowledgement without). */
  checkpoint?: string;
  totalLimitBytes: number;
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
 * `forward` as the committing stage of a collector (ARCHITECTURE.md; docs/delivery.md). Input
 * events (with their source positions) go into runs — chunk files of a DiskBuffer with --buffer,
 * segments in memory without — and an InputRunSender turns each into forward chunks with stable
 * ids. With --buffer a chunk file is durable before it is first sent, deleted once every forward
 * chunk cut from it is acknowledged, and replayed in order, before new input, after a restart;
 * the checkpoint advances when a chunk file is durable. Without --buffer it advances when a
 * segment and every one before it are acknowledged.
 */
export class DurableInput {
  private sending: Promise<void> = Promise.resolve();
  private sendError: Error | undefined;

  private constructor(
    readonly sender: InputRunSender,
    private readonly options: DurableOptions,
    private readonly durable: DurableStdin | undefined,
    private readonly memory: MemorySegmentQueue | undefined,
    private readonly checkpoint: CheckpointTracker | undefined,
  ) {}

  static async open(options: DurableOptions): Promise<DurableInput> {
    const checkpoint = options.checkpoint ? await openCheckpoint('forward', options.checkpoint) : undefined;
    if (options.buffer === undefined) {
      const memory = new MemorySegmentQueue(options.chunkBytes, options.flushIntervalMs, (positions) => checkpoint?.commitPositions(positions));
      return new DurableInput(new InputRunSender(memory, options.chunkBytes), options, undefined, memory, checkpoint);
    }
    const durable = await DurableStdin.open({
      dir: options.buffer,
      input: options.input,
      checkpoint,
      replayVerb: 'resending',
      limits: {
        chunkBytes: options.chunkBytes,
        chunkEvents: BUFFER_DEFAULTS.chunkEvents,
        chunkAgeMs: options.flushIntervalMs,
        totalLimitBytes: checkTotalLimit(options.totalLimitBytes, options.chunkBytes),
        overflow: options.overflow,
      },
    });
    const buffer = durable.buffer;
    const queue: InputRunQueue = { next: () => buffer.next(), ack: (chunkFile) => buffer.ack(chunkFile as BufferChunk) };
    return new DurableInput(new InputRunSender(queue, options.chunkBytes), options, durable, undefined, checkpoint);
  }

  /**
   * Reads the input into runs (chunk files or segments) until its end or shutdown, sending them meanwhile. Returns the
   * input's decode error (after keeping what came before it), if any.
   */
  async read(forwarder: Forwarder, input: StageInput, signal: AbortSignal): Promise<DecodeError | undefined> {
    this.sending = this.sender.run(forwarder).catch((error: unknown) => {
      this.sendError = error as Error;
    });
    try {
      return this.durable
        ? await this.durable.fill(input, this.options.input, signal)
        : await readInputInto(this.memory!, input, this.options.input, signal);
    } catch (error) {
      if (error instanceof BufferError) throw await this.abandon(error);
      throw error;
    }
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
      try {
        await withDeadline(this.durable.finish(), left());
      } catch (error) {
        if (error instanceof BufferError) throw await this.abandon(error);
        throw error;
      }
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

  /**
   * --overflow fail (or an unusable buffer directory): what is durable stays for the next start.
   * Commits what the checkpoint holds and releases the buffer; returns the error to end with
   * (exit 75 or 74, see exit-status-of.ts), saying what was kept.
   */
  private async abandon(error: BufferError): Promise<BufferError> {
    const buffer: DiskBuffer = this.durable!.buffer;
    const stats = buffer.stats();
    await closeCheckpoint('forward', this.checkpoint).catch((closing: Error) => log.error(closing.message));
    await buffer.close().catch(() => {});
    return new BufferError(
      `forward: --buffer: ${error.message}; ${stats.eventsOnDisk} events in ${stats.chunksOnDisk} chunks kept in ${this.options.buffer} for the next start`,
      error.reason,
    );
  }
}

function withDeadline(work: Promise<unknown>, ms: number): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([work, new Promise((resolve) => (timer = setTimeout(resolve, ms)))]).finally(() => clearTimeout(timer));
}
