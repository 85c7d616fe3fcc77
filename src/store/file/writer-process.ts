import { isRunning, stampOf, type ProcessStamp } from '../../base/process-stamp.js';

/**
 * Which process wrote a record a crash may have left behind (an open-file marker, an intent
 * line), so that a later start acts only on records of writers that are gone: another store on
 * the same base directory (other tags, same template) may be running and mid-batch.
 */
export type WriterProcess = ProcessStamp;

export function thisProcess(): WriterProcess {
  return stampOf(process.pid);
}

/** Whether the writer is another process still running (this process's own records count as left behind by an earlier run). */
export function isOtherLiveWriter(writer: WriterProcess): boolean {
  return writer.pid !== process.pid && isRunning(writer);
}
