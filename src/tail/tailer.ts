import { fstatSync, readSync } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { isDynamicPattern } from 'tinyglobby';
import { CliError, ExitCode } from '../base/exit-codes.js';
import { log } from '../log/logger.js';
import type { Writable } from 'node:stream';
import { readCheckpointFile, writeCheckpointFile, formatCheckpoint, type SourcePositions } from '../checkpoint/checkpoint-file.js';
import type { EventWriter } from '../codec/event-writer.js';
import type { LogEvent } from '../event/event.js';
import { FINGERPRINT_BYTES, makeIdentity, readHead, readHeadSync, type FileIdentity } from './file-identity.js';
import { FileDiscovery, type FoundFile } from './file-discovery.js';
import { describeFileType } from './file-type.js';
import { PathTrouble } from './path-trouble.js';
import { FileSource, startsWith } from './file-source.js';
import { KnownPositions } from './known-positions.js';
import { LinePipeline, type PipelineOptions } from './line-pipeline.js';
import { multilineFactory } from './multiline.js';
import { expandTag } from './tag.js';
import { MAX_BYTES_PER_TURN, READ_BYTES, SMALL_READ_BYTES, type TailOptions } from './tail-options.js';
import { Signal } from '../stream/signal.js';

/** Shortest time between two rescans asked for by directory events. */
const RESCAN_GAP_MS = 50;
/**
 * A file event wakes the tailer this long later, so the lines a writer appends in a burst (or
 * one at a time at a modest rate) are read and sent on together: at 1,000 lines/s each line
 * alone costs every stage downstream a read, a write and the store an fsync. A few ms of delay
 * buys batches of several lines. While a file keeps growing, tail reads it every this long with
 * its directory watches paused (see FileDiscovery.pause), so it wakes once per batch, not once
 * per write.
 */
const WAKE_COALESCE_MS = 8;

/** What reading a file gave: nothing new, all there was, or not all yet (read on at once). */
type ReadResult = 'none' | 'read' | 'more';

/**
 * Follows files: finds them (globs, rescans, directory watches), reads each from the right
 * place, survives rotation, and saves positions.
 *
 * Files are known by device + inode, never by name, so a renamed file is the same file and a
 * new file under an old name is a new one. Every read is checked against the file's
 * fingerprint (its first bytes) after it is made (and a file whose size stood still, before), so
 * a truncation — even one the writer has already written past — is seen, and data read from a
 * rewritten file is never emitted as if it were the old content.
 */
export class Tailer {
  private readonly sources = new Map<string, FileSource>();
  private readonly known = new KnownPositions();
  private readonly readBuffers = [Buffer.allocUnsafe(READ_BYTES), Buffer.allocUnsafe(READ_BYTES)];
  private readonly startupSizes = new Map<string, number>();
  private discovery!: FileDiscovery;
  private stopping = false;
  private woken = false;
  private readonly changed = new Signal();
  private rescanRequested = false;
  private lastScan = 0;
  private lastPosSave = 0;
  private lastPosText = '';
  private warnedOpenLimit = false;
  /** Paths that could not be followed or read, each reported once until it recovers. */
  private readonly trouble = new PathTrouble();

  constructor(
    private readonly options: TailOptions,
    private readonly writer: EventWriter,
    private readonly out: Writable,
  ) {}

  stop(): void {
    this.stopping = true;
    this.wake();
  }

  async run(): Promise<void> {
    const { options } = this;
    if (options.pos) this.known.load(await readCheckpointFile(options.pos));
    if (options.checkpoint) this.known.override(await readCheckpointFile(options.checkpoint));
    const excluded = [options.pos, options.checkpoint].filter((p): p is string => p !== undefined);
    this.discovery = new FileDiscovery(
      options.paths,
      excluded,
      (kind) => {
        if (kind === 'rename') this.rescanRequested = true;
        this.wake();
      },
      options.symlinks,
      (path, reason) => this.trouble.skipped(path, reason),
    );
    try {
      await this.rescan(true);
      await this.reportMissing();
      await this.savePositions(); // fails early when the position file cannot be written
      if (!options.follow) {
        while (!this.stopping && (await this.turn()) !== 'none') {}
        for (const source of this.sources.values()) if (source.state === 'active') await this.emit(source.pipeline.flushAll());
      } else {
        await this.follow();
      }
      await this.savePositions();
      // --no-follow: the files that could be read were read whole; the others make the exit status
      const unread = this.trouble.unreadablePaths();
      if (!options.follow && unread.length > 0) {
        throw new CliError(`${unread.length} file(s) could not be read: ${unread.join(', ')}`, ExitCode.IO_ERROR);
      }
    } finally {
      this.discovery.close();
      await Promise.all([...this.sources.values()].map((s) => s.handle.close().catch(() => undefined)));
    }
  }

