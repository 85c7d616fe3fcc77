import { resolve } from 'node:path';
import { BufferError } from '../../buffer/buffer-error.js';
import { DiskBuffer } from '../../buffer/disk-buffer.js';
import { readCheckpointFile } from '../../checkpoint/checkpoint-file.js';
import { CliError, ExitCode } from '../../cli/exit-codes.js';
import { CheckpointedEmitter } from './checkpointed-emitter.js';
import { DurableSink } from './durable-sink.js';
import { SeenChunks } from './seen-chunks.js';

export interface DurableOptions {
  bufferDir: string;
  checkpoint: string;
  bufferMaxBytes: number;
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
    throw new CliError(`--buffer ${options.bufferDir}: ${(error as Error).message}`, ExitCode.IO_ERROR);
  }
  let maxOff = 0;
  let scanning = true;
  let buffer: DiskBuffer;
  try {
    buffer = await DiskBuffer.open(options.bufferDir, {
      totalLimitBytes: options.bufferMaxBytes,
      overflow: 'block',
      log: options.log,
      onDurable: (positions, meta) => {
        if (!scanning) return;
        maxOff = Math.max(maxOff, positions[sourceId] ?? 0);
        if (meta.ids) seen.addAll(meta.ids);
      },
    });
  } catch (error) {
    if (error instanceof BufferError) throw new CliError(`--buffer: ${error.message}`, error.reason === 'io' ? ExitCode.IO_ERROR : ExitCode.TEMP_FAIL);
    throw error;
  }
  scanning = false;
  const lastOff = Math.max(committed, maxOff, seen.floor);
  const sink = new DurableSink(buffer, seen, sourceId, lastOff);
  const emitter = new CheckpointedEmitter(buffer, seen, out as never, sourceId, options.checkpoint, committed, options.log);
  return { buffer, sink, emitter, seen, sourceId };
}
