import type { InputFormat } from '../codec/read-events.js';
import type { OverflowPolicy } from '../buffer/defaults.js';
import { closeCheckpoint, openCheckpoint } from '../checkpoint/open-checkpoint.js';
import { BufferedInput } from './buffered-input.js';
import { createSink, type SinkArgs } from './create-sink.js';
import { runStore } from './run-store.js';
import { inThisStage, log } from '../log/logger.js';
import type { CommitHook } from './store-sink.js';
import { onAbort } from '../stream/shutdown.js';
import type { StageIO } from '../stream/stage-io.js';

export interface StoreCommandArgs extends SinkArgs {
  input: InputFormat;
  batchEvents: number;
  batchBytes: number;
  flushIntervalMs: number;
  retryMaxIntervalMs: number;
  /** 0: retry forever. */
  retryTimeoutMs: number;
  drainTimeoutMs: number;
  /** --checkpoint FILE: commit source positions (after each COMMIT/fsync; with --buffer, once durable in the buffer). */
  checkpoint?: string;
  /** --buffer DIR: input durable in a disk buffer first, delivered from it, deleted after the destination's commit. */
  buffer?: string;
  totalLimitBytes: number;
  overflow: OverflowPolicy;
  metrics?: string;
  stats?: boolean;
  statsIntervalMs?: number;
}

/**
 * `logkit store`: wires the command line to a sink and the store loop. `onCommit` receives
 * each committed batch; --checkpoint and --buffer plug in there.
 */
export async function runStoreCommand(args: StoreCommandArgs, io: StageIO, onCommit: CommitHook = () => {}): Promise<void> {
  const say = (message: string): void => log.info(message);
  const checkpoint = args.checkpoint ? await openCheckpoint('store', args.checkpoint) : undefined;
  const { flushIntervalMs } = args;
  const buffered = args.buffer
    ? await BufferedInput.open({ dir: args.buffer, totalLimitBytes: args.totalLimitBytes, overflow: args.overflow, flushIntervalMs, input: args.input, source: io.input, batchEvents: args.batchEvents, checkpoint })
    : undefined;
  const hook: CommitHook = (events) => {
    if (buffered) buffered.committed(events);
    else checkpoint?.commit(events);
    return onCommit(events);
  };
  const sink = await createSink(args, hook, say);

  const onHangup = inThisStage((): void => {
    sink.reopen?.().then(
      () => log.info('SIGHUP: files closed; the next batch opens them again'),
      (error: unknown) => log.error(`cannot reopen files: ${(error as Error).message}`),
    );
  });
  process.on('SIGHUP', onHangup);
  let filling: Promise<void> | undefined;
  let forgetShutdown = (): void => {};
  if (buffered) {
    forgetShutdown = onAbort(io.signal, () => buffered.stop());
    filling = buffered.fill();
  }
  try {
    await runStore(sink, {
      // The buffer holds MessagePack entries, whatever the format of standard input was.
      input: buffered ? 'msgpack' : args.input,
      source: buffered?.source() ?? (io.inProcess ? undefined : io.input.bytes()),
      // in one process the stage before hands its events over as they are: nothing to decode
      events: !buffered && io.inProcess ? io.input.events({ format: args.input, entries: sink.writesNdjsonLines ? 'ndjson-lines' : 'objects' }) : undefined,
      closeInput: buffered ? undefined : () => io.input.close(),
      signal: io.signal,
      batchSize: args.batchEvents,
      batchBytes: args.batchBytes,
      flushIntervalMs,
      retryMaxDelayMs: args.retryMaxIntervalMs,
      retryTimeoutMs: args.retryTimeoutMs,
      shutdownTimeoutMs: args.drainTimeoutMs,
      metrics: { metrics: args.metrics, stats: args.stats, statsIntervalMs: args.statsIntervalMs },
    });
  } finally {
    process.off('SIGHUP', onHangup);
    forgetShutdown();
  }
  if (buffered) {
    buffered.stop(); // runStore returned on SIGTERM (or its source ended): no more input either way
    await filling;
    const left = await buffered.close();
    if (left.eventsOnDisk > 0) say(`${left.eventsOnDisk} events in ${left.chunksOnDisk} chunks kept in ${args.buffer}, stored first at the next start`);
  }
  await closeCheckpoint('store', checkpoint);
  if (buffered?.failure) throw buffered.failure;
  if (buffered?.inputError) throw buffered.inputError;
}
