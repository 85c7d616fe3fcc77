import type { LogEvent } from '../event/event.js';
import { DecodeError } from '../codec/decode-error.js';
import type { EventWriter } from '../codec/event-writer.js';
import { readEvents, type ReadOptions } from '../codec/read-events.js';
import { openInput } from '../base/stdio.js';
import { onAbort } from './shutdown.js';
import type { StageIO } from './stage-io.js';

/** A stage's per-batch work: takes a batch, returns the batch to emit (possibly the same array). */
export type BatchTransform = (events: LogEvent[]) => LogEvent[] | Promise<LogEvent[]>;

/**
 * The loop of every filter stage: read each source in turn (`-` is the stage's input), transform
 * each batch, write it. Bad input ends the run with exit status 65 after every event before the
 * fault has been transformed and written. Shutdown (`io.signal`) stops the reading: the batch in
 * hand is finished and written, the output flushed, and the promise resolves (exit 0).
 */
export async function pumpEvents(
  sources: readonly string[],
  readOptions: ReadOptions,
  writer: EventWriter,
  transform: BatchTransform,
  io: StageIO,
): Promise<void> {
  const forget = onAbort(io.signal, () => io.input.close());
  try {
    for (const source of sources.length > 0 ? sources : ['-']) {
      if (io.signal.aborted) break;
      try {
        const batches = source === '-' ? io.input.events(readOptions) : readEvents(openInput(source), readOptions);
        for await (const batch of batches) {
          await writer.write(await transform(batch));
          if (io.signal.aborted) break;
        }
      } catch (error) {
        if (io.signal.aborted && (error as NodeJS.ErrnoException).code === 'ERR_STREAM_PREMATURE_CLOSE') break;
        if (!(error instanceof DecodeError)) throw error;
        await writer.write(await transform(error.decoded));
        await writer.flush();
        if (source !== '-') error.source = source;
        throw error; // exit 65, see exit-status-of.ts
      }
    }
    await writer.flush();
  } finally {
    forget();
  }
}
