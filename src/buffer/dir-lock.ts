import { open, readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isRunning, stampOf } from '../base/process-stamp.js';
import { BufferError } from './buffer-error.js';

/**
 * One process per buffer directory: two writers would hand out the same sequence numbers and
 * delete each other's chunks. The lock is a file holding the owner's pid and its start time
 * (from /proc). A lock left by a killed process (kill -9) is taken over once that process no
 * longer runs (see isRunning: a zombie, or another process given the old pid, is not it).
 */
export async function lockDirectory(dir: string): Promise<() => Promise<void>> {
  const path = join(dir, 'lock');
  const content = `${process.pid} ${stampOf(process.pid).start ?? ''}\n`;
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
  if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isRunning({ pid, start: startTime || undefined })) {
    throw new BufferError(`${dir} is in use by process ${pid} (lock file ${path})`, 'locked');
  }
  await writeFile(path, content); // stale: its owner is gone
  return release;
}
