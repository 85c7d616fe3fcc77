import { watch, type FSWatcher } from 'node:fs';
import { stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { glob, isDynamicPattern } from 'tinyglobby';

/** At most this many directories are watched for changes; beyond it, periodic rescans still find files. */
export const MAX_WATCHED_DIRS = 256;

export interface FoundFile {
  path: string;
  dev: number;
  ino: number;
  size: number;
}

/**
 * Finds the regular files the PATH and GLOB arguments name (symbolic links followed: a file is
 * known by the device and inode it resolves to), and watches their directories so that tail
 * wakes at once on a write, a rename or a new file instead of at the next poll.
 */
export class FileDiscovery {
  private readonly watchers = new Map<string, FSWatcher>();
  private readonly excluded: Set<string>;

  constructor(
    private readonly patterns: readonly string[],
    excluded: readonly string[],
    private readonly onChange: (kind: 'change' | 'rename') => void,
  ) {
    this.excluded = new Set(excluded.map((path) => resolve(path)));
    for (const pattern of patterns) this.watchDir(staticBase(pattern));
  }

  async scan(): Promise<FoundFile[]> {
    for (const pattern of this.patterns) this.watchDir(staticBase(pattern));
    const literal = this.patterns.filter((p) => !isDynamicPattern(p));
    const dynamic = this.patterns.filter((p) => isDynamicPattern(p));
    const paths = new Set(literal);
    if (dynamic.length > 0) {
      for (const path of await glob(dynamic, { onlyFiles: true, followSymbolicLinks: true, expandDirectories: false })) paths.add(path);
    }
    const found: FoundFile[] = [];
    const seen = new Set<string>();
    for (const path of [...paths].sort()) {
      const full = resolve(path);
      // the position files themselves, or their temporary twins, are never tailed
      if (this.excluded.has(full) || [...this.excluded].some((x) => full.startsWith(`${x}.tmp-`))) continue;
      const st = await stat(path, { bigint: false }).catch(() => undefined);
      if (!st || !st.isFile()) continue;
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
  }

  private watchDir(dir: string): void {
    const full = resolve(dir);
    if (this.watchers.has(full) || this.watchers.size >= MAX_WATCHED_DIRS) return;
    try {
      const watcher = watch(full, { persistent: false }, (kind) => this.onChange(kind === 'rename' ? 'rename' : 'change'));
      // a watched directory removed, or inotify limits reached: polling carries on
      watcher.on('error', () => {
        watcher.close();
        this.watchers.delete(full);
      });
      this.watchers.set(full, watcher);
    } catch {
      // missing directory (it may appear later: the next scan retries) or no watches left
    }
  }
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
