import { writevSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';

/**
 * Appends up to this many bytes with a direct write(2): a small append lands in the page cache
 * in microseconds, less than the thread pool's round trip (two thread wake-ups) costs. At a
 * trickle (a few lines per batch) that round trip was most of a batch's cost. Larger appends,
 * which can take long enough to matter to the event loop, go through the thread pool. fsync
 * always goes through the thread pool: it waits for the disk.
 */
export const DIRECT_WRITE_BYTES = 64 * 1024;

/**
 * Writes all of `data` (a buffer, a string, or parts written with one writev, not copied into
 * one buffer first) at the end of a file opened for appending; a short write (disk full) is
 * continued from where it stopped, or fails. Returns the bytes written.
 */
export async function appendBytes(handle: FileHandle, data: Buffer | string | Buffer[]): Promise<number> {
  let parts = typeof data === 'string' ? [Buffer.from(data)] : Array.isArray(data) ? data : [data];
  const length = byteLengthOf(parts);
  for (let done = 0; done < length; ) {
    const left = length - done;
    const written = left <= DIRECT_WRITE_BYTES ? writevSync(handle.fd, parts) : (await handle.writev(parts)).bytesWritten;
    done += written;
    if (done < length) parts = remainderOf(parts, written);
  }
  return length;
}

export function byteLengthOf(parts: readonly Buffer[]): number {
  let length = 0;
  for (const part of parts) length += part.length;
  return length;
}

/** What is left of `parts` once their first `written` bytes are written. */
function remainderOf(parts: Buffer[], written: number): Buffer[] {
  let i = 0;
  while (written >= parts[i]!.length) written -= parts[i++]!.length;
  return [parts[i]!.subarray(written), ...parts.slice(i + 1)];
}
