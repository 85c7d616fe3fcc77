import { createHash } from 'node:crypto';
import { mkdir, open, readFile, readdir, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isOtherLiveWriter, thisProcess, type WriterProcess } from './writer-process.js';
import type { TailKind } from './torn-tail.js';

interface Marker extends WriterProcess {
  path: string;
  kind: TailKind;
}

/**
 * Remembers which files a store process has open for appending, so a torn tail is repaired
 * even when no later run writes to that file again (a crash at 10:59:59 leaves 10.ndjson.gz
 * torn, and the next run only writes 11.ndjson.gz). While a file is open, a marker naming it
 * (and the owning pid) lives in BASE/.logkit-store/open/; a clean close removes it. At
 * start-up every marker whose owner is no longer running is repaired and removed. (A tag can
 * never render as `.logkit-store`: placeholders cannot start with a dot.)
 */
export class OpenFileJournal {
  private readonly dir: string;
  private ready: Promise<void> | undefined;

  constructor(
    baseDir: string,
    private readonly durable: boolean,
  ) {
    this.dir = join(baseDir, '.logkit-store', 'open');
  }

  /** Repairs the files of markers left by processes that are gone; returns how many. */
  async recover(repair: (path: string, kind: TailKind) => Promise<void>): Promise<number> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch {
      return 0;
    }
    let repaired = 0;
    for (const name of names) {
      if (!name.endsWith('.json')) continue;
      const markerPath = join(this.dir, name);
      let marker: Marker;
      try {
        marker = JSON.parse(await readFile(markerPath, 'utf8')) as Marker;
      } catch {
        await unlink(markerPath).catch(() => {}); // a marker torn by the crash names nothing usable
        continue;
      }
      if (isOtherLiveWriter(marker)) continue; // another live writer's file
      await repair(marker.path, marker.kind);
      await unlink(markerPath).catch(() => {});
      repaired++;
    }
    return repaired;
  }

  async opened(path: string, kind: TailKind): Promise<void> {
    this.ready ??= mkdir(this.dir, { recursive: true }).then(() => undefined);
    await this.ready;
    const marker = this.markerPath(path);
    await writeFile(marker, JSON.stringify({ path, ...thisProcess(), kind } satisfies Marker));
    if (this.durable) {
      // the marker must be on disk before data is appended, or a power loss could hide a torn tail
      const handle = await open(this.dir, 'r');
      await handle.sync().finally(() => handle.close());
    }
  }

  async closed(path: string): Promise<void> {
    await unlink(this.markerPath(path)).catch(() => {});
  }

  private markerPath(path: string): string {
    return join(this.dir, `${createHash('sha256').update(path).digest('hex').slice(0, 32)}.json`);
  }
}
