import { open } from 'node:fs/promises';
import { errorMessage } from '../store-errors.js';
import type { IntendedWrite } from './committed-journal.js';

/**
 * Undoes, at start, the appends of batches that a crash (kill -9) left in the files without
 * their commit line: each file is cut back to its size before the first such batch. Those
 * batches were never acknowledged, so they are resent whole and stored once.
 *
 * Why cut back rather than keep what was written and learn its identities (by reading the
 * files past the committed sizes): cutting works the same for every format (text lines carry no
 * identity) and for events without an identity, which a replay would store a second time; it
 * needs no decoding (the recorded sizes are unit boundaries, so a gzip file loses whole members
 * and stays readable); and nothing acknowledged is ever cut, since a commit line comes before
 * every acknowledgement.
 *
 * A file is cut only when it is still the one the intent names, untouched since: the same
 * inode, and a size within what the batches could have written (above `size`, at most `end`).
 * Otherwise it is left as it is, and a duplicate is possible, never a loss:
 * - no longer there, or another inode under its name (rotated or removed after the crash): what
 *   was written went with it;
 * - larger than `end`: written since (by a run with --dedup off, which keeps no journal);
 * - smaller than `size`: cut by someone else; cutting "back" would extend it.
 */
export async function undoUncommittedWrites(writes: readonly IntendedWrite[], log: (message: string) => void): Promise<void> {
  for (const write of writes) {
    const handle = await open(write.path, 'r+').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') log(`${write.path}: written by a batch not acknowledged before a crash, and gone since (rotated or removed); its events may be stored twice`);
      else log(`${write.path}: cannot undo a batch not acknowledged before a crash (${errorMessage(error)}); its events may be stored twice`);
      return undefined;
    });
    if (!handle) continue;
    try {
      const { ino, size } = await handle.stat();
      if (ino !== write.ino) {
        log(`${write.path}: written by a batch not acknowledged before a crash, and replaced since (rotated); its events may be stored twice`);
      } else if (size > write.end || size < write.size) {
        log(`${write.path}: is ${size} bytes, not the ${write.size}–${write.end} a batch not acknowledged before a crash left; left as it is`);
      } else if (size > write.size) {
        await handle.truncate(write.size);
        await handle.datasync();
        log(`${write.path}: removed ${size - write.size} bytes of a batch not acknowledged before a crash (it is resent)`);
      }
    } catch (error) {
      log(`${write.path}: cannot undo a batch not acknowledged before a crash (${errorMessage(error)}); its events may be stored twice`);
    } finally {
      await handle.close();
    }
  }
}
