import { open, readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BufferError } from './buffer-error.js';

/**
 * One process per buffer directory: two writers would hand out the same sequence numbers and
 * delete each other's chunks. The lock is a file holding the owner's pid and its start time
 * (from /proc). A lock left by a killed process (kill -9) is taken over when that pid no longer
 * runs — or runs but started at another time: after a container restart pids repeat, and a
 * bare pid check would then refuse forever because some other process got the old number.
 */
export async function lockDirectory(dir: string): Promise<() => Promise<void>> {
  const path = join(dir, 'lock');
  const content = `${process.pid} ${(await startTimeOf(process.pid)) ?? ''}\n`;
  const release = () => unlink(path).catch(() => {});
  try {
    const handle = await open(path, 'wx');
    await handle.writeFile(content);
    await handle.close();
    return release;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const [pidText, startTime] = (await readFile(path, 'utf8').catch(() => '')).trim().split(' ');
  const pid = Number.parseInt(pidText ?? '', 10);
  if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && (await isOwnerAlive(pid, startTime))) {
    throw new BufferError(`${dir} is in use by process ${pid} (lock file ${path})`, 'locked');
  }
  await writeFile(path, content); // stale: its owner is gone
  return release;
}

async function isOwnerAlive(pid: number, startTime: string | undefined): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (!startTime) return true; // no start time recorded (no /proc): the pid alone decides
  const current = await startTimeOf(pid);
  return current === undefined || current === startTime;
}

/** Field 22 of /proc/PID/stat: when the process started, in clock ticks since boot (Linux). */
async function startTimeOf(pid: number): Promise<string | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces and parentheses: count from the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}
