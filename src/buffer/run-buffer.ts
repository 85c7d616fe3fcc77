import type { Writable } from 'node:stream';
import { EventWriter, colorWanted, resolveOutputFormat, type OutputFormat } from '../codec/event-writer.js';
import { MessageStreamDecoder } from '../codec/msgpack-reader.js';
import type { InputFormat } from '../codec/read-events.js';
import { CliError, ExitCode } from '../cli/exit-codes.js';
import { parseByteSize } from './byte-size.js';
import { parseTotalLimit } from './buffer-options.js';
import type { CheckpointTracker } from '../checkpoint/checkpoint-tracker.js';
import { closeCheckpoint, openCheckpoint } from '../checkpoint/open-checkpoint.js';
import { CommandMetrics } from '../metrics/command-metrics.js';
import { log } from '../log/logger.js';
import { bufferMetrics } from './buffer-metrics.js';
import { MAX_CHUNK_BYTES, type DiskBuffer, type OverflowPolicy } from './disk-buffer.js';
import { DurableStdin } from './durable-stdin.js';

export interface BufferStageOptions {
  dir: string;
  input: InputFormat;
  output?: OutputFormat;
  chunkBytes: string | number;
  chunkEvents: number;
  /** Seconds. */
  chunkAge: number;
  totalLimit: string | number;
  overflow: OverflowPolicy;
  checkpoint?: string;
  /** Seconds a SIGTERM waits for the consumer to take what is on disk. */
  drainTimeout: number;
  stats: boolean;
  metrics?: string;
  statsInterval?: number;
}

const say = (message: string) => log.info(message);

/**
 * `logkit buffer DIR`: stdin → durable chunks in DIR → stdout, in order. A chunk is deleted once
 * it has been written to stdout completely (handed to the kernel). With --checkpoint, this stage
 * is the committing one: the positions of a chunk are checkpointed as soon as the chunk is
 * durable, since from then on the buffer itself replays it.
 */
export async function runBuffer(options: BufferStageOptions): Promise<void> {
  const { chunkBytes, totalLimit } = checkSizes(options);
  const checkpoint = options.checkpoint ? await openCheckpoint('buffer', options.checkpoint) : undefined;
  let stage: BufferStage | undefined;
  const durable = await DurableStdin.open({
    command: 'buffer',
    dir: options.dir,
    input: options.input,
    checkpoint,
    replayVerb: 'replaying',
    limits: { chunkBytes, chunkEvents: options.chunkEvents, chunkAgeMs: options.chunkAge * 1000, totalLimitBytes: totalLimit, overflow: options.overflow },
    beforeFailExit: () => stage?.report(),
  });

  // the exit line is printed by report() below: this stage ends through process.exit
  const metrics = await CommandMetrics.start(bufferMetrics(durable.buffer), { metrics: options.metrics, statsInterval: options.statsInterval });
  stage = new BufferStage(durable, checkpoint, options, metrics);
  await stage.run();
}

class BufferStage {
  private stopping = false;
  private downstreamGone = false;
  private deliveryError: Error | undefined;
  private readonly out: Writable = process.stdout;

  private readonly buffer: DiskBuffer;

  constructor(
    private readonly durable: DurableStdin,
    private readonly checkpoint: CheckpointTracker | undefined,
    private readonly options: BufferStageOptions,
    private readonly metrics: CommandMetrics,
  ) {
    this.buffer = durable.buffer;
  }

  async run(): Promise<void> {
    const { buffer } = this;
    // This stage handles a vanished downstream itself: seal what it holds first, then exit.
    this.out.removeAllListeners('error');
    this.out.on('error', () => {
      this.downstreamGone = true;
      this.stop();
    });
    let signals = 0;
    const onTerm = () => {
      // A second signal (Ctrl-C twice) means now: durable chunks stay in DIR for the next start.
      if (++signals > 1) {
        say('second signal: exiting now; durable chunks stay for the next start');
        process.exit(this.buffer.holdsUndurable() ? ExitCode.TEMP_FAIL : ExitCode.OK);
      }
      this.terminate();
    };
    process.on('SIGTERM', onTerm);
    process.on('SIGINT', onTerm);
    // SIGHUP: seal the open chunk now (make it durable and deliverable), and show the counters.
    process.on('SIGHUP', () => {
      buffer.flush().then(
        () => this.printStats('SIGHUP'),
        () => {},
      );
    });

    // A delivery failure (other than a closed downstream) stops the input and is reported at the end.
    const delivery = this.deliver().catch((error: unknown) => {
      if (this.downstreamGone) return;
      this.deliveryError = error as Error;
      this.terminate(); // bounded: the input may be blocked on a full buffer nobody will empty now
    });
    const finalError = await this.durable.fill();
    await this.durable.finish();
    await this.flushCheckpoint();
    await delivery;
    await buffer.close();
    if (this.deliveryError) throw new CliError(`buffer: ${this.deliveryError.message}`, ExitCode.IO_ERROR);
    this.report();
    if (this.downstreamGone) {
      const left = buffer.stats();
      say(`downstream closed; ${left.eventsOnDisk} events in ${left.chunksOnDisk} chunks kept in ${this.options.dir} for the next start`);
    }
    if (finalError) throw finalError;
  }

