import { createHash } from 'node:crypto';
import { appendFile, mkdir, open, readFile, rename, stat, truncate, unlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import test from 'ava';
import type { LogEvent } from '../../src/event/event.js';
import { CommittedJournal } from '../../src/store/file/committed-journal.js';
import { FileSink, type FileStoreOptions } from '../../src/store/file/file-sink.js';
import { undoUncommittedWrites } from '../../src/store/file/uncommitted-writes.js';
import { stampOf } from '../../src/base/process-stamp.js';
import { tempDir } from '../helpers/logkit.js';
import { makeEvents, range, sourcedEvents } from './store-helpers.js';

/**
 * The start-up recovery of the file store: the appends of a batch that a crash left without its
 * commit line are cut back, and only when the file is still the one the intent names.
 */

const TEMPLATE = 'T';

type Batch = ReadonlyArray<readonly [string, Buffer]>;

/** What a store killed between a batch's appends and its commit line leaves: intent lines, each followed by its appends. */
async function crashInWindow(dir: string, ...batches: Batch[]): Promise<void> {
  const journal = await CommittedJournal.open(dir, TEMPLATE, true, () => {}, async () => {});
  for (const appends of batches) {
    const writes = [];
    for (const [path, bytes] of appends) {
      const handle = await open(path, 'a');
      const { ino, size } = await handle.stat();
      await handle.close();
      writes.push({ path, ino, size, end: size + bytes.length });
    }
    await journal.intend(writes, true);
    for (const [path, bytes] of appends) await appendFile(path, bytes);
  }
  await journal.close(); // no commit line: the process is gone
}

/** The next start: loads the journal and undoes what it names; returns what it said. */
async function restart(dir: string): Promise<string[]> {
  const said: string[] = [];
  const log = (m: string): void => void said.push(m);
  const journal = await CommittedJournal.open(dir, TEMPLATE, true, log, (writes) => undoUncommittedWrites(writes, log));
  await journal.close();
  return said;
}

test('ndjson: the batch without a commit line is cut off, what was committed before stays; the intents are then forgotten', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'a.ndjson');
  const journal = await CommittedJournal.open(dir, TEMPLATE, true, () => {}, async () => {});
  await journal.intend([{ path, ino: 0, size: 0, end: 0 }], true); // an intent that its commit line follows
  await writeFile(path, '{"committed":1}\n');
  await journal.append({ src: [1, 1] });
  await journal.close();
  await crashInWindow(dir, [[path, Buffer.from('{"uncommitted":2}\n{"uncommitted":3}\n')]]);

  const said = await restart(dir);
  t.is(await readFile(path, 'utf8'), '{"committed":1}\n');
  t.regex(said.join('\n'), /removed 36 bytes of a batch not acknowledged/);
  t.deepEqual(await restart(dir), [], 'the journal was folded: a second start undoes nothing');
  t.is(await readFile(path, 'utf8'), '{"committed":1}\n');
});

test('gzip: the member the batch appended is cut off whole; the file still decompresses to what was committed', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'a.ndjson.gz');
  await writeFile(path, gzipSync('committed 1\n'));
  await crashInWindow(dir, [[path, gzipSync('uncommitted 2\n')]]);
  t.is(gunzipSync(await readFile(path)).toString(), 'committed 1\nuncommitted 2\n');
  await restart(dir);
  t.is(gunzipSync(await readFile(path)).toString(), 'committed 1\n');
});

test('several uncommitted batches on one file (--fsync interval) and a new file: each cut back to its size before the first of them', async (t) => {
  const dir = await tempDir(t);
  const a = join(dir, 'a.log');
  const b = join(dir, 'b.log');
  await writeFile(a, 'kept\n');
  await crashInWindow(
    dir,
    [[a, Buffer.from('one\n')]],
    [
      [a, Buffer.from('two\n')],
      [b, Buffer.from('new file\n')],
    ],
  );
  await restart(dir);
  t.is(await readFile(a, 'utf8'), 'kept\n');
  t.is((await stat(b)).size, 0, 'a file the batch created is emptied');
});

test('a file the intent names that is gone, or another file under its name (rotated): left alone, said, and the store starts', async (t) => {
  const dir = await tempDir(t);
  const gone = join(dir, 'gone.log');
  const rotated = join(dir, 'rotated.log');
  await crashInWindow(dir, [
    [gone, Buffer.from('batch\n')],
    [rotated, Buffer.from('batch\n')],
  ]);
  await unlink(gone);
  await rename(rotated, `${rotated}.1`); // kept, so that the new file cannot get its inode
  await writeFile(rotated, 'a new file, written by someone else meanwhile\n');

  const said = (await restart(dir)).join('\n');
  t.regex(said, /gone\.log: .* gone since/);
  t.regex(said, /rotated\.log: .* replaced since/);
  t.is(await readFile(rotated, 'utf8'), 'a new file, written by someone else meanwhile\n');
  t.is(await readFile(`${rotated}.1`, 'utf8'), 'batch\n', 'the rotated file is not looked for');
});

