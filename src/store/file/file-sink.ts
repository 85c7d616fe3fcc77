import { mkdir, open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';
import type { LogEvent } from '../../event/event.js';
import type { RangesRecord } from '../../checkpoint/committed-ranges.js';
import { PermanentStoreError, TransientStoreError, errorMessage } from '../store-errors.js';
import type { CommitHook, StoreSink } from '../store-sink.js';
import { storedIdentityOf } from '../stored-identity.js';
import { appendBytes, byteLengthOf } from './append-bytes.js';
import { CommittedJournal, type IntendedWrite } from './committed-journal.js';
import { FileEncoder, type FileFormat } from './file-format.js';
import { PathTemplate } from './path-template.js';
import { OpenFileJournal } from './open-journal.js';
import { findValidLength, type TailKind } from './torn-tail.js';
import { undoUncommittedWrites } from './uncommitted-writes.js';

const gzip = promisify(gzipCallback);

import type { FsyncPolicy } from '../store-choices.js';
export { FSYNC_POLICIES, type FsyncPolicy } from '../store-choices.js';

export interface FileStoreOptions {
  template: string;
  format: FileFormat;
  gzip: boolean;
  gzipLevel: number;
  /**
   * always: fsync every file a batch touched, then commit (survives power loss);
   * interval: write now, fsync every file and commit every `fsyncIntervalMs`;
   * never: commit once written to the OS (survives a crash of logkit, not of the machine).
   */
  fsync: FsyncPolicy;
  fsyncIntervalMs: number;
  maxOpenFiles: number;
  messageKey: string;
  /** Skip events whose identity (options.src) this store already committed (kept in BASE/.logkit-store/committed/). */
  dedup: boolean;
  onCommit: CommitHook;
  log: (message: string) => void;
}

interface OpenFile {
  path: string;
  handle: FileHandle;
  /** Its inode, so that an intent names this file and not one put in its place. */
  ino: number;
  /** Bytes in the file that we know are complete units (where a failed batch is cut back to). */
  size: number;
  dirty: boolean;
}

/**
 * The file store: events go to files named by a path template (strftime on the event time,
 * the tag), appended one complete unit per file per batch (see torn-tail.ts for why that is
 * crash-safe). A batch is all-or-nothing: if any append fails, every file the batch touched is
 * cut back to its size before the batch, so a retry does not duplicate. At most
 * `maxOpenFiles` descriptors are kept open (least recently used closed first).
 *
 * One process per file: two processes appending to the same file is not supported (give each
 * its own template or tags).
 *
 * Dedup: an event whose identity (options.src) lies in the ranges this store committed is
 * skipped (and still acknowledged). Before a batch's appends, an intent naming each file and
 * its size is journaled; the batch's positions join the ranges once its appends succeeded, and
 * are journaled after its files are fsynced (per --fsync) and before it is acknowledged. A crash
 * in between leaves that batch in the files without its positions: the next start cuts those
 * files back to their sizes before it (uncommitted-writes.ts), and the batch, never
 * acknowledged, is resent and stored once.
 */
export class FileSink implements StoreSink {
  readonly description: string;
  readonly writesNdjsonLines: boolean;
  private readonly template: PathTemplate;
  private readonly encoder: FileEncoder;
  private readonly tailKind: TailKind;
  /** Open files, least recently used first (a Map keeps insertion order). */
  private readonly files = new Map<string, OpenFile>();
  private readonly knownDirs = new Set<string>();
  /** Batches written but not yet fsynced (interval policy), committed in order by the timer, with the positions they add. */
  private uncommitted: Array<{ events: readonly LogEvent[]; positions: RangesRecord | undefined }> = [];
  /** The positions committed (dedup), with their journal. */
  private committed: CommittedJournal | undefined;
  duplicates = 0;
  private timer: NodeJS.Timeout | undefined;
  /** Writes, periodic fsyncs and closing take turns. */
  private turn: Promise<unknown> = Promise.resolve();
  private timerFailure: Error | undefined;
  private readonly journal: OpenFileJournal;

  constructor(private readonly options: FileStoreOptions) {
    this.template = new PathTemplate(options.template);
    this.journal = new OpenFileJournal(this.template.baseDir, options.fsync !== 'never');
    this.encoder = new FileEncoder(options.format, options.messageKey);
    this.tailKind = options.gzip ? 'gzip' : options.format === 'msgpack' ? 'msgpack' : 'lines';
    this.description = `file ${options.template}`;
    this.writesNdjsonLines = options.format === 'ndjson';
  }

  async open(): Promise<void> {
    if (this.options.dedup) {
      const { log } = this.options;
      this.committed = await CommittedJournal.open(this.template.baseDir, this.options.template, this.options.fsync !== 'never', log, (writes) =>
        undoUncommittedWrites(writes, log),
      );
    }
    // files a crashed run left open may hold a torn tail: repair them now, whatever we write next
    await this.journal.recover(async (path, kind) => {
      const handle = await open(path, 'r+').catch(() => undefined);
      if (!handle) return; // removed since
      try {
        await this.repair(handle, path, kind);
      } catch (error) {
        this.options.log(`${path}: left as it is: ${errorMessage(error)}`);
      } finally {
        await handle.close();
      }
    });
    if (this.options.fsync === 'interval') {
      this.timer = setInterval(() => {
        this.exclusive(() => this.syncAndCommit()).catch((error: Error) => (this.timerFailure = error));
      }, this.options.fsyncIntervalMs);
    }
  }

  write(events: readonly LogEvent[]): Promise<void> {
    return this.exclusive(() => this.writeBatch(events));
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.exclusive(async () => {
      await this.syncAndCommit();
      for (const file of this.files.values()) {
        await file.handle.close().catch(() => {});
        await this.journal.closed(file.path);
      }
      this.files.clear();
      await this.committed?.close();
    });
  }

  /**
   * SIGHUP (logrotate moved our files away): commit what is written, close every file; the next
   * batch opens its files by name again, creating them anew.
   */
  reopen(): Promise<void> {
    return this.exclusive(async () => {
      await this.syncAndCommit();
      for (const file of this.files.values()) {
        await file.handle.close().catch(() => {});
        await this.journal.closed(file.path);
      }
      this.files.clear();
      this.knownDirs.clear();
    });
  }

  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const next = this.turn.then(work);
    this.turn = next.catch(() => {});
    return next;
  }

  private async writeBatch(events: readonly LogEvent[]): Promise<void> {
    if (this.timerFailure) throw this.timerFailure;
    const { fresh, offsets } = this.committed ? this.withoutCommitted(events) : { fresh: events, offsets: undefined };
    if (fresh.length > 0) await this.append(fresh);
    this.duplicates += events.length - fresh.length;
    let positions: RangesRecord | undefined;
    if (offsets) {
      positions = {};
      for (const [id, list] of offsets) positions[id] = this.committed!.ranges.addOffsets(id, list);
    }
    if (this.options.fsync === 'interval') this.uncommitted.push({ events, positions });
    else await this.commit([{ events, positions }]);
  }

  /**
   * The events of a batch whose identity is not committed yet (nor repeated within the batch),
   * with their offsets per source; events without an identity are always kept.
   */
  private withoutCommitted(events: readonly LogEvent[]): { fresh: readonly LogEvent[]; offsets: Map<string, number[]> } {
    const ranges = this.committed!.ranges;
    const offsets = new Map<string, number[]>();
    // a source's offsets in a batch mostly rise: an offset above the last one is new, and only
    // one that is not is looked up in a set of the batch's offsets (made then, once per source)
    const seenIn = new Map<string, Set<number>>();
    const fresh: LogEvent[] = [];
    for (let i = 0; i < events.length; i++) {
      const e = events[i]!;
      const identity = storedIdentityOf(e);
      if (!identity) {
        fresh.push(e);
        continue;
      }
      const { id, off } = identity;
      if (ranges.has(id, off)) continue;
      let list = offsets.get(id);
      if (!list) {
        list = [];
        offsets.set(id, list);
      }
      if (list.length > 0 && off <= list[list.length - 1]!) {
        let seen = seenIn.get(id);
        if (!seen) {
          seen = new Set(list);
          seenIn.set(id, seen);
        }
        if (seen.has(off)) continue;
        seen.add(off);
      } else {
        seenIn.get(id)?.add(off);
      }
      list.push(off);
      fresh.push(e);
    }
    return { fresh: fresh.length === events.length ? events : fresh, offsets };
  }

  /** Journals the positions of batches whose files are durable (per --fsync), then acknowledges them in order. */
  private async commit(batches: ReadonlyArray<{ events: readonly LogEvent[]; positions: RangesRecord | undefined }>): Promise<void> {
    if (this.committed) {
      const record: RangesRecord = {};
      let any = false;
      for (const { positions } of batches) {
        for (const id in positions) {
          if (positions[id]!.length === 0) continue;
          (record[id] ??= []).push(...positions[id]!);
          any = true;
        }
      }
      // a batch of events without identities adds no positions, but its intent needs its commit line
      if (any || this.committed.needsCommitLine) await this.committed.append(record);
    }
    for (const { events } of batches) await this.options.onCommit(events);
  }

  /** Appends a batch to its files, all or nothing (a failure cuts every file back). */
  private async append(events: readonly LogEvent[]): Promise<void> {
    // group by file, keeping each file's events in input order
    const groups = new Map<string, LogEvent[]>();
    for (let i = 0; i < events.length; i++) {
      const e = events[i]!;
      const path = this.template.render(e.tag, e.time.sec);
      const group = groups.get(path);
      if (group) group.push(e);
      else groups.set(path, [e]);
    }
    // compress in parallel (zlib runs on the thread pool), then append in turn
    const units = await Promise.all(
      [...groups].map(async ([path, group]) => {
        const parts = this.encoder.encodeParts(group);
        return [path, this.options.gzip ? [await gzip(Buffer.concat(parts), { level: this.options.gzipLevel })] : parts] as const;
      }),
    );
    const touched: Array<{ file: OpenFile; before: number }> = [];
    try {
      if (this.committed) await this.intend(units);
      for (const [path, unit] of units) {
        const file = await this.file(path);
        touched.push({ file, before: file.size });
        // O_APPEND: each write lands at the end
        file.size += await appendBytes(file.handle, unit);
        file.dirty = true;
      }
      if (this.options.fsync === 'always') await Promise.all(touched.map(({ file }) => this.sync(file)));
    } catch (error) {
      await this.cutBack(touched);
      throw classify(error);
    }
  }

  /**
   * Journals the files a batch is about to append to with their sizes, so that a crash before
   * its commit line is undone at the next start. Every file is opened first for its size (one
   * evicted again by the open-file limit is reopened at the same size: nothing was written).
   */
  private async intend(units: ReadonlyArray<readonly [string, Buffer[]]>): Promise<void> {
    const writes: IntendedWrite[] = [];
    for (const [path, unit] of units) {
      const file = await this.file(path);
      writes.push({ path, ino: file.ino, size: file.size, end: file.size + byteLengthOf(unit) });
    }
    await this.committed!.intend(writes, this.options.fsync === 'always');
  }

  /** Undoes a failed batch's appends, so the retry starts from complete units only. */
  private async cutBack(touched: Array<{ file: OpenFile; before: number }>): Promise<void> {
    for (const { file, before } of touched.reverse()) {
      try {
        await file.handle.truncate(before);
        file.size = before;
      } catch (error) {
        this.options.log(`${file.path}: cannot undo a failed append (${errorMessage(error)}); it is repaired when next opened`);
        this.files.delete(file.path);
        await file.handle.close().catch(() => {}); // its marker stays: the next start repairs it
      }
    }
  }

  private async sync(file: OpenFile): Promise<void> {
    if (!file.dirty) return;
    await file.handle.datasync();
    file.dirty = false;
  }

  private async syncAndCommit(): Promise<void> {
    if (this.options.fsync !== 'never') for (const file of this.files.values()) await this.sync(file);
    const batches = this.uncommitted;
    this.uncommitted = [];
    if (batches.length > 0) await this.commit(batches);
  }

  /** Cuts a torn last unit off (see torn-tail.ts). */
  private async repair(handle: FileHandle, path: string, kind: TailKind): Promise<{ size: number; validBytes: number }> {
    const { size, validBytes } = await findValidLength(handle, kind);
    if (validBytes < size) {
      await handle.truncate(validBytes);
      await handle.datasync();
      this.options.log(`${path}: removed a torn tail of ${size - validBytes} bytes left by an interrupted write`);
    }
    return { size, validBytes };
  }

  /** The open file for a path: opened (and its torn tail repaired) on first use, LRU-bounded. */
  private async file(path: string): Promise<OpenFile> {
    const cached = this.files.get(path);
    if (cached) {
      this.files.delete(path);
      this.files.set(path, cached);
      return cached;
    }
    while (this.files.size >= this.options.maxOpenFiles) {
      const [oldestPath, oldest] = this.files.entries().next().value as [string, OpenFile];
      // a deferred fsync cannot be done on a closed descriptor: do it now
      if (this.options.fsync !== 'never') await this.sync(oldest);
      await oldest.handle.close();
      this.files.delete(oldestPath);
      await this.journal.closed(oldestPath); // its writes are complete: no torn tail to fear
    }
    const dir = dirname(path);
    if (!this.knownDirs.has(dir)) {
      const created = await mkdir(dir, { recursive: true });
      if (created && this.options.fsync !== 'never') await syncDirectory(dirname(created));
      this.knownDirs.add(dir);
    }
    const handle = await open(path, 'a+');
    let file: OpenFile;
    try {
      await this.journal.opened(path, this.tailKind);
      const { size, validBytes } = await this.repair(handle, path, this.tailKind);
      if (size === 0 && this.options.fsync !== 'never') await syncDirectory(dir);
      file = { path, handle, ino: (await handle.stat()).ino, size: validBytes, dirty: false };
    } catch (error) {
      await handle.close().catch(() => {});
      if (error instanceof PermanentStoreError) throw new PermanentStoreError(`${path}: ${error.message}`);
      throw error;
    }
    this.files.set(path, file);
    return file;
  }
}

/** A new file's name is durable only once its directory is fsynced. */
async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Full disks, quotas and descriptor limits can clear up; permissions and bad paths cannot. */
const TRANSIENT_FS = new Set(['ENOSPC', 'EDQUOT', 'EMFILE', 'ENFILE', 'EAGAIN', 'EBUSY', 'EINTR', 'EIO']);

function classify(error: unknown): Error {
  if (error instanceof PermanentStoreError || error instanceof TransientStoreError) return error;
  const code = (error as NodeJS.ErrnoException).code;
  if (code && TRANSIENT_FS.has(code)) return new TransientStoreError(errorMessage(error), error);
  return new PermanentStoreError(errorMessage(error), error);
}
