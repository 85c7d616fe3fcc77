import { statSync, watch, type FSWatcher, type Stats } from 'node:fs';
import { lstat, readdir, realpath, stat } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import picomatch from 'picomatch';
import { glob, isDynamicPattern } from 'tinyglobby';
import { describeFileType } from './file-type.js';
import type { SymlinkPolicy } from './symlink-policy.js';

/** At most this many directories are watched for changes; beyond it, periodic rescans still find files. */
export const MAX_WATCHED_DIRS = 256;


export interface FoundFile {
  path: string;
  dev: number;
  ino: number;
  size: number;
}

/** Why a matched path is not followed; reported once per path. */
export type SkipReporter = (path: string, reason: string) => void;

/**
 * Finds the regular files the PATH and GLOB arguments name (symbolic links followed as the
 * policy allows: a file is known by the device and inode it resolves to), and watches their
 * directories so that tail wakes at once on a write, a rename or a new file instead of at the
 * next poll. A matched path that is not a regular file (a FIFO, a socket, a device; a directory
 * named literally) or a link the policy refuses is skipped and reported through `onSkip`.
 */
export class FileDiscovery {
  /** The directories to watch (at most MAX_WATCHED_DIRS), each with its watcher while not paused. */
  private readonly dirs = new Set<string>();
  private readonly watchers = new Map<string, FSWatcher>();
  /**
   * Each directory's modification time as last looked at: at the start of each scan, and when
   * dirsChanged saw it move (a file created, renamed or deleted since changes it). Read at a scan,
   * not at a pause: an event still queued when a pause closes the watchers is lost, and the time
   * must then say what it would have.
   */
  private readonly dirTimes = new Map<string, number>();
  private watchesPaused = false;
  private readonly excluded: Set<string>;
  /** The real directories a link may point into under the `inside` policy (resolved once per scan, when needed). */
  private allowedRoots: string[] | undefined;

  constructor(
    private readonly patterns: readonly string[],
    excluded: readonly string[],
    private readonly onChange: (kind: 'change' | 'rename') => void,
    private readonly symlinks: SymlinkPolicy = 'follow',
    private readonly onSkip: SkipReporter = () => undefined,
  ) {
    this.excluded = new Set(excluded.map((path) => resolve(path)));
    for (const pattern of patterns) this.watchDir(staticBase(pattern));
  }

  async scan(): Promise<FoundFile[]> {
    this.allowedRoots = undefined; // a named directory may have appeared, or been replaced, since the last scan
    for (const dir of this.dirs) this.dirTimes.set(dir, dirTime(dir));
    for (const pattern of this.patterns) this.watchDir(staticBase(pattern));
    const literal = this.patterns.filter((p) => !isDynamicPattern(p));
    const dynamic = this.patterns.filter((p) => isDynamicPattern(p));
    const paths = new Set(literal);
    const globbed = new Set<string>();
    if (dynamic.length > 0) {
      // (not onlyFiles: a device a glob matches is named below, not dropped unseen)
      const followSymbolicLinks = this.symlinks !== 'never';
      for (const path of await glob(dynamic, { onlyFiles: false, followSymbolicLinks, expandDirectories: false })) {
        if (path.endsWith('/')) continue; // a directory: globs match those routinely
        paths.add(path);
        globbed.add(path);
      }
      for (const path of await unlistedMatches(dynamic, globbed)) paths.add(path);
    }
    const found: FoundFile[] = [];
    const seen = new Set<string>();
    for (const path of [...paths].sort()) {
      const full = resolve(path);
      // the position files themselves, or their temporary twins, are never tailed
      if (this.excluded.has(full) || [...this.excluded].some((x) => full.startsWith(`${x}.tmp-`))) continue;
      const st = await stat(path, { bigint: false }).catch(() => undefined);
      if (!st) continue; // missing: reported by the tailer for literal paths
      if (!st.isFile()) {
        if (st.isDirectory() && globbed.has(path)) continue;
        this.onSkip(path, notFollowable(path, st));
        continue;
      }
      const refused = await this.refusedLink(path);
      if (refused) {
        this.onSkip(path, refused);
        continue;
      }
      const key = `${st.dev}:${st.ino}`;
      if (seen.has(key)) continue; // two names (a link and its target) for one file: read once
      seen.add(key);
      found.push({ path, dev: st.dev, ino: st.ino, size: st.size });
      this.watchDir(dirname(full));
    }
    return found;
  }

  close(): void {
    for (const watcher of this.watchers.values()) watcher.close();
    this.watchers.clear();
    this.dirs.clear();
  }

  get paused(): boolean {
    return this.watchesPaused;
  }

  /**
   * Stops watching while tail reads a busy file on a timer anyway: a watched directory wakes the
   * process at every write to any file in it (a thousand a second for a line-by-line writer), and
   * those wake-ups cost more than the reading. The directories' modification times stand in for
   * the events meanwhile (see dirsChanged).
   */
  pause(): void {
    if (this.watchesPaused) return;
    this.watchesPaused = true;
    for (const watcher of this.watchers.values()) watcher.close();
    this.watchers.clear();
  }

