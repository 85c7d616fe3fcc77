import type { Writable } from 'node:stream';
import type { DecodeError } from '../codec/decode-error.js';
import { EventWriter, colorWanted, type OutputFormat } from '../codec/event-writer.js';
import { MessageStreamDecoder } from '../codec/msgpack-reader.js';
import type { InputFormat } from '../codec/read-events.js';
import { CliError, ExitAtOnce, ExitCode } from '../base/exit-codes.js';
import { BufferError } from './buffer-error.js';
import { checkTotalLimit } from './buffer-options.js';
import { formatDuration } from '../base/units.js';
import type { CheckpointTracker } from '../checkpoint/checkpoint-tracker.js';
import { closeCheckpoint, openCheckpoint } from '../checkpoint/open-checkpoint.js';
import { CommandMetrics } from '../metrics/command-metrics.js';
import { inThisStage, log } from '../log/logger.js';
import { bufferMetrics } from './buffer-metrics.js';
import type { DiskBuffer, OverflowPolicy } from './disk-buffer.js';
import { DurableStdin } from './durable-stdin.js';
import { onAbort } from '../stream/shutdown.js';
import type { StageIO } from '../stream/stage-io.js';

export interface BufferStageOptions {
  dir: string;
  input: InputFormat;
  output?: OutputFormat;
  chunkBytes: number;
  chunkEvents: number;
  /** A chunk is sealed this long after its first event at the latest. */
  flushIntervalMs: number;
  totalLimitBytes: number;
  overflow: OverflowPolicy;
  checkpoint?: string;
  /** How long a SIGTERM waits for the consumer to take what is on disk. */
  drainTimeoutMs: number;
  stats: boolean;
  metrics?: string;
  statsIntervalMs?: number;
}

const say = (message: string) => log.info(message);

/**
 * `logkit buffer DIR`: stdin → durable chunks in DIR → stdout, in order. A chunk is deleted once
 * it has been written to stdout completely (handed to the kernel). With --checkpoint, this stage
 * is the committing one: the positions of a chunk are checkpointed as soon as the chunk is
 * durable, since from then on the buffer itself replays it.
 */
export async function runBuffer(options: BufferStageOptions, io: StageIO): Promise<void> {
  const totalLimitBytes = checkTotalLimit(options.totalLimitBytes, options.chunkBytes);
  const checkpoint = options.checkpoint ? await openCheckpoint('buffer', options.checkpoint) : undefined;
  const durable = await DurableStdin.open({
    dir: options.dir,
    input: options.input,
    checkpoint,
    replayVerb: 'replaying',
    limits: { chunkBytes: options.chunkBytes, chunkEvents: options.chunkEvents, chunkAgeMs: options.flushIntervalMs, totalLimitBytes, overflow: options.overflow },
  });

  // the exit line is printed by report() below, on every way this stage ends
  const metrics = await CommandMetrics.start(bufferMetrics(durable.buffer), { metrics: options.metrics, statsIntervalMs: options.statsIntervalMs });
  const stage = new BufferStage(durable, checkpoint, options, metrics, io);
  await stage.run();
}

class BufferStage {
  private stopping = false;
  private downstreamGone = false;
  private deliveryError: Error | undefined;
  private drainTimer: NodeJS.Timeout | undefined;
  /** Settles with the end of a drain that ran out of time (see terminate()). */
  private readonly drainDeadline: Promise<ExitAtOnce>;
  private reachDrainDeadline: (end: ExitAtOnce) => void = () => {};
  private readonly out: Writable;
  private readonly buffer: DiskBuffer;

  constructor(
    private readonly durable: DurableStdin,
    private readonly checkpoint: CheckpointTracker | undefined,
    private readonly options: BufferStageOptions,
    private readonly metrics: CommandMetrics,
    private readonly io: StageIO,
  ) {
    this.out = io.output.stream;
    this.buffer = durable.buffer;
    this.drainDeadline = new Promise((resolve) => (this.reachDrainDeadline = resolve));
  }

