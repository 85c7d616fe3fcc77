import type { SourcePosition, SourcePositions } from '../checkpoint/checkpoint-file.js';
import { fingerprintMatches, parseIdentity, type FileIdentity } from './file-identity.js';

/** A position for a file that is not open now: from --pos, from --checkpoint, or a file tail let go of. */
export interface KnownPosition {
  identity: FileIdentity;
  off: number;
  path?: string;
  /** When tail last had this file open (ms since epoch): old entries are forgotten. */
  gone: number;
}

/** How many positions of files not open now are remembered, and for how long. */
export const MAX_KNOWN_POSITIONS = 10_000;
export const KNOWN_POSITION_TTL_MS = 24 * 3600 * 1000;

/**
 * Positions of files tail may meet (again): loaded from the --pos file, overridden by the
 * --checkpoint file (a committed offset wins over a read offset), and added at run time for
 * files tail stopped reading (a truncated file's old content, a rotated file let go), so that a
 * rotated copy found later resumes where the original stopped.
 */
export class KnownPositions {
  private readonly entries = new Map<string, KnownPosition>();

  load(positions: SourcePositions, now = Date.now()): void {
    for (const [id, position] of positions) this.addFrom(id, position, now);
  }

  /**
   * The committing stage's checkpoint decides: its offsets replace the read offsets of the same
   * sources (and add sources tail had not saved), and a source tail had read (--pos) that the
   * checkpoint does not name has nothing committed, so it is read again from its head. (Its read
   * offset would skip what tail read and the stage after it lost: a collector killed just after
   * a rotation lost the new file's first lines that way.)
   */
  override(positions: SourcePositions, now = Date.now()): void {
    const committed = new Set<string>();
    for (const [id, position] of positions) {
      committed.add(id);
      const known = this.entries.get(id);
      if (known) known.off = position.off;
      else this.addFrom(id, position, now);
    }
    for (const [id, known] of this.entries) if (!committed.has(id)) known.off = 0;
  }

  add(identity: FileIdentity, off: number, path: string | undefined, now = Date.now()): void {
    this.entries.delete(identity.id);
    this.entries.set(identity.id, { identity, off, path, gone: now });
    while (this.entries.size > MAX_KNOWN_POSITIONS) this.entries.delete(this.entries.keys().next().value!);
  }

  /**
   * For a file just found: the entry for its device and inode whose fingerprint matches its
   * first bytes (`match`), and whether any entry had that inode at all (`inodeKnown`: the
   * inode was reused or the file rewritten when none matches). Entries of that inode are used up.
   */
  takeByInode(dev: number, ino: number, head: Buffer): { match?: KnownPosition; inodeKnown: boolean } {
    let match: KnownPosition | undefined;
    let inodeKnown = false;
    for (const [id, entry] of this.entries) {
      if (entry.identity.dev !== dev || entry.identity.ino !== ino) continue;
      inodeKnown = true;
      if (!match || entry.off > match.off) {
        if (fingerprintMatches(entry.identity, head)) match = entry;
      }
      this.entries.delete(id);
    }
    return { match, inodeKnown };
  }

  /** `dev:ino` of every entry. */
  inodeKeys(): Set<string> {
    const keys = new Set<string>();
    for (const { identity } of this.entries.values()) keys.add(`${identity.dev}:${identity.ino}`);
    return keys;
  }

  /** A file whose content starts like a known one is a copy of it (copytruncate): used up when found. */
  takeByFingerprint(head: Buffer, isOpen: (identity: FileIdentity) => boolean): KnownPosition | undefined {
    for (const [id, entry] of this.entries) {
      if (isOpen(entry.identity)) continue;
      if (fingerprintMatches(entry.identity, head)) {
        this.entries.delete(id);
        return entry;
      }
    }
    return undefined;
  }

  expire(now = Date.now()): void {
    for (const [id, entry] of this.entries) if (now - entry.gone > KNOWN_POSITION_TTL_MS) this.entries.delete(id);
  }

  /** What goes into the --pos file beside the open files' positions. */
  toPositions(into: SourcePositions): void {
    for (const [id, entry] of this.entries) {
      if (into.has(id)) continue;
      into.set(id, { off: entry.off, ...(entry.path ? { path: entry.path } : {}), gone: entry.gone } as SourcePosition);
    }
  }

  private addFrom(id: string, position: SourcePosition, now: number): void {
    const identity = parseIdentity(id);
    if (!identity) return; // not an id tail wrote: someone else's source
    const gone = typeof (position as { gone?: unknown }).gone === 'number' ? (position as unknown as { gone: number }).gone : now;
    this.add(identity, position.off, position.path, gone);
  }
}