  private async follow(): Promise<void> {
    const o = this.options;
    while (!this.stopping) {
      let now = Date.now();
      // directory events ask for a rescan; a burst of them costs one scan per RESCAN_GAP_MS
      if ((this.rescanRequested && now - this.lastScan >= RESCAN_GAP_MS) || now - this.lastScan >= o.refreshIntervalMs) await this.rescan(false);
      const got = await this.turn();
      now = Date.now();
      for (const source of this.sources.values()) {
        if (source.state === 'active') await this.emit(source.pipeline.flushIdle(now, o.partialFlushMs, o.multilineFlushMs));
      }
      await this.closeFinished(now);
      if (now - this.lastPosSave >= o.posIntervalMs) await this.savePositions();
      if (got === 'more') continue;
      if (got === 'read') {
        // a file is being written: read it again a coalescing window later, unwoken meanwhile
        await this.hold();
        continue;
      }
      // Nothing new. Coming out of a busy spell, watch again and look once more: what was written
      // between the last read and the watch raised no event.
      if (this.discovery.paused) {
        if (this.discovery.resume()) this.rescanRequested = true;
        continue;
      }
      await this.sleep(o.pollIntervalMs);
    }
    // Stopping. With a position file, held partial lines and groups stay unread: the saved
    // position is before them and the next run reads them whole. Without one, nothing could
    // resume them, so they go out now.
    if (!o.pos && !o.checkpoint) {
      for (const source of this.sources.values()) if (source.state === 'active') await this.emit(source.pipeline.flushAll());
    }
  }

  // ------------------------------------------------------------------- finding files

  private async rescan(initial: boolean): Promise<void> {
    this.rescanRequested = false;
    this.lastScan = Date.now();
    const found = await this.discovery.scan();
    const seen = new Set<string>();
    const fresh: FoundFile[] = [];
    for (const file of found) {
      const key = `${file.dev}:${file.ino}`;
      seen.add(key);
      if (initial) this.startupSizes.set(key, file.size);
      const source = this.sources.get(key);
      if (source) source.unmatchedSince = undefined;
      else fresh.push(file);
    }
    const now = Date.now();
    for (const source of this.sources.values()) if (!seen.has(source.key)) source.unmatchedSince ??= now;
    // files met before (by inode) first, so a copy is never mistaken for the original
    const knownInodes = this.known.inodeKeys();
    const met = (f: FoundFile) => (knownInodes.has(`${f.dev}:${f.ino}`) ? 0 : 1);
    fresh.sort((a, b) => met(a) - met(b));
    for (const file of fresh) await this.adopt(file, now);
  }

  /**
   * A path without glob characters that names nothing, or names something that is not a regular
   * file: an error with --no-follow, a note otherwise.
   */
  private async reportMissing(): Promise<void> {
    for (const path of this.options.paths) {
      if (isDynamicPattern(path)) continue;
      const st = await stat(path).catch(() => undefined);
      if (st?.isFile()) continue;
      if (!this.options.follow) throw new CliError(`${path}: ${st ? `${describeFileType(st)}, not a regular file` : 'no such file'}`, ExitCode.NO_INPUT);
      if (!st) log.warn(`${path}: no such file yet; waiting for it`);
    }
  }

