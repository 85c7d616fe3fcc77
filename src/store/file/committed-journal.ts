import { createHash } from 'node:crypto';
import { mkdir, open, readFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { replaceFileAtomically } from '../../checkpoint/checkpoint-file.js';
import { CommittedRanges, normalizeRanges, type RangesRecord } from '../../checkpoint/committed-ranges.js';

/** The journal is folded into a new snapshot once it grows past this (or past the snapshot, when that is bigger). */
const JOURNAL_FOLD_BYTES = 4 * 1024 * 1024;
const SNAPSHOT_VERSION = 1;

/**
 * Where the file store keeps the source positions it has committed (CommittedRanges), so that
 * a replay is recognised across restarts: BASE/.logkit-store/committed/<template digest>.
 *
 * - `.snapshot`: every source's ranges, `{"version":1,"sources":{"<id>":[from,to,…]}}`, replaced
 *   atomically.
 * - `.journal`: one line per commit, `{"<id>":[from,to,…]}`, appended after the commit's files
 *   are written (and fsynced, per --fsync), before the commit is acknowledged. Folded into the
 *   snapshot when it grows, and at every start (which also drops a line torn by a crash).
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

  private constructor(
    private readonly dir: string,
    name: string,
    readonly ranges: CommittedRanges,
    private readonly durable: boolean,
  ) {
    this.snapshotPath = join(dir, `${name}.snapshot`);
    this.journalPath = join(dir, `${name}.journal`);
  }

  /** Loads what earlier runs committed; `durable` fsyncs every journal line (--fsync always and interval). */
  static async open(baseDir: string, template: string, durable: boolean, log: (message: string) => void, ranges = new CommittedRanges()): Promise<CommittedJournal> {
    const dir = join(baseDir, '.logkit-store', 'committed');
    await mkdir(dir, { recursive: true });
    const name = createHash('sha256').update(template).digest('hex').slice(0, 32);
    const journal = new CommittedJournal(dir, name, ranges, durable);
    await journal.load(log);
    await journal.fold();
    return journal;
  }

  /** Records one commit's new ranges (source id → flat ranges); durable when it resolves (if `durable`). */
  async append(record: RangesRecord): Promise<void> {
    const line = JSON.stringify(record) + '\n';
    this.journal ??= await open(this.journalPath, 'a');
    await this.journal.write(line);
    if (this.durable) await this.journal.datasync();
    this.journalBytes += Buffer.byteLength(line);
    if (this.journalBytes > Math.max(JOURNAL_FOLD_BYTES, this.snapshotBytes)) await this.fold();
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
      const record = parseJSON(lines[i]!) as RangesRecord | undefined;
      // the last line may be torn by a crash: what it held was never acknowledged
      if (record && typeof record === 'object') this.addAll(record);
      else if (i < lines.length - 1) unreadable++;
    }
    if (unreadable > 0) log(`${this.journalPath}: ${unreadable} unreadable lines skipped (replays of their events are stored again)`);
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

function parseJSON(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
