import type { InputFormat } from '../codec/read-events.js';
import { createSink, type SinkArgs } from './create-sink.js';
import { runStore } from './run-store.js';
import type { CommitHook } from './store-sink.js';

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
  metrics?: string;
  stats?: boolean;
  statsInterval?: number;
}

/**
 * `logkit store`: wires the command line to a sink and the store loop. `onCommit` is where a
 * disk buffer or checkpoint file plugs in (it receives each committed batch).
 */
export async function runStoreCommand(args: StoreCommandArgs, onCommit: CommitHook = () => {}): Promise<void> {
  const log = (message: string): void => {
    process.stderr.write(`logkit store: ${message}\n`);
  };
  const sink = await createSink(args as SinkArgs, onCommit, log);
  await runStore(sink, {
    input: args.input,
    batchSize: Math.max(1, Math.floor(args.batchSize)),
    batchBytes: Math.max(1024, args.batchBytes),
    flushIntervalMs: Math.max(1, args.flushInterval),
    retryMaxDelayMs: Math.max(1, args.retryMaxDelay),
    retryTimeoutMs: Math.max(0, args.retryTimeout * 1000),
    shutdownTimeoutMs: Math.max(0, args.shutdownTimeout * 1000),
    metrics: { metrics: args.metrics, stats: args.stats, statsInterval: args.statsInterval },
  });
}
