import { stat } from 'node:fs/promises';
import type { LogEvent } from '../event/event.js';
import { scannedSourcePosition } from '../codec/scanned-position.js';
import { readCheckpointFile, writeCheckpointFile, type SourcePositions } from './checkpoint-file.js';

/** The source position `tail` puts in each event's options map: `{src: {id, off}}`. */
export interface SourcePositionOption {
  id: string;
  off: number;
}

/** The identity receive gives an entry that came without one: the request's chunk id and the entry's index, stable across a resend of the same chunk. */
export function chunkIdentity(chunkKey: string, index: number): SourcePositionOption {
  return { id: `${CHUNK_SOURCE}${chunkKey}`, off: index };
}

/**
 * Chunk identities name one request each and nobody resumes from them: they are not recorded as
 * checkpoint sources (a checkpoint would otherwise gain one source per chunk from a Fluentd).
 */
const CHUNK_SOURCE = 'chunk:';

/** The `src` option of an event, when it carries a well-formed one. */
export function sourcePositionOf(event: LogEvent): SourcePositionOption | undefined {
  // an event read as bytes: scanned from them, its options never decoded
  const scanned = scannedSourcePosition(event);
  if (scanned !== 'decode') return scanned;
  return positionIn(event.options?.src);
}

/**
 * The `relay` option: the position `receive --buffer` gives each event in its own buffer
 * (`{id: "receive:<dir>", off}`), beside the event's identity in `src`. The store's checkpoint
 * commits it like a source, which is how receive learns what it may delete.
 */
export function relayPositionOf(event: LogEvent): SourcePositionOption | undefined {
  return positionIn(event.options?.relay);
}

function positionIn(value: unknown): SourcePositionOption | undefined {
  const src = value as { id?: unknown; off?: unknown } | undefined;
  if (!src || typeof src.id !== 'string') return undefined;
  const off = typeof src.off === 'bigint' ? Number(src.off) : src.off;
  if (typeof off !== 'number' || !Number.isSafeInteger(off) || off < 0) return undefined;
  return { id: src.id, off };
}

/** Keeps the highest offset per source of a batch (chunk identities are not checkpoint sources). */
function note(highest: Map<string, number>, src: SourcePositionOption | undefined): void {
  if (!src || src.id.startsWith(CHUNK_SOURCE)) return;
  const seen = highest.get(src.id);
  if (seen === undefined || src.off > seen) highest.set(src.id, src.off);
}

/** Adds an event's positions (its `src`, and its `relay` when relayed) to a record: the last one per source wins, in stream order. */
export function recordPositions(into: Record<string, number>, event: LogEvent): void {
  // an event read as bytes whose options hold no relay: its src scanned from them, never decoded
  const scanned = scannedSourcePosition(event);
  if (scanned !== 'decode') {
    if (scanned && !scanned.id.startsWith(CHUNK_SOURCE)) into[scanned.id] = scanned.off;
    return;
  }
  const options = event.options;
  if (options === undefined) return;
  const src = positionIn(options.src);
  if (src && !src.id.startsWith(CHUNK_SOURCE)) into[src.id] = src.off;
  const relay = positionIn(options.relay);
  if (relay) into[relay.id] = relay.off;
}

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
      const scanned = scannedSourcePosition(event);
      if (scanned !== 'decode') {
        note(highest, scanned);
        continue;
      }
      note(highest, positionIn(event.options?.src));
      if (event.options?.relay !== undefined) note(highest, relayPositionOf(event));
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
