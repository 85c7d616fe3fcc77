import type { LogEvent } from '../event/event.js';
import { DecodeError } from '../codec/decode-error.js';
import { readEvents, type InputFormat } from '../codec/read-events.js';
import { CliError, ExitCode, type ExitCodeValue } from '../cli/exit-codes.js';
import { openInput } from '../cli/stdio.js';
import { log as logger } from '../log/logger.js';
import { CommandMetrics, type MetricsSettings } from '../metrics/command-metrics.js';
import { storeMetrics } from './store-metrics.js';
import { ProgressLine, grouped, perSecond } from '../cli/progress-line.js';
import { RetriesExhaustedError, StoreBatcher, type BatcherOptions } from './store-batcher.js';
import { PermanentStoreError, errorMessage } from './store-errors.js';
import type { CommitHook, StoreSink } from './store-sink.js';

export interface StoreRunOptions extends Omit<BatcherOptions, 'log'> {
  input: InputFormat;
  /** How long SIGTERM waits for a destination that is down before giving up (exit 75). */
  shutdownTimeoutMs: number;
  /** Byte source; standard input by default. */
  source?: AsyncIterable<Buffer>;
  metrics?: MetricsSettings;
}

const TERMINATED = Symbol('terminated');

/**
 * The store loop: read events from stdin, batch them, write each batch to the sink (retrying
 * transient failures), until end of input or SIGTERM/SIGINT, then flush and commit what was
 * read and return (exit 0). A permanent failure, corrupt input or retries given up end the run
 * with a message saying how many events read were not stored.
 */
export async function runStore(sink: StoreSink, options: StoreRunOptions): Promise<void> {
  const log = (message: string): void => logger.warn(message);
  const batcher = new StoreBatcher(sink, { ...options, log });

  // SIGTERM and a permanent store failure interrupt the wait for input. Not with Promise.race
  // against long-lived promises: every race leaves a reaction on them that holds the batch it
  // resolved with, so memory grew with the input (every batch ever read stayed reachable).
  const interrupt = new Interrupt();
  batcher.failed.catch((error: Error) => interrupt.fire(error));
  const onSignal = (): void => {
    batcher.limitRetries(options.shutdownTimeoutMs);
    interrupt.fire(TERMINATED);
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);

  try {
    // connecting is retried like a write: a store started before its database waits for it
    await batcher.retry(() => sink.open());
  } catch (error) {
    batcher.stopTimer();
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    await sink.close().catch(() => {});
    throw asCliError(sink, error, 0);
  }

  let inputError: CliError | undefined;
  const counted = new ByteCounter(options.source ?? openInput('-'));
  const metrics = await CommandMetrics.start(storeMetrics(batcher, counted), options.metrics ?? {});
  const progress = ProgressLine.start(
    (s) => `logkit store: ${grouped(batcher.committed)} events stored (${perSecond(batcher.committed, s)}/s), ${grouped(batcher.uncommitted)} pending, ${grouped(counted.bytes / 1048576)} MiB read`,
    process.stderr,
    false, // store writes nothing to stdout: a terminal there does not matter
  );
  const batches = readEvents(counted.source, { format: options.input, entries: sink.writesNdjsonLines ? 'ndjson-lines' : 'objects' })[Symbol.asyncIterator]();
  let bytesAdded = 0;
  try {
    for (;;) {
      const next = await interrupt.wait(batches.next());
      if (next === TERMINATED) break;
      if (next instanceof Error) throw next;
      if (next.done) break;
      const bytes = counted.bytes - bytesAdded;
      bytesAdded = counted.bytes;
      await batcher.add(next.value, bytes);
    }
  } catch (error) {
    if (error instanceof DecodeError) {
      await batcher.add(error.decoded).catch(() => {});
      const where = error.line !== undefined ? `line ${error.line}` : `byte ${error.offset}`;
      inputError = new CliError(`stdin: ${where}: ${error.message}`, ExitCode.DATA_ERROR);
    } else if (!batcher.failure) {
      // not the store's failure (e.g. stdin unreadable): still release the connection, then report
      batcher.stopTimer();
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      await batcher.close().catch(() => {});
      await sink.close().catch(() => {});
      progress?.stop();
      await metrics.finish();
      throw error;
    }
  }

  try {
    await batcher.close();
    await sink.close();
  } catch (error) {
    await sink.close().catch(() => {});
    throw asCliError(sink, error, batcher.uncommitted);
  } finally {
    batcher.stopTimer();
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    // input we stopped reading on SIGTERM must not keep the process alive
    if (options.source === undefined) process.stdin.destroy();
    progress?.stop();
    await metrics.finish();
  }
  if (inputError) throw inputError;
}

/** A one-shot stop signal that a single pending wait at a time can be interrupted by. */
class Interrupt {
  private reason: typeof TERMINATED | Error | undefined;
  private wake: ((reason: typeof TERMINATED | Error) => void) | undefined;

  fire(reason: typeof TERMINATED | Error): void {
    this.reason ??= reason;
    this.wake?.(this.reason);
  }

  /** Resolves with what `work` resolves with, or with the reason as soon as one fires. */
  wait<T>(work: Promise<T>): Promise<T | typeof TERMINATED | Error> {
    if (this.reason !== undefined) return Promise.resolve(this.reason);
    return new Promise<T | typeof TERMINATED | Error>((resolve, reject) => {
      const wake = (reason: typeof TERMINATED | Error): void => resolve(reason);
      this.wake = wake;
      const done = (): void => {
        if (this.wake === wake) this.wake = undefined; // release what this wait held
      };
      work.then(
        (value) => (done(), resolve(value)),
        (error: unknown) => (done(), reject(error)),
      );
    });
  }
}

/** Wraps a byte source to count what has been read (the batch byte bound measures input bytes). */
export class ByteCounter {
  bytes = 0;
  readonly source: AsyncIterable<Buffer>;

  constructor(input: AsyncIterable<Buffer>) {
    const counter = this;
    this.source = (async function* () {
      for await (const chunk of input) {
        counter.bytes += chunk.length;
        yield chunk;
      }
    })();
  }
}

function asCliError(sink: StoreSink, error: unknown, uncommitted: number): CliError {
  if (error instanceof CliError) return error;
  const lost = uncommitted > 0 ? `; ${uncommitted} events read were not stored (not acknowledged: resend them)` : '';
  let code: ExitCodeValue = ExitCode.UNAVAILABLE;
  if (error instanceof RetriesExhaustedError) code = ExitCode.TEMP_FAIL;
  else if (error instanceof PermanentStoreError && error.exitCode) code = error.exitCode;
  return new CliError(`${sink.description}: ${errorMessage(error)}${lost}`, code);
}

export type { CommitHook, LogEvent };
