import { open, readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BufferError } from './buffer-error.js';

/**
 * One process per buffer directory: two writers would hand out the same sequence numbers and
 * delete each other's chunks. The lock is a pid file; a lock left by a killed process (kill -9)
 * is taken over when that pid no longer runs (or is our own pid, as after a restart in a fresh
 * container where the pid repeats).
 */
export async function lockDirectory(dir: string): Promise<() => Promise<void>> {
  const path = join(dir, 'lock');
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const handle = await open(path, 'wx');
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      return () => unlink(path).catch(() => {});
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const pid = Number.parseInt(await readFile(path, 'utf8').catch(() => ''), 10);
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isRunning(pid)) {
      throw new BufferError(`${dir} is in use by process ${pid} (lock file ${path})`, 'locked');
    }
    // Stale: its owner is gone. Overwrite rather than unlink+create, so two starters cannot both win the race to a missing file.
    await writeFile(path, `${process.pid}\n`);
    return () => unlink(path).catch(() => {});
  }
  throw new BufferError(`cannot lock ${dir}`, 'locked');
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
