import { DecodeError } from '../codec/decode-error.js';
import { readEvents, type InputFormat } from '../codec/read-events.js';
import { CliError, ExitCode } from '../cli/exit-codes.js';
import type { CheckpointTracker } from '../checkpoint/checkpoint-tracker.js';
import { log } from '../log/logger.js';
import { BufferError } from './buffer-error.js';
import { DiskBuffer, type DiskBufferOptions } from './disk-buffer.js';
import type { LogEvent } from '../event/event.js';

export interface DurableStdinOptions {
  /** The command, for messages (`store: --buffer: …`). */
  command: string;
  /** How the command's messages name its buffer directory (`--buffer`); none when it is the command's argument. */
  dirName?: string;
  dir: string;
  input: InputFormat;
  /** Chunk bounds, total limit and overflow policy of the DiskBuffer. */
  limits: Omit<DiskBufferOptions, 'log' | 'onDurable' | 'onAcked'>;
  /** Positions are committed when a chunk is durable: from then on the buffer replays it. */
  checkpoint?: CheckpointTracker;
  /** What the command does with chunks left from the last run, for the note at start: "storing first". */
  replayVerb: string;
  /** Called before the command exits on a buffer failure (e.g. to print its --stats). */
  beforeFailExit?: () => void;
}

/** Where the input goes: a DiskBuffer, or forward's memory segments. */
export interface EventAppender {
  append(events: readonly LogEvent[]): Promise<void>;
}

/** Ends a wait early, resolving 'terminated' (a command's own termination). */
export type Until = <T>(work: Promise<T>) => Promise<T | 'terminated'>;

/**
 * Reads standard input into `sink` until its end, `until` ends a wait, or `stopped()`. Entries
 * are read as bytes (RawEntryEvent): appended to a chunk, nothing of a record is decoded. Returns
 * the input's decode error (after appending every event before it), if any.
 */
export async function readStdinInto(sink: EventAppender, input: InputFormat, until: Until, stopped: () => boolean = () => false): Promise<CliError | undefined> {
  const batches = readEvents(process.stdin, { format: input, entries: 'raw' })[Symbol.asyncIterator]();
  try {
    for (;;) {
      const next = await until(batches.next());
      if (next === 'terminated' || next.done || stopped()) break;
      if ((await until(sink.append(next.value))) === 'terminated' || stopped()) break;
    }
  } catch (error) {
    if (!(error instanceof DecodeError)) throw error;
    await sink.append(error.decoded).catch(() => {});
    const where = error.line !== undefined ? `line ${error.line}` : `byte ${error.offset}`;
    return new CliError(`stdin: ${where}: ${error.message}`, ExitCode.DATA_ERROR);
  }
  return undefined;
}

/**
 * The durable front end that `buffer`, `store --buffer` and `forward --buffer` share: standard
 * input is read into a DiskBuffer (chunks durable on disk, the checkpoint advancing as they
 * become durable), and the command delivers from the buffer.
 */
export class DurableStdin {
  private stopping = false;

  private constructor(
    readonly buffer: DiskBuffer,
    private readonly options: DurableStdinOptions,
  ) {}

  /** Opens (and locks) the directory; chunks left from the last run are replayed first. */
  static async open(options: DurableStdinOptions): Promise<DurableStdin> {
    const { checkpoint } = options;
    let buffer: DiskBuffer;
    try {
      buffer = await DiskBuffer.open(options.dir, {
        ...options.limits,
        log: (message) => log.info(message),
        onDurable: checkpoint ? (positions) => checkpoint.commitPositions(positions) : undefined,
      });
    } catch (error) {
      if (error instanceof BufferError) {
        throw new CliError(`${prefix(options)}${error.message}`, error.reason === 'locked' ? ExitCode.TEMP_FAIL : ExitCode.CANT_CREATE);
      }
      throw error;
    }
    const opened = buffer.stats();
    if (opened.replayedChunks > 0) log.info(`${options.replayVerb} ${opened.replayedEvents} events in ${opened.replayedChunks} chunks left in ${options.dir}`);
    return new DurableStdin(buffer, options);
  }

  /**
   * Reads standard input into the buffer until its end or stop(); `until` may end the wait for
   * input early (a command's own termination). Returns the input's decode error (after keeping
   * every event before it), if any. Does not seal: finish() does.
   */
  async fill(until: Until = (work) => work): Promise<CliError | undefined> {
    try {
      return await readStdinInto(this.buffer, this.options.input, until, () => this.stopping);
    } catch (error) {
      if (error instanceof BufferError) this.failNow(error);
      if (!this.stopping) throw error;
      return undefined;
    }
  }

  /** Seals what is held and waits until it is durable (on SIGTERM even past --total-limit: see stop). */
  async finish(): Promise<void> {
    try {
      await this.buffer.finish();
    } catch (error) {
      if (error instanceof BufferError) this.failNow(error);
      throw error;
    }
  }

  /** SIGTERM: stop reading input; what is held is made durable even past --total-limit. */
  stop(): void {
    this.stopReading();
    this.buffer.shutdown();
  }

  /** Stop reading input (a vanished downstream: the buffer keeps its limit). */
  stopReading(): void {
    this.stopping = true;
    process.stdin.destroy();
  }

  /** Releases the directory; chunks not delivered stay for the next start. Notes what was dropped or not made durable. */
  async close(): Promise<{ eventsOnDisk: number; chunksOnDisk: number }> {
    const stats = this.buffer.stats();
    if (this.buffer.holdsUndurable()) log.warn('events held in memory could not be made durable in time (not checkpointed: tail reads them again)');
    if (stats.droppedEvents > 0) log.warn(`dropped ${stats.droppedEvents} events in ${stats.droppedChunks} chunks (--overflow drop-oldest)`);
    await this.buffer.close();
    return { eventsOnDisk: stats.eventsOnDisk, chunksOnDisk: stats.chunksOnDisk };
  }

  /**
   * The buffer refused input (--overflow fail, an unusable directory): what is durable stays for
   * the next start, and the command exits at once, 74 for an I/O error and 75 otherwise. At once,
   * because its consumer may be blocked on this very buffer: nothing else would end the process.
   */
  private failNow(error: BufferError): never {
    const stats = this.buffer.stats();
    this.options.beforeFailExit?.();
    log.fatal(`${prefix(this.options)}${error.message}; ${stats.eventsOnDisk} events in ${stats.chunksOnDisk} chunks kept in ${this.options.dir} for the next start`);
    process.exit(error.reason === 'io' ? ExitCode.IO_ERROR : ExitCode.TEMP_FAIL);
  }
}

function prefix(options: DurableStdinOptions): string {
  return options.dirName ? `${options.command}: ${options.dirName}: ` : `${options.command}: `;
}
