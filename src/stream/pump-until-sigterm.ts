import type { EventWriter } from '../codec/event-writer.js';
import type { ReadOptions } from '../codec/read-events.js';
import { pumpEvents, type BatchTransform } from './pump.js';

/**
 * pumpEvents for a filter stage that should stop cleanly on SIGTERM: standard input is closed,
 * the batch in hand is finished and written, the output flushed, and the promise resolves (so
 * the stage exits 0 after its summary). Files named as inputs are read to their end.
 */
export async function pumpUntilSigterm(
  sources: readonly string[],
  readOptions: ReadOptions,
  writer: EventWriter,
  transform: BatchTransform,
): Promise<void> {
  let stopping = false;
  const stop = (): void => {
    stopping = true;
    process.stdin.destroy();
  };
  process.once('SIGTERM', stop);
  try {
    await pumpEvents(sources, readOptions, writer, transform);
  } catch (error) {
    if (!stopping || (error as NodeJS.ErrnoException).code !== 'ERR_STREAM_PREMATURE_CLOSE') throw error;
    await writer.flush();
  } finally {
    process.off('SIGTERM', stop);
  }
}