  /** The consumer: chunks in order to stdout, each deleted once written out completely. */
  private async deliver(): Promise<void> {
    const { buffer } = this;
    const writer = this.options.output === undefined && !process.stdout.isTTY ? undefined : this.eventWriter();
    for await (const chunk of buffer.chunks()) {
      if (writer) {
        // A person or an NDJSON consumer: decode the chunk's entries and re-encode them.
        await writer.write(new MessageStreamDecoder().push(chunk.payload));
        // An empty write's callback runs once everything queued before it has reached the kernel.
        await writeFully(this.out, Buffer.alloc(0));
      } else {
        // MessagePack downstream: the chunk's bytes are the stream, no re-encoding.
        await writeFully(this.out, chunk.payload);
      }
      await buffer.ack(chunk);
      if (this.downstreamGone) return;
    }
  }

  private eventWriter(): EventWriter | undefined {
    const format = resolveOutputFormat(this.options.output, process.stdout.isTTY);
    return format === 'msgpack' ? undefined : new EventWriter(this.out, format, colorWanted(process.stdout.isTTY));
  }

  /** Stop reading input (the rest stays in the pipe, re-read from the checkpoint by tail). */
  private stop(): void {
    this.stopping = true;
    process.stdin.destroy();
    this.durable.stopReading();
  }

  /**
   * SIGTERM: stop reading, make what is held durable, keep delivering for up to --drain-timeout
   * seconds, then exit 0. Chunks the consumer did not take stay in DIR for the next start.
   */
  private terminate(): void {
    if (this.stopping) return;
    this.stop();
    this.buffer.shutdown();
    const timer = setTimeout(() => {
      const stats = this.buffer.stats();
      const exit = () => {
        this.report();
        say(`stopped after --drain-timeout ${this.options.drainTimeout} s; ${stats.eventsOnDisk} events in ${stats.chunksOnDisk} chunks kept in ${this.options.dir} for the next start`);
        if (this.deliveryError) {
          process.stderr.write(`logkit: buffer: ${this.deliveryError.message}\n`);
          process.exit(ExitCode.IO_ERROR);
        }
        if (this.buffer.holdsUndurable()) {
          // The disk stayed full (or the limit reached) to the end: these were never committed.
          say('events held in memory could not be made durable in time (not checkpointed: tail reads them again)');
          process.exit(ExitCode.TEMP_FAIL);
        }
        process.exit(ExitCode.OK);
      };
      this.flushCheckpoint().then(exit, exit);
    }, this.options.drainTimeout * 1000);
    timer.unref();
  }

  private async flushCheckpoint(): Promise<void> {
    await closeCheckpoint('buffer', this.checkpoint);
  }

  report(): void {
    const stats = this.buffer.stats();
    if (stats.droppedEvents > 0) {
      say(`dropped ${stats.droppedEvents} events in ${stats.droppedChunks} chunks (--overflow drop-oldest)`);
    }
    this.printStats('exit');
  }

  private printStats(when: string): void {
    if (this.options.stats) this.metrics.report(when);
  }
}

/** Resolves when the bytes are handed to the kernel (the write callback), not merely queued. */
function writeFully(out: Writable, bytes: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    out.write(bytes, (error) => (error ? reject(error) : resolve()));
  });
}

function checkSizes(options: BufferStageOptions): { chunkBytes: number; totalLimit: number } {
  const chunkBytes = parseByteSize(options.chunkBytes);
  if (chunkBytes === undefined || chunkBytes < 1024 || chunkBytes > MAX_CHUNK_BYTES) {
    throw new CliError(`--chunk-bytes: expected a size from 1k to 256m, like 1m (got ${options.chunkBytes})`, ExitCode.USAGE);
  }
  const totalLimit = parseTotalLimit(options.totalLimit, chunkBytes);
  if (!Number.isInteger(options.chunkEvents) || options.chunkEvents < 1) throw new CliError('--chunk-events: expected a positive integer', ExitCode.USAGE);
  // A day at most: Node timers cannot wait much beyond 24 days, and fire at once if asked to.
  if (!(options.chunkAge > 0 && options.chunkAge <= 86_400)) throw new CliError('--chunk-age: expected seconds, more than 0 and at most 86400', ExitCode.USAGE);
  if (!(options.drainTimeout >= 0 && options.drainTimeout <= 86_400)) throw new CliError('--drain-timeout: expected seconds, from 0 to 86400', ExitCode.USAGE);
  return { chunkBytes, totalLimit };
}