  /**
   * Until the input has ended and everything is delivered, or until the drain deadline after a
   * shutdown: then what is still pending (a write to a stalled consumer) is abandoned, and the
   * process is told to exit at once (ExitAtOnce). The counters end on every path.
   */
  async run(): Promise<void> {
    // Shutdown; a second signal ends the process at once (durable chunks stay in DIR for the next start).
    const forgetShutdown = onAbort(this.io.signal, () => this.terminate());
    // SIGHUP: seal the open chunk now (make it durable and deliverable), and show the counters.
    const onHangup = inThisStage((): void => {
      this.buffer.flush().then(
        () => this.printStats('SIGHUP'),
        () => {},
      );
    });
    process.on('SIGHUP', onHangup);
    try {
      const toEnd = this.runToEnd();
      const ended = await Promise.race([toEnd.then(() => undefined), this.drainDeadline]);
      if (ended) {
        toEnd.catch(() => {}); // abandoned: its failure (EPIPE, a closed buffer) is no news now
        throw ended;
      }
    } finally {
      clearTimeout(this.drainTimer);
      forgetShutdown();
      process.off('SIGHUP', onHangup);
      await this.metrics.finish();
    }
  }

  private async runToEnd(): Promise<void> {
    const { buffer } = this;
    // This stage handles a vanished downstream itself: seal what it holds first, then exit.
    this.out.removeAllListeners('error');
    this.out.on('error', () => {
      this.downstreamGone = true;
      this.stop();
    });
    // A delivery failure (other than a closed downstream) stops the input and is reported at the end.
    const delivery = this.deliver().catch((error: unknown) => {
      if (this.downstreamGone) return;
      this.deliveryError = error as Error;
      this.terminate(); // bounded: the input may be blocked on a full buffer nobody will empty now
    });
    let finalError: DecodeError | undefined;
    try {
      finalError = await this.durable.fill(this.io.input, this.options.input);
    } catch (error) {
      if (error instanceof BufferError) throw await this.failed(error);
      throw error;
    }
    try {
      await buffer.finish();
    } catch (error) {
      if (error instanceof BufferError) throw await this.failed(error);
      throw error;
    }
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
    const writer = this.eventWriter();
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
    const format = this.io.output.format(this.options.output);
    return format === 'msgpack' ? undefined : new EventWriter(this.out, format, colorWanted(this.io.output.isTTY));
  }

  /** Stop reading input (the rest stays in the pipe, re-read from the checkpoint by tail). */
  private stop(): void {
    this.stopping = true;
    this.durable.stopReading();
  }

  /**
   * SIGTERM: stop reading, make what is held durable, keep delivering for up to --drain-timeout,
   * then end with status 0 (see drainEnded). Chunks the consumer did not take stay in DIR for the next start.
   */
  private terminate(): void {
    if (this.stopping) return;
    this.stop();
    this.buffer.shutdown();
    this.drainTimer = setTimeout(() => {
      const stats = this.buffer.stats();
      const end = (): void => this.reachDrainDeadline(this.drainEnded(stats));
      this.flushCheckpoint().then(end, end);
    }, this.options.drainTimeoutMs); // not unref'd: the stage ends by it (cleared when it ends otherwise)
  }

  /** The end at the drain deadline: 0, or why not everything handed to this stage is safe. */
  private drainEnded(stats: { eventsOnDisk: number; chunksOnDisk: number }): ExitAtOnce {
    this.report();
    say(`stopped after --drain-timeout ${formatDuration(this.options.drainTimeoutMs)}; ${stats.eventsOnDisk} events in ${stats.chunksOnDisk} chunks kept in ${this.options.dir} for the next start`);
    if (this.deliveryError) return new ExitAtOnce(`buffer: ${this.deliveryError.message}`, ExitCode.IO_ERROR);
    if (this.buffer.holdsUndurable()) {
      // The disk stayed full (or the limit reached) to the end: these were never committed.
      return new ExitAtOnce('buffer: events held in memory could not be made durable in time (not checkpointed: tail reads them again)', ExitCode.TEMP_FAIL);
    }
    return new ExitAtOnce('', ExitCode.OK);
  }

  /**
   * The buffer failed (--overflow fail, a full disk): what was committed is checkpointed, and the
   * stage ends at once with 75; the consumer may be stalled, so its delivery is not waited for.
   */
  private async failed(error: BufferError): Promise<ExitAtOnce> {
    const stats = this.buffer.stats();
    this.report();
    await this.flushCheckpoint().catch((closeError: Error) => log.error(closeError.message));
    return new ExitAtOnce(`buffer: ${error.message}; ${stats.eventsOnDisk} events in ${stats.chunksOnDisk} chunks kept in ${this.options.dir} for the next start`, ExitCode.TEMP_FAIL);
  }

  private async flushCheckpoint(): Promise<void> {
    await closeCheckpoint('buffer', this.checkpoint);
  }

  private report(): void {
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
