import { stat } from 'node:fs/promises';
import type { LogEvent } from '../event/event.js';
import { CHUNK_SOURCE, type SourcePositionOption } from '../event/source-position.js';
import { positionOf } from '../codec/scanned-position.js';
import { readCheckpointFile, writeCheckpointFile, type SourcePositions } from './checkpoint-file.js';
export interface CheckpointTrackerOptions {
  /** Write at most this often (milliseconds); `flush()` writes at once. */
  intervalMs?: number;
  /** Sources remembered at most; the least recently committed are forgotten first. */
  maxSources?: number;
  /** Create the file (empty) at once when it is missing, so that a path that cannot be written fails at start. */
  create?: boolean;
  /** Diagnostics: a failed background write is reported once, and again once writing works again. */
  log?: (message: string) => void;
}

/** Source id → committed offset: what a chunk of a disk buffer records for the events it holds. */
export type PositionsRecord = Readonly<Record<string, number>>;

/** Keeps the highest offset per source of a batch (chunk identities are not checkpoint sources). */
function note(highest: Map<string, number>, src: SourcePositionOption | undefined): void {
  if (!src || src.id.startsWith(CHUNK_SOURCE)) return;
  const seen = highest.get(src.id);
  if (seen === undefined || src.off > seen) highest.set(src.id, src.off);
}

/**
 * For a committing stage (buffer, forward, store): feed it the events of each batch once that
 * batch is durably committed, and it keeps the highest committed offset per source and writes
 * the checkpoint file that `logkit tail --checkpoint` resumes from. Writes are debounced (one
 * atomic write per interval at most), so committing is cheap per batch.
 *
 *     const tracker = await CheckpointTracker.open('/var/lib/logkit/checkpoint.json');
 *     await db.commit(batch);
 *     tracker.commit(batch);
 *     …
 *     await tracker.close();   // at exit: the last positions are written
 */
export class CheckpointTracker {
  private readonly positions: SourcePositions;
  private dirty = false;
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  private lastWrite = 0;
  private readonly intervalMs: number;
  private readonly maxSources: number;
  private readonly log: (message: string) => void;
  /** A write failure, reported by the next flush() or close(). */
  private failure: Error | undefined;

  private constructor(
    readonly path: string,
    positions: SourcePositions,
    options: CheckpointTrackerOptions,
  ) {
    this.positions = positions;
    this.intervalMs = options.intervalMs ?? 1000;
    this.maxSources = options.maxSources ?? 10_000;
    this.log = options.log ?? (() => {});
  }

  /** Opens the tracker, keeping what the file already holds (sources this process never sees stay). */
  static async open(path: string, options: CheckpointTrackerOptions = {}): Promise<CheckpointTracker> {
    const positions = await readCheckpointFile(path);
    if (options.create && !(await exists(path))) await writeCheckpointFile(path, positions);
    return new CheckpointTracker(path, positions, options);
  }

  /** The committed offset of a source, if known. */
  offsetOf(id: string): number | undefined {
    return this.positions.get(id)?.off;
  }

  /** Records a committed batch: per source (identities and relay positions), the highest offset seen. One pass, no I/O. */
  commit(events: readonly LogEvent[]): void {
    // the highest offset per source in the batch first (a batch is mostly one source), then the map
    const highest = new Map<string, number>();
    for (let i = 0; i < events.length; i++) {
      const event = events[i]!;
      note(highest, positionOf(event, 'src'));
      note(highest, positionOf(event, 'relay'));
    }
    let changed = false;
    for (const [id, off] of highest) {
      const known = this.positions.get(id);
      if (known && known.off >= off) continue;
      // delete + set moves the source to the end: Map order is then least recently committed first
      this.positions.delete(id);
      this.positions.set(id, { ...known, off });
      changed = true;
    }
    if (changed) this.markDirty();
  }

  /**
   * Records committed positions given as a record (source id → offset), as a disk buffer keeps
   * them per chunk. Same rule as commit(): the highest offset per source wins.
   */
  commitPositions(positions: PositionsRecord): void {
    let changed = false;
    for (const id in positions) {
      const off = positions[id]!;
      if (!Number.isSafeInteger(off) || off < 0) continue;
      const known = this.positions.get(id);
      if (known && known.off >= off) continue;
      this.positions.delete(id);
      this.positions.set(id, { ...known, off });
      changed = true;
    }
    if (changed) this.markDirty();
  }

  private markDirty(): void {
    while (this.positions.size > this.maxSources) this.positions.delete(this.positions.keys().next().value!);
    this.dirty = true;
    this.schedule();
  }

  /** Writes now if anything changed; resolves when the file is durable. */
  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.writeIfDirty();
    if (this.failure) throw this.failure;
  }

  async close(): Promise<void> {
    await this.flush();
  }

  private schedule(): void {
    if (this.timer) return;
    const wait = Math.max(0, this.lastWrite + this.intervalMs - Date.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.writeIfDirty();
    }, wait);
    this.timer.unref();
  }

  private writeIfDirty(): Promise<void> {
    this.writing = this.writing.then(async () => {
      if (!this.dirty) return;
      this.dirty = false;
      this.lastWrite = Date.now();
      try {
        await writeCheckpointFile(this.path, new Map(this.positions));
        if (this.failure) this.log(`checkpoint ${this.path} written again`);
        this.failure = undefined;
      } catch (error) {
        // Keep the data flowing (the positions stay behind: tail would re-read, not lose); the
        // next commit retries, flush() and close() report it.
        if (!this.failure) this.log(`cannot write the checkpoint ${this.path}: ${(error as Error).message}; retrying`);
        this.dirty = true;
        this.failure = error as Error;
      }
    });
    return this.writing;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
