import { resolve } from 'node:path';
import { DiskBuffer } from '../../buffer/disk-buffer.js';
import { readCheckpointFile } from '../../checkpoint/checkpoint-file.js';
import { CliError, ExitCode } from '../../base/exit-codes.js';
import { CheckpointedEmitter } from './checkpointed-emitter.js';
import { DurableSink } from './durable-sink.js';
import { SeenChunks } from './seen-chunks.js';

export interface DurableOptions {
  bufferDir: string;
  checkpoint: string;
  totalLimitBytes: number;
  dedupChunks: number;
  log: (message: string) => void;
}

export interface Durable {
  buffer: DiskBuffer;
  sink: DurableSink;
  emitter: CheckpointedEmitter;
  seen: SeenChunks;
  sourceId: string;
}

/**
 * Opens receive's buffer: scans the chunks left on disk (their ids refill the duplicate memory,
 * their offsets and the store's checkpoint give the next offset), and builds the durable sink
 * (the ack point) and the emitter (buffer → stdout, deleting what the store's checkpoint covers).
 */
export async function openDurable(options: DurableOptions, out: NodeJS.WritableStream): Promise<Durable> {
  // The buffer directory names this source in the store's checkpoint.
  const sourceId = `receive:${resolve(options.bufferDir)}`;
  let committed: number;
  try {
    committed = (await readCheckpointFile(options.checkpoint)).get(sourceId)?.off ?? 0;
  } catch (error) {
    throw error instanceof CliError ? new CliError(`--checkpoint ${error.message}`, error.exitCode) : error;
  }
  let seen: SeenChunks;
  try {
    seen = await SeenChunks.load(options.bufferDir, options.dedupChunks);
  } catch (error) {
    // the buffer directory cannot be opened: the same status as DiskBuffer.open's (exit-status-of.ts)
    throw new CliError(`--buffer ${options.bufferDir}: ${(error as Error).message}`, ExitCode.CANT_CREATE);
  }
  let maxOff = 0;
  let scanning = true;
  const buffer = await DiskBuffer.open(options.bufferDir, {
    totalLimitBytes: options.totalLimitBytes,
    overflow: 'block',
    log: options.log,
    onDurable: (positions, meta) => {
      if (!scanning) return;
      maxOff = Math.max(maxOff, positions[sourceId] ?? 0);
      if (meta.ids) seen.addAll(meta.ids);
    },
  });
  scanning = false;
  const lastOff = Math.max(committed, maxOff, seen.floor);
  const sink = new DurableSink(buffer, seen, sourceId, lastOff);
  const emitter = new CheckpointedEmitter(buffer, seen, out as never, sourceId, options.checkpoint, committed, options.log);
  return { buffer, sink, emitter, seen, sourceId };
}
