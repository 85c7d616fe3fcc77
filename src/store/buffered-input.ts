import type { InputFormat } from '../codec/read-events.js';
import type { CliError } from '../cli/exit-codes.js';
import { DurableStdin } from '../buffer/durable-stdin.js';
import { parseTotalLimit } from '../buffer/buffer-options.js';
import { BUFFER_DEFAULTS, type OverflowPolicy } from '../buffer/defaults.js';
import { DiskBuffer, type Chunk } from '../buffer/disk-buffer.js';
import type { CheckpointTracker } from '../checkpoint/checkpoint-tracker.js';
import type { LogEvent } from '../event/event.js';

export interface BufferedInputOptions {
  dir: string;
  totalLimit: string | number;
  overflow: OverflowPolicy;
  /** The store's --flush-interval: a chunk is sealed (durable, deliverable) at the latest this long after its first event. */
  flushIntervalMs: number;
  input: InputFormat;
  /** The store's --batch-size: a chunk holds at most one batch, so a crash in the middle of a chunk repeats at most that much. */
  batchSize: number;
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
  inputError: CliError | undefined;

  private constructor(
    private readonly durable: DurableStdin,
    private readonly buffer: DiskBuffer,
  ) {}

  static async open(options: BufferedInputOptions): Promise<BufferedInput> {
    const durable = await DurableStdin.open({
      command: 'store',
      dirName: '--buffer',
      dir: options.dir,
      input: options.input,
      checkpoint: options.checkpoint,
      replayVerb: 'storing first',
      limits: {
        chunkBytes: BUFFER_DEFAULTS.chunkBytes,
        chunkEvents: Math.max(1, Math.min(BUFFER_DEFAULTS.chunkEvents, options.batchSize)),
        chunkAgeMs: Math.max(1, Math.min(options.flushIntervalMs, 2 ** 31 - 1)),
        totalLimitBytes: parseTotalLimit(options.totalLimit, BUFFER_DEFAULTS.chunkBytes),
        overflow: options.overflow,
      },
    });
    return new BufferedInput(durable, durable.buffer);
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

  /** Reads standard input into the buffer until its end or stop(); then seals and makes durable what is held. */
  async fill(): Promise<void> {
    this.inputError = await this.durable.fill();
    await this.durable.finish();
  }

  /** SIGTERM: stop reading; what is held is made durable even past --total-limit. */
  stop(): void {
    this.durable.stop();
  }

  /** After the store finished: deletions done, directory released; chunks not committed stay for the next start. */
  async close(): Promise<{ eventsOnDisk: number; chunksOnDisk: number }> {
    await this.acking;
    return this.durable.close();
  }
}
