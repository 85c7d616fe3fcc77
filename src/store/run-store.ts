import type { LogEvent } from '../event/event.js';
import { DecodeError } from '../codec/decode-error.js';
import { readEvents, type InputFormat } from '../codec/read-events.js';
import { CliError, ExitCode, type ExitCodeValue } from '../base/exit-codes.js';
import { log as logger } from '../log/logger.js';
import { CommandMetrics, type MetricsSettings } from '../metrics/command-metrics.js';
import { storeMetrics } from './store-metrics.js';
import { ByteCounter } from '../stream/byte-counter.js';
import { ProgressLine, grouped, perSecond } from '../base/progress-line.js';
import { RetriesExhaustedError, StoreBatcher, type BatcherOptions } from './store-batcher.js';
import { PermanentStoreError, errorMessage } from './store-errors.js';
import type { CommitHook, StoreSink } from './store-sink.js';
import { ABORTED, onAbort, untilAborted } from '../stream/shutdown.js';

export interface StoreRunOptions extends Omit<BatcherOptions, 'log'> {
  input: InputFormat;
  /** How long SIGTERM waits for a destination that is down before giving up (exit 75). */
  shutdownTimeoutMs: number;
  /** Byte source to decode (standard input, the --buffer chunks, a test's bytes). */
  source?: AsyncIterable<Buffer>;
  /** …or events handed over as they are (the stage before, in `logkit run`). */
  events?: AsyncIterable<LogEvent[]>;
  /** Stops the input at the end (input we stopped reading on shutdown must not keep the process alive). */
  closeInput?: () => void;
  /** Shutdown (SIGTERM/SIGINT): stop reading, store what was read, return. */
  signal?: AbortSignal;
  metrics?: MetricsSettings;
}

/**
 * The store loop: read events from stdin, batch them, write each batch to the sink (retrying
 * transient failures), until end of input or SIGTERM/SIGINT, then flush and commit what was
 * read and return (exit 0). A permanent failure, corrupt input or retries given up end the run
 * with a message saying how many events read were not stored.
 */
export async function runStore(sink: StoreSink, options: StoreRunOptions): Promise<void> {
  const log = (message: string): void => logger.warn(message);
  const batcher = new StoreBatcher(sink, { ...options, log });

  // Shutdown and a permanent store failure interrupt the wait for input (the first one says why).
  const interrupt = new AbortController();
  batcher.failed.catch((error: Error) => interrupt.abort(error));
  const forgetShutdown = options.signal
    ? onAbort(options.signal, () => {
        batcher.limitRetries(options.shutdownTimeoutMs);
        interrupt.abort('shutdown');
      })
    : () => {};

  try {
    // connecting is retried like a write: a store started before its database waits for it
    await batcher.retry(() => sink.open());
  } catch (error) {
    batcher.stopTimer();
    forgetShutdown();
    await sink.close().catch(() => {});
    throw asCliError(sink, error, 0);
  }

  let inputError: DecodeError | undefined;
  const counted = new ByteCounter(options.source ?? (async function* () {})());
  const metrics = await CommandMetrics.start(storeMetrics(batcher, counted, sink), options.metrics ?? {});
  const progress = ProgressLine.start(
    (s) => `logkit store: ${grouped(batcher.committed)} events stored (${perSecond(batcher.committed, s)}/s), ${grouped(batcher.uncommitted)} pending, ${grouped(counted.bytes / 1048576)} MiB read`,
    process.stderr,
    false, // store writes nothing to stdout: a terminal there does not matter
  );
  const batches = (options.events ?? readEvents(counted.source, { format: options.input, entries: sink.writesNdjsonLines ? 'ndjson-lines' : 'objects' }))[Symbol.asyncIterator]();
  let bytesAdded = 0;
  try {
    for (;;) {
      const next = await untilAborted(batches.next(), interrupt.signal);
      if (next === ABORTED) {
        if (interrupt.signal.reason !== 'shutdown') throw interrupt.signal.reason;
        break;
      }
      if (next.done) break;
      const bytes = counted.bytes - bytesAdded;
      bytesAdded = counted.bytes;
      await batcher.add(next.value, bytes);
    }
  } catch (error) {
    if (error instanceof DecodeError) {
      await batcher.add(error.decoded).catch(() => {});
      inputError = error;
    } else if (!batcher.failure) {
      // not the store's failure (e.g. stdin unreadable): still release the connection, then report
      batcher.stopTimer();
      forgetShutdown();
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
    forgetShutdown();
    options.closeInput?.();
    progress?.stop();
    await metrics.finish();
  }
  if (inputError) throw inputError;
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
