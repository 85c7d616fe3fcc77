import { readFileSync } from 'node:fs';

/**
 * Which process wrote a record a crash may have left behind (an open-file marker, an intent
 * line), so that a later start acts only on records of writers that are gone: another store on
 * the same base directory (other tags, same template) may be running and mid-batch.
 */
export interface WriterProcess {
  pid: number;
  /** The process's start time (clock ticks since boot, /proc/PID/stat), so a reused pid is not mistaken for the owner. */
  start?: string;
}

export function thisProcess(): WriterProcess {
  return { pid: process.pid, start: startTime(process.pid) };
}

/** Whether the writer is another process still running (this process's own records count as left behind by an earlier run). */
export function isOtherLiveWriter(writer: WriterProcess): boolean {
  return writer.pid !== process.pid && isRunning(writer.pid, writer.start);
}

function isRunning(pid: number, start: string | undefined): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  // alive: but is it the same process, or a new one that was given the pid?
  const now = startTime(pid);
  return start === undefined || now === undefined || now === start;
}

/** Field 22 of /proc/PID/stat (after the parenthesised command name), where /proc exists. */
export function startTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}
