import type { FileHandle } from 'node:fs/promises';
import type { FileIdentity } from './file-identity.js';
import type { LinePipeline } from './line-pipeline.js';

/**
 * What tail knows about one open file (one device + inode).
 *
 * - undecided: just found, not yet known to be new, a file tail has met before, or a copy (an
 *   empty file, or one whose first bytes are so far only a prefix of a file being read).
 * - active: being read.
 * - copy: its first bytes are those of a file being read (`copyOf`): a copytruncate rotation
 *   in progress or a plain copy. It is not read; if the original is truncated or goes away, the
 *   copy takes over at the original's position, so the original's unread rest is read from it.
 */
export class FileSource {
  state: 'undecided' | 'active' | 'copy' = 'undecided';
  identity: FileIdentity | undefined;
  /** The first bytes the identity's fingerprint covers: compared on every read to catch a rewrite. */
  head: Buffer | undefined;
  copyOf: FileSource | undefined;
  /** When the globs stopped naming this file (renamed away, deleted). */
  unmatchedSince: number | undefined;
  /** Size and modification time at the last fstat. */
  size = 0;
  mtimeMs = 0;
  /** When the fingerprint was last checked while the size stood still. */
  verifiedAt = 0;
  readonly discoveredAt = Date.now();

  constructor(
    public path: string,
    readonly dev: number,
    readonly ino: number,
    readonly handle: FileHandle,
    readonly pipeline: LinePipeline,
    /** Found by the first scan (start at its end unless --from-head), with the size it had then. */
    readonly initialSize: number | undefined,
  ) {}

  get key(): string {
    return `${this.dev}:${this.ino}`;
  }

  atEnd(): boolean {
    return this.size <= this.pipeline.pos;
  }
}

export function startsWith(bytes: Buffer, prefix: Buffer): boolean {
  return bytes.length >= prefix.length && bytes.compare(prefix, 0, prefix.length, 0, prefix.length) === 0;
}