  private async adopt(file: FoundFile, now: number): Promise<void> {
    if (this.sources.size >= this.options.maxOpenFiles) {
      if (!this.warnedOpenLimit) {
        log.warn(`more than ${this.options.maxOpenFiles} files match; the others wait until open files go away (--max-open-files)`);
        this.warnedOpenLimit = true;
      }
      return;
    }
    const handle = await open(file.path, 'r').catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') this.trouble.unreadable(file.path, error);
      return undefined; // gone since the scan, or unreadable: the next rescan tries again
    });
    if (!handle) return;
    let head: Buffer;
    try {
      const st = await handle.stat();
      // The name must still lead to the file the scan vetted: a path swapped meanwhile (for a
      // link the --symlinks policy refuses, say) waits for the next scan.
      if (this.sources.has(`${st.dev}:${st.ino}`) || st.dev !== file.dev || st.ino !== file.ino || !st.isFile()) {
        await handle.close();
        return;
      }
      head = await readHead(handle);
      file.size = st.size;
    } catch (error) {
      await handle.close().catch(() => undefined);
      this.trouble.unreadable(file.path, error as Error);
      return;
    }
    this.trouble.recovered(file.path);
    const key = `${file.dev}:${file.ino}`;
    const tag = expandTag(this.options.tag, file.path);
    const pipeline = new LinePipeline(this.pipelineOptions(file.path, tag), 0);
    const source = new FileSource(file.path, file.dev, file.ino, handle, pipeline, this.startupSizes.get(key));
    source.size = file.size;
    this.sources.set(key, source);
    await this.classify(source, head, now);
  }

  private pipelineOptions(path: string, tag: string): PipelineOptions {
    const o = this.options;
    return {
      maxLineBytes: o.maxLineBytes,
      format: o.format,
      multiline: multilineFactory(o.multiline, o.multilineStart),
      tag,
      pathKey: o.pathKey,
      path,
    };
  }

  /** Decides where a newly found file is read from (see FileSource for the states). */
  private async classify(source: FileSource, head: Buffer, now: number): Promise<void> {
    const byInode = this.known.takeByInode(source.dev, source.ino, head);
    if (byInode.match) return this.activate(source, head, byInode.match.off, byInode.match.identity);
    if (byInode.inodeKnown) return this.activate(source, head, 0); // inode reused or file rewritten: all of it is new
    if (head.length === 0) return; // nothing to tell it by yet

    let prefixOfLive = false;
    for (const live of this.sources.values()) {
      if (live === source || live.state !== 'active' || !live.head) continue;
      if (startsWith(head, live.head)) {
        source.state = 'copy';
        source.copyOf = live;
        source.head = Buffer.from(head);
        return;
      }
      if (startsWith(live.head, head)) prefixOfLive = true;
    }
    // A copy still being written may so far hold only part of the original's first bytes.
    if (prefixOfLive && this.options.follow && now - source.discoveredAt < this.options.rotateWaitMs) return;

    // (a remembered position of content that is still in an open file is not a copy's)
    const earlier = this.known.takeByFingerprint(head, (identity) => this.sources.get(`${identity.dev}:${identity.ino}`)?.identity?.id === identity.id);
    if (earlier) return this.activate(source, head, earlier.off);
    const fromHead = this.options.fromHead || !this.options.follow || source.initialSize === undefined;
    this.activate(source, head, fromHead ? 0 : source.initialSize!);
  }

  private activate(source: FileSource, head: Buffer, off: number, identity?: FileIdentity): void {
    source.state = 'active';
    source.copyOf = undefined;
    this.setIdentity(source, head, identity);
    source.pipeline.reset(off);
  }

  private setIdentity(source: FileSource, head: Buffer, identity?: FileIdentity): void {
    if (!identity && head.length > 0) identity = makeIdentity(source.dev, source.ino, head, Math.min(head.length, FINGERPRINT_BYTES));
    source.identity = identity;
    source.head = identity ? Buffer.from(head.subarray(0, identity.fpLen)) : undefined;
    source.pipeline.id = identity?.id;
  }

  // ------------------------------------------------------------------- reading

  /** One turn over every file: what the busiest of them gave. */
  private async turn(): Promise<ReadResult> {
    let got: ReadResult = 'none';
    const now = Date.now();
    for (const source of [...this.sources.values()]) {
      if (this.stopping) break;
      if (!this.sources.has(source.key)) continue; // closed during this turn
      try {
        if (source.state === 'undecided') {
          await this.classify(source, await readHead(source.handle), now);
          if ((source.state as string) === 'active') got = 'more';
        } else if (source.state === 'active') {
          const read = await this.read(source);
          if (read === 'more' || got === 'none') got = read;
        }
      } catch (error) {
        // One file's I/O error (EIO from a failing disk, say) must not stop the others: it is
        // let go here and adopted again, from its saved position, at the next rescan.
        this.trouble.unreadable(source.path, error as Error);
        await this.letGo(source);
      }
    }
    return got;
  }

  /**
   * Reads what is new in a file. The fstat and a small read are made at once (see
   * SMALL_READ_BYTES); a larger one goes through the thread pool.
   */
  private async read(source: FileSource): Promise<ReadResult> {
    const { handle, pipeline } = source;
    const st = fstatSync(handle.fd);
    source.size = st.size;
    let off = pipeline.pos;
    if (st.size < off) {
      await this.truncated(source, st.size);
      return 'more';
    }
    // (a modification time is coarse: an idle file's fingerprint is also checked once a second)
    const now = Date.now();
    const modified = st.mtimeMs !== source.mtimeMs || now - source.verifiedAt >= 1000;
    source.mtimeMs = st.mtimeMs;
    if (modified) source.verifiedAt = now;
    if (st.size === off) {
      // Same size but written to: truncated and rewritten to exactly the old length (it happens
      // with fixed-length lines); only the fingerprint tells. (A file that grew is checked after
      // its read, below.)
      if (modified && source.head && off > 0 && !startsWith(readHeadSync(handle), source.head)) {
        await this.truncated(source, st.size);
        return 'more';
      }
      return 'none';
    }
    if (st.size - off <= SMALL_READ_BYTES) return this.readSmall(source, st.size);
    // Two buffers: the next chunk is read while this one is split and encoded.
    const buffers = this.readBuffers;
    let which = 0;
    let requested = 0;
    const request = (at: number) => {
      const want = Math.min(READ_BYTES, MAX_BYTES_PER_TURN - requested);
      if (want <= 0) return undefined;
      requested += want;
      const buffer = buffers[which]!;
      which ^= 1;
      const reading = handle.read(buffer, 0, want, at).then(({ bytesRead }) => ({ chunk: buffer.subarray(0, bytesRead), want }));
      reading.catch(() => undefined); // a failure is met when awaited, not as an unhandled rejection meanwhile
      return reading;
    };
    let next = request(off);
    let full = false;
    while (next) {
      const { chunk, want } = await next;
      if (chunk.length === 0) break;
      full = chunk.length === want;
      next = full ? request(off + chunk.length) : undefined;
      // Read first, check after: if the file was truncated and rewritten meanwhile, these
      // bytes may be the new content; they are dropped and read again from the right place.
      const head = off === 0 ? chunk : await readHead(handle);
      if (!source.head) {
        this.setIdentity(source, head);
      } else if (!startsWith(head, source.head)) {
        await next?.catch(() => undefined);
        await this.truncated(source, st.size);
        return 'more';
      }
      const events = pipeline.push(chunk);
      off += chunk.length;
      source.size = Math.max(source.size, off);
      await this.emit(events);
      // a long catch-up must not leave the saved positions behind for its whole duration
      if (Date.now() - this.lastPosSave >= this.options.posIntervalMs) await this.savePositions();
    }
    // stopped by the per-turn bound with the last read full: there is more to read now
    return full && requested >= MAX_BYTES_PER_TURN ? 'more' : 'read';
  }

  /** Reads up to `size` from where the file was read to, at once, checking the fingerprint after. */
  private async readSmall(source: FileSource, size: number): Promise<ReadResult> {
    const { handle, pipeline } = source;
    const off = pipeline.pos;
    const buffer = this.readBuffers[0]!;
    const chunk = buffer.subarray(0, readSync(handle.fd, buffer, 0, size - off, off));
    if (chunk.length === 0) return 'none';
    // read first, check after (as above)
    const head = off === 0 ? chunk : readHeadSync(handle);
    if (!source.head) {
      this.setIdentity(source, head);
    } else if (!startsWith(head, source.head)) {
      await this.truncated(source, size);
      return 'more';
    }
    const events = pipeline.push(chunk);
    source.size = Math.max(source.size, off + chunk.length);
    await this.emit(events);
    return 'read';
  }

  /**
   * The file is shorter than what was read, or its first bytes changed: copytruncate, a
   * rewrite, or a file cut shorter in place.
   */
  private async truncated(source: FileSource, size: number): Promise<void> {
    const { pipeline } = source;
    const head = await readHead(source.handle);
    if (source.head && size > 0 && startsWith(head, source.head)) {
      // Cut shorter in place, same beginning: what is left was read already.
      pipeline.reset(Math.min(pipeline.emittedEnd, size));
      return;
    }
    // The rotated copy exists before the truncation (logrotate copies, then truncates): look
    // for it now, so the unread rest of the old content is read from the copy.
    await this.rescan(false);
    for (const other of [...this.sources.values()]) {
      // a copy found earlier while it was still being written: it can be told apart now
      if (other.state === 'undecided') await this.classify(other, await readHead(other.handle), Date.now());
    }
    const copies = [...this.sources.values()].filter((s) => s.state === 'copy' && s.copyOf === source);
    if (copies.length > 0) {
      const [copy, ...others] = copies;
      this.takeOver(copy!, source, pipeline.emittedEnd);
      for (const other of others) other.copyOf = copy;
    } else {
      // No copy to be found: let out what is held (it cannot be read again) and remember the
      // old content's position in case its copy shows up later.
      await this.emit(pipeline.flushAll());
      if (source.identity) this.known.add(source.identity, pipeline.emittedEnd, source.path);
    }
    pipeline.reset(0);
    this.setIdentity(source, Buffer.alloc(0));
  }

  /** A copy continues where its original stopped, under the original's name and tag. */
  private takeOver(copy: FileSource, original: FileSource, off: number): void {
    copy.pipeline.setPath(original.path, original.pipeline.tag);
    this.activate(copy, copy.head ?? Buffer.alloc(0), off);
  }

  private async closeFinished(now: number): Promise<void> {
    for (const source of [...this.sources.values()]) {
      if (source.unmatchedSince === undefined || now - source.unmatchedSince < this.options.rotateWaitMs) continue;
      if (source.state === 'active') {
        // a renamed or deleted file is drained to its end before it is let go
        await this.read(source).catch(() => undefined);
        if (source.state === 'active' && !source.atEnd()) continue;
      }
      await this.close(source);
    }
  }

  private async close(source: FileSource): Promise<void> {
    if (source.state === 'active') {
      await this.emit(source.pipeline.flushAll());
      if (source.identity) this.known.add(source.identity, source.pipeline.emittedEnd, source.path);
      for (const copy of this.sources.values()) {
        if (copy.state === 'copy' && copy.copyOf === source) this.takeOver(copy, source, source.pipeline.emittedEnd);
      }
    }
    this.sources.delete(source.key);
    await source.handle.close().catch(() => undefined);
  }

  /**
   * Drops a file that failed to read without flushing what it holds: its position is remembered
   * just past the last line emitted, so a held partial line is read whole when it is adopted again.
   */
  private async letGo(source: FileSource): Promise<void> {
    if (source.state === 'active' && source.identity) this.known.add(source.identity, source.pipeline.emittedEnd, source.path);
    this.sources.delete(source.key);
    await source.handle.close().catch(() => undefined);
  }

  private async emit(events: LogEvent[]): Promise<void> {
    if (events.length > 0) await this.writer.write(events);
  }

  // ------------------------------------------------------------------- positions

  /**
   * Saves every open file's emitted offset (and the remembered ones) when they changed: after
   * everything emitted has reached the OS, so a saved position never covers a line that could
   * still be lost inside this process.
   */
  private async savePositions(): Promise<void> {
    this.lastPosSave = Date.now();
    const path = this.options.pos;
    if (!path) return;
    this.known.expire();
    const positions: SourcePositions = new Map();
    for (const source of this.sources.values()) {
      if (source.state === 'active' && source.identity) positions.set(source.identity.id, { off: source.pipeline.emittedEnd, path: source.path });
    }
    this.known.toPositions(positions);
    const text = formatCheckpoint(positions);
    if (text === this.lastPosText) return;
    await new Promise<void>((resolve) => this.out.write(Buffer.alloc(0), () => resolve()));
    try {
      await writeCheckpointFile(path, positions);
    } catch (error) {
      throw new CliError(`--pos ${path}: cannot write: ${(error as Error).message}`, ExitCode.CANT_CREATE);
    }
    this.lastPosText = text;
  }

  // ------------------------------------------------------------------- waiting

  private wake(): void {
    this.woken = true;
    this.changed.notify();
  }

  /**
   * Sleeps until the poll interval passes or something wakes the loop. A wake-up that came
   * before (or while the loop was waking) is kept for the next sleep: at worst one turn too many,
   * never a wake-up lost. A file event ends the sleep WAKE_COALESCE_MS later (see hold); stop()
   * ends it at once.
   */
  private async sleep(ms: number): Promise<void> {
    if (!this.woken) await this.changed.wait(ms);
    if (!this.woken) return; // the poll interval passed
    await this.hold();
  }

  /**
   * Waits WAKE_COALESCE_MS with the directory watches paused, so the writes meanwhile wake
   * nothing (the next turn reads them together); stop() ends the wait at once. A directory that
   * changed meanwhile asks for a rescan, as its rename event would have.
   */
  private async hold(): Promise<void> {
    this.discovery.pause();
    this.woken = false;
    const until = Date.now() + WAKE_COALESCE_MS;
    for (let left = WAKE_COALESCE_MS; left > 0 && !this.stopping; left = until - Date.now()) await this.changed.wait(left);
    if (this.discovery.dirsChanged()) this.rescanRequested = true;
  }
}
