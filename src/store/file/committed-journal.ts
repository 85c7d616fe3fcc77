import { createHash } from 'node:crypto';
import { mkdir, open, readFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { replaceFileAtomically } from '../../checkpoint/checkpoint-file.js';
import { CommittedRanges, normalizeRanges, type RangesRecord } from '../../checkpoint/committed-ranges.js';
import { appendBytes } from './append-bytes.js';
import { isOtherLiveWriter, thisProcess, type WriterProcess } from './writer-process.js';

/** The journal is folded into a new snapshot once it grows past this (or past the snapshot, when that is bigger). */
const JOURNAL_FOLD_BYTES = 4 * 1024 * 1024;
const SNAPSHOT_VERSION = 1;

/** A file a batch appends to: its inode, its size before the batch and the size the batch takes it to. */
export interface IntendedWrite {
  path: string;
  ino: number;
  size: number;
  end: number;
}

/**
 * Where the file store keeps the source positions it has committed (CommittedRanges), so that
 * a replay is recognised across restarts: BASE/.logkit-store/committed/<template digest>.
 *
 * - `.snapshot`: every source's ranges, `{"version":1,"sources":{"<id>":[from,to,…]}}`, replaced
 *   atomically.
 * - `.journal`: one line per commit, `["commit",{"pid","start"},{"<id>":[from,to,…]}]`, appended
 *   after the commit's files are written (and fsynced, per --fsync), before the commit is
 *   acknowledged. Before a batch's appends, an intent line `["intent",{"pid","start"},[{"path",
 *   "ino","size","end"},…]]` names every file the batch writes. A process's commit line commits
 *   every intent of that process before it (stores with other tags on the same template share
 *   the journal); intents of a process that is gone with no commit line after them are the
 *   writes of batches a crash left unacknowledged, which `open` hands to `undo` (see
 *   uncommitted-writes.ts) before anything else is written. A line that is a bare object is a
 *   commit line of an earlier release. Folded into the snapshot when it grows, and at every
 *   start (which also drops a line torn by a crash), never between this process's intent and
 *   its commit line; a fold forgets other live stores' intents, so a crash of theirs just then
 *   may leave a duplicate, never a loss.
 *
 * The digest of the template names the files: two stores with different templates in one base
 * directory keep separate journals (one store per template, as for the files themselves).
 */
export class CommittedJournal {
  private journal: FileHandle | undefined;
  private journalBytes = 0;
  private snapshotBytes = 0;
  private readonly snapshotPath: string;
  private readonly journalPath: string;
  /** An intent line was written since the last commit line: the next commit needs a line, even with no positions. */
  private intentPending = false;
  /** Per writer process, per file (and inode), the writes of intents that no commit line of that process followed, as loaded at start. */
  private readonly uncommitted = new Map<string, { writer: WriterProcess; writes: Map<string, IntendedWrite> }>();
  private readonly writer = thisProcess();

  private constructor(
    private readonly dir: string,
    name: string,
    readonly ranges: CommittedRanges,
    private readonly durable: boolean,
  ) {
    this.snapshotPath = join(dir, `${name}.snapshot`);
    this.journalPath = join(dir, `${name}.journal`);
  }

  /**
   * Loads what earlier runs committed; `durable` fsyncs every commit line (--fsync always and
   * interval). The writes of batches left unacknowledged by a crash go to `undo`, which must
   * have undone them (durably) when it resolves: only then is the journal folded, which forgets
   * their intents (a crash before that undoes them again, to the same sizes).
   */
  static async open(
    baseDir: string,
    template: string,
    durable: boolean,
    log: (message: string) => void,
    undo: (writes: IntendedWrite[]) => Promise<void>,
  ): Promise<CommittedJournal> {
    const dir = join(baseDir, '.logkit-store', 'committed');
    await mkdir(dir, { recursive: true });
    const name = createHash('sha256').update(template).digest('hex').slice(0, 32);
    const journal = new CommittedJournal(dir, name, new CommittedRanges(), durable);
    await journal.load(log);
    const left = [...journal.uncommitted.values()].filter(({ writer }) => !isOtherLiveWriter(writer)).flatMap(({ writes }) => [...writes.values()]);
    if (left.length > 0) await undo(left);
    journal.uncommitted.clear();
    await journal.fold();
    return journal;
  }

  /** Whether the next commit must write a line even without new positions (it commits an intent). */
  get needsCommitLine(): boolean {
    return this.intentPending;
  }

  /**
   * Records the files a batch is about to append to, before it does. `durable`: fsynced first
   * (--fsync always: the appends may reach the disk before the line would otherwise; a kill -9
   * needs no fsync, the line is in the page cache).
   */
  async intend(writes: readonly IntendedWrite[], durable: boolean): Promise<void> {
    this.intentPending = true;
    await this.write(JSON.stringify(['intent', this.writer, writes]) + '\n', durable);
  }

  /** Records one commit's new ranges (source id → flat ranges); durable when it resolves (if `durable`). */
  async append(record: RangesRecord): Promise<void> {
    // one line: a commit torn off its intent's clearing could cut an acknowledged batch
    await this.write(JSON.stringify(['commit', this.writer, record]) + '\n', this.durable);
    this.intentPending = false;
    if (this.journalBytes > Math.max(JOURNAL_FOLD_BYTES, this.snapshotBytes)) await this.fold();
  }

  private async write(line: string, durable: boolean): Promise<void> {
    this.journal ??= await open(this.journalPath, 'a');
    await appendBytes(this.journal, line);
    if (durable) await this.journal.datasync();
    this.journalBytes += Buffer.byteLength(line);
  }

  async close(): Promise<void> {
    await this.journal?.close();
    this.journal = undefined;
  }

  /** Writes every range to a new snapshot, then empties the journal (a crash in between replays it again: adding ranges twice changes nothing). */
  private async fold(): Promise<void> {
    const text = JSON.stringify({ version: SNAPSHOT_VERSION, sources: this.ranges.toRecord() }) + '\n';
    await replaceFileAtomically(this.snapshotPath, text);
    this.snapshotBytes = Buffer.byteLength(text);
    this.journal ??= await open(this.journalPath, 'a');
    await this.journal.truncate(0);
    if (this.durable) await this.journal.datasync();
    this.journalBytes = 0;
  }

  private async load(log: (message: string) => void): Promise<void> {
    const snapshot = await readIfExists(this.snapshotPath);
    if (snapshot !== undefined) {
      const doc = parseJSON(snapshot) as { version?: unknown; sources?: RangesRecord } | undefined;
      if (doc?.version !== SNAPSHOT_VERSION || !doc.sources || typeof doc.sources !== 'object') {
        // forgetting positions only lets replays be stored again (duplicates), never loses events
        log(`${this.snapshotPath}: not a version ${SNAPSHOT_VERSION} snapshot; starting without the positions it held`);
      } else {
        this.addAll(doc.sources);
      }
    }
    const journal = await readIfExists(this.journalPath);
    if (journal === undefined) return;
    const lines = journal.split('\n');
    let unreadable = 0;
    for (let i = 0; i < lines.length; i++) {
      if (lines[i] === '') continue;
      const line = parseJSON(lines[i]!);
      // the last line may be torn by a crash: what it held was never acknowledged
      if (!line || typeof line !== 'object') {
        if (i < lines.length - 1) unreadable++;
      } else if (!Array.isArray(line)) {
        this.addAll(line as RangesRecord); // an earlier release's commit line
      } else if (isWriter(line[1]) && line[2] && typeof line[2] === 'object') {
        if (line[0] === 'intent' && Array.isArray(line[2])) this.addIntent(line[1], line[2]);
        else if (line[0] === 'commit') {
          this.addAll(line[2] as RangesRecord);
          this.uncommitted.delete(writerKey(line[1]));
        }
      }
    }
    if (unreadable > 0) log(`${this.journalPath}: ${unreadable} unreadable lines skipped (replays of their events are stored again)`);
  }

  /** Several uncommitted intents on one file (--fsync interval) undo back to the first one's size. */
  private addIntent(writer: WriterProcess, writes: unknown[]): void {
    const key = writerKey(writer);
    let pending = this.uncommitted.get(key);
    if (!pending) this.uncommitted.set(key, (pending = { writer, writes: new Map() }));
    for (const w of writes) {
      if (!isIntendedWrite(w)) continue;
      const file = `${w.ino}:${w.path}`;
      const earlier = pending.writes.get(file);
      pending.writes.set(file, earlier ? { ...earlier, end: w.end } : w);
    }
  }

  private addAll(record: RangesRecord): void {
    for (const id in record) {
      const flat = record[id];
      if (Array.isArray(flat) && flat.every((n) => Number.isSafeInteger(n) && n >= 0)) this.ranges.addRanges(id, normalizeRanges(flat));
    }
  }
}

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

function isWriter(w: unknown): w is WriterProcess {
  const o = w as WriterProcess | null;
  return typeof o === 'object' && o !== null && Number.isSafeInteger(o.pid) && (o.start === undefined || typeof o.start === 'string');
}

function writerKey(w: WriterProcess): string {
  return `${w.pid}:${w.start ?? ''}`;
}

function isIntendedWrite(w: unknown): w is IntendedWrite {
  const o = w as IntendedWrite | null;
  return (
    typeof o === 'object' &&
    o !== null &&
    typeof o.path === 'string' &&
    typeof o.ino === 'number' && // may be above 2^53: compared as stat gives it, rounded the same way
    [o.size, o.end].every((n) => Number.isSafeInteger(n) && n >= 0) &&
    o.size <= o.end
  );
}

function parseJSON(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
