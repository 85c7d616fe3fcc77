import type { LogEvent } from '../event/event.js';
import { DecodeError } from '../codec/decode-error.js';
import type { EventWriter } from '../codec/event-writer.js';
import { readEvents, type ReadOptions } from '../codec/read-events.js';
import { openInput } from '../cli/stdio.js';

/** A stage's per-batch work: takes a batch, returns the batch to emit (possibly the same array). */
export type BatchTransform = (events: LogEvent[]) => LogEvent[] | Promise<LogEvent[]>;

/**
 * The loop of every filter stage: read each source in turn (`-` is stdin), transform each batch,
 * write it. Bad input ends the run with exit status 65 after every event before the fault has
 * been transformed and written.
 */
export async function pumpEvents(
  sources: readonly string[],
  readOptions: ReadOptions,
  writer: EventWriter,
  transform: BatchTransform = (events) => events,
): Promise<void> {
  for (const source of sources.length > 0 ? sources : ['-']) {
    try {
      for await (const batch of readEvents(openInput(source), readOptions)) {
        await writer.write(await transform(batch));
      }
    } catch (error) {
      if (!(error instanceof DecodeError)) throw error;
      await writer.write(await transform(error.decoded));
      await writer.flush();
      if (source !== '-') error.source = source;
      throw error; // exit 65, see exit-status-of.ts
    }
  }
  await writer.flush();
}
