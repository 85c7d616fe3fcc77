import { DecodeError } from '../codec/decode-error.js';
import type { InputFormat } from '../codec/read-events.js';
import { BufferError } from '../buffer/buffer-error.js';
import { checkTotalLimit } from '../buffer/buffer-options.js';
import { BUFFER_DEFAULTS, type OverflowPolicy } from '../buffer/defaults.js';
import type { DiskBuffer, Chunk } from '../buffer/disk-buffer.js';
import { DurableStdin } from '../buffer/durable-stdin.js';
import type { CheckpointTracker } from '../checkpoint/checkpoint-tracker.js';
import type { LogEvent } from '../event/event.js';
import type { StageInput } from '../stream/stage-io.js';

export interface BufferedInputOptions {
  dir: string;
  totalLimitBytes: number;
  overflow: OverflowPolicy;
  /** The store's --flush-interval: a chunk is sealed (durable, deliverable) at the latest this long after its first event. */
  flushIntervalMs: number;
  input: InputFormat;
  /** Where the events come from: standard input, or the stage before in `logkit run`. */
  source: StageInput;
  /** The store's --batch-events: a chunk holds at most one batch, so a crash in the middle of a chunk repeats at most that much. */
  batchEvents: number;
  /** Positions advance when a chunk is durable: from then on the buffer replays it. */
  checkpoint?: CheckpointTracker;
}

/**
 * `store --buffer DIR`: standard input is made durable in a DiskBuffer first, and the store
 * reads its input from the buffer (`source`). The store's batching is unchanged: it cuts
 * batches across chunks as it likes, and reports each commit (`committed`) with the events in
 * input order; a chunk is deleted once every one of its events is committed. After a restart
 * the chunks left are stored first; a chunk partly committed before a crash is stored again
 * whole (at least once).
 */
export class BufferedInput {
  /** Chunks handed to the store, oldest first, with the running event count at their end. */
  private readonly delivered: Array<{ chunk: Chunk; end: number }> = [];
  private handedOut = 0;
  private committedEvents = 0;
  private acking: Promise<void> = Promise.resolve();
  /** The input's decode error, reported once the store has stored what came before it. */
  inputError: DecodeError | undefined;
  /** Why the buffer stopped taking input, if it did: the store ends with it. */
  failure: BufferError | undefined;

  private readonly buffer: DiskBuffer;

  private constructor(
    private readonly durable: DurableStdin,
    private readonly options: BufferedInputOptions,
  ) {
    this.buffer = durable.buffer;
  }

  static async open(options: BufferedInputOptions): Promise<BufferedInput> {
    const durable = await DurableStdin.open({
      dir: options.dir,
      input: options.input,
      checkpoint: options.checkpoint,
      replayVerb: 'storing first',
      limits: {
        chunkBytes: BUFFER_DEFAULTS.chunkBytes,
        chunkEvents: Math.min(BUFFER_DEFAULTS.chunkEvents, options.batchEvents),
        chunkAgeMs: options.flushIntervalMs,
        totalLimitBytes: checkTotalLimit(options.totalLimitBytes, BUFFER_DEFAULTS.chunkBytes),
        overflow: options.overflow,
      },
    });
    return new BufferedInput(durable, options);
  }

  /** The store's input: chunk payloads (MessagePack entries), in order, until the buffer is finished and empty. */
  async *source(): AsyncGenerator<Buffer> {
    for (;;) {
      const chunk = await this.buffer.next();
      if (!chunk) return;
      this.handedOut += chunk.events;
      this.delivered.push({ chunk, end: this.handedOut });
      yield chunk.payload;
    }
  }

  /** The commit hook: events committed in input order; chunks wholly committed are deleted. */
  committed(events: readonly LogEvent[]): void {
    this.committedEvents += events.length;
    while (this.delivered.length > 0 && this.delivered[0]!.end <= this.committedEvents) {
      const { chunk } = this.delivered.shift()!;
      this.acking = this.acking.then(() => this.buffer.ack(chunk));
    }
  }

  /** Reads the input into the buffer until its end or stop(); then seals and makes durable what is held. */
  async fill(): Promise<void> {
    try {
      this.inputError = await this.durable.fill(this.options.source, this.options.input);
    } catch (error) {
      if (error instanceof BufferError) return this.fail(error);
      throw error;
    }
    try {
      await this.durable.finish();
    } catch (error) {
      if (error instanceof BufferError) return this.fail(error);
      throw error;
    }
  }

  /** Shutdown: stop reading; what is held is made durable even past --total-limit. */
  stop(): void {
    this.durable.stop();
  }

  /** After the store finished: deletions done, directory released; chunks not committed stay for the next start. */
  async close(): Promise<{ eventsOnDisk: number; chunksOnDisk: number }> {
    // after a failure the buffer is closed already: a chunk not deleted is stored again at the next start
    await this.acking.catch((error: unknown) => {
      if (!this.failure) throw error;
    });
    // Sealed chunks the store never took (shutdown) stay on disk; stop the consumer side.
    return this.durable.close();
  }

  /**
   * --overflow fail, or a chunk that cannot be written: stop reading, and end the store's input
   * (closing the buffer) so that it commits what it holds and exits with `failure` (75 or 74,
   * see exit-status-of.ts); what is durable stays in DIR for the next start.
   */
  private async fail(error: BufferError): Promise<void> {
    this.durable.stopReading();
    const stats = this.buffer.stats();
    this.failure = new BufferError(
      `store: --buffer: ${error.message}; ${stats.eventsOnDisk} events in ${stats.chunksOnDisk} chunks kept in ${this.options.dir} for the next start`,
      error.reason,
    );
    await this.buffer.close();
  }
}
