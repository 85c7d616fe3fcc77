import { DecodeError } from '../codec/decode-error.js';
import type { InputFormat } from '../codec/read-events.js';
import type { CheckpointTracker } from '../checkpoint/checkpoint-tracker.js';
import type { LogEvent } from '../event/event.js';
import { log } from '../log/logger.js';
import { ABORTED, untilAborted } from '../stream/shutdown.js';
import type { StageInput } from '../stream/stage-io.js';
import { BufferError } from './buffer-error.js';
import { DiskBuffer, type DiskBufferOptions } from './disk-buffer.js';

export interface DurableStdinOptions {
  dir: string;
  input: InputFormat;
  /** Chunk bounds, total limit and overflow policy of the DiskBuffer. */
  limits: Omit<DiskBufferOptions, 'log' | 'onDurable' | 'onAcked'>;
  /** Positions are committed when a chunk is durable: from then on the buffer replays it. */
  checkpoint?: CheckpointTracker;
  /** What the command does with chunks left from the last run, for the note at start: "storing first". */
  replayVerb: string;
}

/** Where the input goes: a DiskBuffer, or forward's memory segments. */
export interface EventAppender {
  append(events: readonly LogEvent[]): Promise<void>;
}

const say = (message: string): void => log.info(message);

/**
 * Reads a stage's input into `sink` until its end, `signal` aborts a wait, or `stopped()`.
 * Entries are read as bytes (RawEntryEvent): appended to a chunk, nothing of a record is decoded.
 * Returns the input's decode error (after appending every event before it), if any.
 */
export async function readInputInto(
  sink: EventAppender,
  source: StageInput,
  input: InputFormat,
  signal?: AbortSignal,
  stopped: () => boolean = () => false,
): Promise<DecodeError | undefined> {
  const batches = source.events({ format: input, entries: 'raw' })[Symbol.asyncIterator]();
  const until = <T>(work: Promise<T>): Promise<T | typeof ABORTED> => (signal ? untilAborted(work, signal) : work);
  try {
    for (;;) {
      const next = await until(batches.next());
      if (next === ABORTED || next.done) break;
      // a batch already read is kept even when stopping: what was taken from the input is not dropped
      if ((await until(sink.append(next.value))) === ABORTED || stopped()) break;
    }
  } catch (error) {
    if (!(error instanceof DecodeError)) throw error;
    await sink.append(error.decoded).catch(() => {});
    return error;
  }
  return undefined;
}

/**
 * The durable front end that `buffer`, `store --buffer` and `forward --buffer` share: the stage's
 * input (standard input, or the stage before in `logkit run`) is read into a DiskBuffer (chunks
 * durable on disk, the checkpoint advancing as they become durable), and the command delivers
 * from the buffer. A BufferError (--overflow fail, an unusable directory) is thrown to the
 * command, which decides how it ends (see exit-status-of.ts).
 */
export class DurableStdin {
  private stopping = false;
  private source: StageInput | undefined;

  private constructor(readonly buffer: DiskBuffer) {}

  /** Opens (and locks) the directory; chunks left from the last run are replayed first. */
  static async open(options: DurableStdinOptions): Promise<DurableStdin> {
    const { checkpoint } = options;
    const buffer = await DiskBuffer.open(options.dir, {
      ...options.limits,
      log: say,
      onDurable: checkpoint ? (positions) => checkpoint.commitPositions(positions) : undefined,
    });
    const opened = buffer.stats();
    if (opened.replayedChunks > 0) say(`${options.replayVerb} ${opened.replayedEvents} events in ${opened.replayedChunks} chunks left in ${options.dir}`);
    return new DurableStdin(buffer);
  }

  get stopped(): boolean {
    return this.stopping;
  }

  /**
   * Reads `source` into the buffer until its end or stop(); `signal` may end the wait for input
   * early. Returns the input's decode error (after keeping every event before it), if any.
   * Does not seal: finish() does.
   */
  async fill(source: StageInput, input: InputFormat, signal?: AbortSignal): Promise<DecodeError | undefined> {
    this.source = source;
    if (this.stopping) source.close();
    try {
      return await readInputInto(this.buffer, source, input, signal, () => this.stopping);
    } catch (error) {
      if (error instanceof DecodeError || !this.stopping || error instanceof BufferError) throw error;
      return undefined; // the input closed under us on stop()
    }
  }

  /** Seals what is held and waits until it is durable (on shutdown even past --total-limit: see stop). */
  finish(): Promise<void> {
    return this.buffer.finish();
  }

  /** Shutdown: stop reading input; what is held is made durable even past --total-limit. */
  stop(): void {
    this.stopReading();
    this.buffer.shutdown();
  }

  /** Stop reading input (a vanished downstream, a failed buffer: the buffer keeps its limit). */
  stopReading(): void {
    this.stopping = true;
    this.source?.close();
  }

  /** Releases the directory; chunks not delivered stay for the next start. Notes what was dropped or not made durable. */
  async close(): Promise<{ eventsOnDisk: number; chunksOnDisk: number }> {
    const stats = this.buffer.stats();
    if (this.buffer.holdsUndurable()) say('events held in memory could not be made durable in time (not checkpointed: tail reads them again)');
    if (stats.droppedEvents > 0) say(`dropped ${stats.droppedEvents} events in ${stats.droppedChunks} chunks (--overflow drop-oldest)`);
    await this.buffer.close();
    return { eventsOnDisk: stats.eventsOnDisk, chunksOnDisk: stats.chunksOnDisk };
  }
}
