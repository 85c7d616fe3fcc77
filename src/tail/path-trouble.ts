import { log } from '../log/logger.js';

/**
 * The paths tail cannot follow or read, each reported once: a path that is skipped (not a
 * regular file, a refused symbolic link) is named once for each reason, and a file that fails to
 * read is named once until it reads again, however often it is retried meanwhile.
 */
export class PathTrouble {
  private readonly skips = new Map<string, string>();
  private readonly failing = new Map<string, string>();

  skipped(path: string, reason: string): void {
    if (this.skips.get(path) === reason) return;
    this.skips.set(path, reason);
    log.warn(`${path}: ${reason}; skipped`);
  }

  unreadable(path: string, error: Error): void {
    const code = (error as NodeJS.ErrnoException).code ?? error.message;
    if (this.failing.get(path) === code) return;
    this.failing.set(path, code);
    log.warn(`${path}: cannot read: ${error.message}; the other files go on, and this one is tried again at the next rescan`);
  }

  recovered(path: string): void {
    this.skips.delete(path);
    if (!this.failing.delete(path)) return;
    log.info(`${path}: readable again`);
  }

  /** The files that failed to read and have not read since. */
  unreadablePaths(): string[] {
    return [...this.failing.keys()];
  }
}
