import type { InputFormat } from '../codec/read-events.js';
import { createSink, type SinkArgs } from './create-sink.js';
import { runStore } from './run-store.js';
import type { CommitHook } from './store-sink.js';
import { CheckpointTracker } from '../checkpoint/checkpoint-tracker.js';

export interface StoreCommandArgs extends Omit<SinkArgs, 'target' | 'format' | 'compress' | 'fsync'> {
  target: string;
  format?: string;
  compress?: string;
  fsync: string;
  input: InputFormat;
  batchSize: number;
  batchBytes: number;
  flushInterval: number;
  retryMaxDelay: number;
  retryTimeout: number;
  shutdownTimeout: number;
  /** The checkpoint file to advance on each commit. */
  checkpoint?: string;
}

/**
 * `logkit store`: wires the command line to a sink and the store loop. `onCommit` is where a
 * disk buffer or checkpoint file plugs in (it receives each committed batch).
 */
export async function runStoreCommand(args: StoreCommandArgs, onCommit: CommitHook = () => {}): Promise<void> {
  const log = (message: string): void => {
    process.stderr.write(`logkit store: ${message}\n`);
  };
  let tracker: CheckpointTracker | undefined;
  if (args.checkpoint !== undefined) {
    const t = (tracker = await CheckpointTracker.open(args.checkpoint, { intervalMs: 0 }));
    const inner = onCommit;
    onCommit = async (events) => {
      await inner(events);
      t.commit(events);
    };
  }
  const sink = await createSink(args as SinkArgs, onCommit, log);
  try {
    await runStoreWith(sink, args);
  } finally {
    await tracker?.close();
  }
}

function runStoreWith(sink: Awaited<ReturnType<typeof createSink>>, args: StoreCommandArgs): Promise<void> {
  return runStore(sink, {
    input: args.input,
    batchSize: Math.max(1, Math.floor(args.batchSize)),
    batchBytes: Math.max(1024, args.batchBytes),
    flushIntervalMs: Math.max(1, args.flushInterval),
    retryMaxDelayMs: Math.max(1, args.retryMaxDelay),
    retryTimeoutMs: Math.max(0, args.retryTimeout * 1000),
    shutdownTimeoutMs: Math.max(0, args.shutdownTimeout * 1000),
  });
}
