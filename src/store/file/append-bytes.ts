import { writeSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';

/**
 * Appends up to this many bytes with a direct write(2): a small append lands in the page cache
 * in microseconds, less than the thread pool's round trip (two thread wake-ups) costs. At a
 * trickle (a few lines per batch) that round trip was most of a batch's cost. Larger appends,
 * which can take long enough to matter to the event loop, go through the thread pool. fsync
 * always goes through the thread pool: it waits for the disk.
 */
export const DIRECT_WRITE_BYTES = 64 * 1024;

/** Writes all of `data` at the end of a file opened for appending; a short write (disk full) is continued or fails. */
export async function appendBytes(handle: FileHandle, data: Buffer | string): Promise<void> {
  const bytes = typeof data === 'string' ? Buffer.from(data) : data;
  for (let done = 0; done < bytes.length; ) {
    const left = bytes.length - done;
    done += left <= DIRECT_WRITE_BYTES ? writeSync(handle.fd, bytes, done, left, null) : (await handle.write(bytes, done, left, null)).bytesWritten;
  }
}