  /**
   * Watches again; true when a directory changed during the pause (a file was created, renamed or
   * deleted: rescan). Data written between the caller's last read and this call raises no event:
   * the caller reads once more after resuming.
   */
  resume(): boolean {
    if (!this.watchesPaused) return false;
    const changed = this.dirsChanged();
    this.watchesPaused = false;
    for (const dir of this.dirs) this.startWatching(dir);
    return changed;
  }

  /**
   * While paused: whether a watched directory's modification time moved since the last scan (or
   * since the last call that said so), as a rename event would have said. One stat per directory.
   */
  dirsChanged(): boolean {
    if (!this.watchesPaused) return false;
    let changed = false;
    for (const dir of this.dirs) {
      const now = dirTime(dir);
      if (this.dirTimes.get(dir) !== now) {
        this.dirTimes.set(dir, now);
        changed = true;
      }
    }
    return changed;
  }

  /** Why the symlink policy refuses this path (a link, or a path through a linked directory), or undefined. */
  private async refusedLink(path: string): Promise<string | undefined> {
    if (this.symlinks === 'follow') return undefined;
    const real = await realpath(path).catch(() => undefined);
    if (real === undefined) return undefined; // gone since stat: the open fails and it is retried
    if (this.symlinks === 'never') {
      const isLink = (await lstat(path).catch(() => undefined))?.isSymbolicLink() ?? false;
      return isLink ? `a symbolic link (to ${real}), refused by --symlinks never` : undefined;
    }
    this.allowedRoots ??= await Promise.all(this.patterns.map((p) => realpath(staticBase(p)).catch(() => resolve(staticBase(p)))));
    const inside = this.allowedRoots.some((root) => real === root || real.startsWith(root.endsWith(sep) ? root : root + sep));
    return inside ? undefined : `a symbolic link to ${real}, outside the directories the paths name, refused by --symlinks inside`;
  }

  private watchDir(dir: string): void {
    const full = resolve(dir);
    if (this.dirs.has(full) || this.dirs.size >= MAX_WATCHED_DIRS) {
      // (a directory that could not be watched is tried again)
      if (this.dirs.has(full) && !this.watchesPaused) this.startWatching(full);
      return;
    }
    this.dirs.add(full);
    this.dirTimes.set(full, dirTime(full));
    if (!this.watchesPaused) this.startWatching(full);
  }

  private startWatching(full: string): void {
    if (this.watchers.has(full)) return;
    try {
      const watcher = watch(full, { persistent: false }, (kind) => this.onChange(kind === 'rename' ? 'rename' : 'change'));
      // a watched directory removed, or inotify limits reached: polling carries on
      watcher.on('error', () => {
        watcher.close();
        if (this.watchers.get(full) === watcher) this.watchers.delete(full);
      });
      this.watchers.set(full, watcher);
    } catch {
      // missing directory (it may appear later: the next scan retries) or no watches left
    }
  }
}

/**
 * The FIFOs, sockets and devices the globs match: the glob library never lists them, so a glob
 * that matched one would skip it unsaid, where a literal path to it is named. One readdir with
 * types (no stat per entry) of each glob's base directory and of each directory a glob matched a
 * file in; a deeper directory where a glob matched nothing is not searched.
 */
async function unlistedMatches(dynamic: readonly string[], globbed: ReadonlySet<string>): Promise<string[]> {
  const matches = picomatch(dynamic.map(withoutDotSlash));
  const dirs = new Set([...dynamic.map(staticBase), ...[...globbed].map(dirname)]);
  const found: string[] = [];
  for (const dir of dirs) {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      if (entry.isFile() || entry.isDirectory() || entry.isSymbolicLink()) continue; // listed by the glob, or not named
      const path = dir === '.' ? entry.name : join(dir, entry.name);
      if (matches(withoutDotSlash(path))) found.push(path);
    }
  }
  return found;
}

/** `./logs/*.log` and `logs/*.log` are one pattern to the matcher. */
function withoutDotSlash(path: string): string {
  return path.startsWith('./') ? path.slice(2) : path;
}

/** A directory's modification time (-1 when it cannot be read: gone, say). */
function dirTime(dir: string): number {
  try {
    return statSync(dir, { throwIfNoEntry: false })?.mtimeMs ?? -1;
  } catch {
    return -1;
  }
}

function notFollowable(path: string, st: Stats): string {
  const how = st.isDirectory() ? `name the files in it, or a glob such as ${path}/*.log` : `read it with \`logkit tail - < ${path}\``;
  return `${describeFileType(st)}, not a regular file: tail follows regular files only (${how})`;
}

/** The leading directories of a pattern without glob characters: where new matches appear. */
export function staticBase(pattern: string): string {
  if (!isDynamicPattern(pattern)) return dirname(pattern);
  const parts = pattern.split('/');
  const fixed: string[] = [];
  for (const part of parts) {
    if (isDynamicPattern(part)) break;
    fixed.push(part);
  }
  const base = fixed.join('/');
  return base === '' ? (pattern.startsWith('/') ? '/' : '.') : base;
}