test('a file that grew past what the batch wrote (a run with --dedup off since), or shrank below its size: never cut', async (t) => {
  const dir = await tempDir(t);
  const grew = join(dir, 'grew.log');
  const shrank = join(dir, 'shrank.log');
  await writeFile(grew, 'before\n');
  await writeFile(shrank, 'before\n');
  await crashInWindow(dir, [
    [grew, Buffer.from('batch\n')],
    [shrank, Buffer.from('batch\n')],
  ]);
  await appendFile(grew, 'acknowledged by a later run\n');
  await truncate(shrank, 3);

  const said = (await restart(dir)).join('\n');
  t.is(await readFile(grew, 'utf8'), 'before\nbatch\nacknowledged by a later run\n');
  t.is(await readFile(shrank, 'utf8'), 'bef', 'not extended back');
  t.regex(said, /grew\.log: is 41 bytes, not the 7–13/);
  t.regex(said, /shrank\.log: is 3 bytes/);
});

const sinkOptions = (template: string, fsync: FileStoreOptions['fsync'], onCommit: FileStoreOptions['onCommit'] = async () => {}): FileStoreOptions => ({
  template, format: 'ndjson', gzip: false, gzipLevel: 6, fsync, fsyncIntervalMs: 3_600_000, maxOpenFiles: 2, messageKey: 'message', dedup: true, log: () => {}, onCommit,
});

test('FileSink: batches written and not yet committed (--fsync interval) when the process stops are cut off by the next start; committed ones stay', async (t) => {
  const dir = await tempDir(t);
  const template = join(dir, '${tag}.ndjson');
  const lines = async (): Promise<number> => {
    let n = 0;
    for (const tag of ['a', 'b', 'c']) n += (await readFile(join(dir, `${tag}.ndjson`), 'utf8').catch(() => '')).split('\n').length - 1;
    return n;
  };
  const tagged = (events: LogEvent[]): LogEvent[] => events.map((e, i) => ({ ...e, tag: ['a', 'b', 'c'][i % 3]! }));
  const committed = new FileSink(sinkOptions(template, 'always'));
  await committed.open();
  await committed.write(tagged(sourcedEvents(range(0, 30), 's')));
  await committed.close();

  // three files, two open at most: the intent opens, evicts and reopens them
  const crashed = new FileSink(sinkOptions(template, 'interval'));
  await crashed.open();
  await crashed.write(tagged(sourcedEvents(range(30, 60), 's')));
  await crashed.write(tagged(makeEvents(60, 30))); // no identities: cut back too
  t.is(await lines(), 90, 'written, not committed');

  const next = new FileSink(sinkOptions(template, 'always'));
  await next.open();
  t.is(await lines(), 30, 'the uncommitted batches are cut off');
  await next.write(tagged(sourcedEvents(range(0, 60), 's')));
  await next.close();
  t.is(await lines(), 60, 'the resend stores 30–59 once, 0–29 are replays');
  // the abandoned sink's timer and descriptors; it is not used again
  await crashed.close().catch(() => {});
});

test('FileSink: a batch of events without identities gets its commit line, so the next start keeps it', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'all.ndjson');
  let acknowledged = 0;
  const sink = new FileSink(sinkOptions(path, 'always', async (batch) => void (acknowledged += batch.length)));
  await sink.open();
  await sink.write(makeEvents(0, 10));
  t.is(acknowledged, 10);
  const next = new FileSink(sinkOptions(path, 'always'));
  await next.open(); // the first one was not closed, as after a kill -9
  t.is((await readFile(path, 'utf8')).split('\n').length - 1, 10, 'an acknowledged batch is never cut');
  await next.close();
  await sink.close();
});

test('stores with other tags on the same template share the journal: a live store\'s intent is never undone, and another store\'s commit line does not commit it', async (t) => {
  const dir = await tempDir(t);
  const live = join(dir, 'live.log');
  const gone = join(dir, 'gone.log');
  await writeFile(live, 'live, mid-batch\n');
  await writeFile(gone, 'gone, mid-batch\n');
  const journalPath = join(dir, '.logkit-store', 'committed', `${createHash('sha256').update(TEMPLATE).digest('hex').slice(0, 32)}.journal`);
  await mkdir(dirname(journalPath), { recursive: true });
  const intent = async (writer: object, path: string): Promise<unknown> => {
    const { ino } = await stat(path);
    return ['intent', writer, [{ path, ino, size: 0, end: 16 }]];
  };
  const pid1 = stampOf(1); // running for as long as the machine is
  const exited = { pid: process.pid, start: 'an earlier run' };
  const lines = [await intent(pid1, live), await intent(exited, gone), ['commit', { pid: 2 ** 31, start: 'another store' }, { s: [1, 1] }]];
  await writeFile(journalPath, lines.map((l) => JSON.stringify(l) + '\n').join(''));

  await restart(dir);
  t.is(await readFile(live, 'utf8'), 'live, mid-batch\n', 'the running store\'s batch is left to it');
  t.is(await readFile(gone, 'utf8'), '', 'the exited store\'s batch is undone: the other store\'s commit line did not commit it');
});
