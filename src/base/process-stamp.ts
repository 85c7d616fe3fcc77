import { readFileSync } from 'node:fs';

/**
 * A process told apart from a later one given the same pid: its pid and its start time (clock
 * ticks since boot, field 22 of /proc/PID/stat; undefined where there is no /proc). Lock files
 * and crash records carry it, so that a later start acts only on those of processes that are gone.
 */
export interface ProcessStamp {
  pid: number;
  start?: string;
}

export function stampOf(pid: number): ProcessStamp {
  return { pid, start: procStat(pid)?.start };
}

/**
 * Whether the stamped process still runs. Not when its pid is free; nor when the pid's process
 * is a zombie (exited, not reaped yet: in a container PID 1 may reap late or never, and a restart
 * must not wait for that); nor when it started at another time (pids are reused, after a
 * container restart too). Without a recorded start time, or without /proc, the pid alone decides.
 */
export function isRunning(stamp: ProcessStamp): boolean {
  try {
    process.kill(stamp.pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const now = procStat(stamp.pid);
  if (now?.state === 'Z' || now?.state === 'X') return false;
  return stamp.start === undefined || now === undefined || now.start === stamp.start;
}

/** Fields 3 (the state: R, S, Z…) and 22 (the start time) of /proc/PID/stat. */
function procStat(pid: number): { state: string; start: string | undefined } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the command name (field 2) may contain spaces and parentheses: count from the last ')'
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0]!, start: fields[19] };
  } catch {
    return undefined;
  }
}
