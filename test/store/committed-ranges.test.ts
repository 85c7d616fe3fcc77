import { appendFile, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import { CommittedRanges, normalizeRanges } from '../../src/checkpoint/committed-ranges.js';
import { CommittedJournal } from '../../src/store/file/committed-journal.js';
import { tempDir } from '../helpers/logkit.js';
import { range } from './store-helpers.js';

test('out of order: 100–199 committed, then 0–99 (a resend after later chunks succeeded) is new, then 0–199 is all committed, in one range', (t) => {
  const ranges = new CommittedRanges();
  ranges.addOffsets('a', range(100, 200));
  t.deepEqual(range(0, 100).filter((off) => ranges.has('a', off)), [], 'below the highest offset committed is not committed');
  ranges.addOffsets('a', range(0, 100).reverse());
  t.deepEqual(range(0, 200).filter((off) => !ranges.has('a', off)), []);
  t.false(ranges.has('a', 200));
  t.false(ranges.has('b', 5), 'sources are apart');
  t.is(ranges.size, 1, 'consecutive offsets merge into one range');
});

test('offsets with room between them (byte offsets of lines) never merge: an event that went elsewhere stays new', (t) => {
  const ranges = new CommittedRanges();
  ranges.addOffsets('a', [57, 114, 171]);
  ranges.addOffsets('a', [342, 399]);
  t.true(ranges.has('a', 114));
  t.false(ranges.has('a', 228), 'between two committed events');
  t.false(ranges.has('a', 100));
  t.is(ranges.size, 5);
  ranges.addOffsets('a', [228, 285]);
  t.true(ranges.has('a', 228));
});

test('bounded: the least recently committed source goes first, then the lowest ranges; forgetting only makes a replay new again', (t) => {
  const ranges = new CommittedRanges({ maxSources: 2, maxRanges: 5 });
  ranges.addOffsets('a', [10]);
  ranges.addOffsets('b', [10]);
  ranges.addOffsets('a', [20]);
  ranges.addOffsets('c', [10]); // b is the least recently committed
  t.false(ranges.has('b', 10));
  t.true(ranges.has('a', 10) && ranges.has('c', 10));
  ranges.addOffsets('c', [30, 50, 70, 90]); // 2 + 5 ranges > 5: a (least recent) loses its lowest ranges first
  t.is(ranges.size, 5);
  t.is(ranges.sourceCount, 1);
  t.deepEqual([10, 30, 50, 70, 90].filter((off) => ranges.has('c', off)), [10, 30, 50, 70, 90]);
  t.is(ranges.forgotten, 1 + 2);
});

test('ranges read from a file are sorted, merged, and ill-formed pairs dropped', (t) => {
  t.deepEqual(normalizeRanges([50, 60, 0, 10, 11, 20, 30, 25, 55, 70, 99]), [0, 20, 50, 70]);
});

test('the journal: positions survive a restart; a torn last line and a corrupt snapshot only forget positions (replays are stored again)', async (t) => {
  const dir = await tempDir(t);
  const logs: string[] = [];
  const log = (m: string): void => void logs.push(m);
  const noUndo = async (): Promise<void> => {}; // no intents here (uncommitted-writes.test.ts has them)
  const first = await CommittedJournal.open(dir, 'T', true, log, noUndo);
  for (const [id, offs] of [['a', range(100, 200)], ['a', range(0, 100)], ['b', [57, 114]]] as const) {
    await first.append({ [id]: first.ranges.addOffsets(id, offs) });
  }
  await first.close();
  const stateDir = join(dir, '.logkit-store', 'committed');
  const [journalName] = (await readdir(stateDir)).filter((n) => n.endsWith('.journal'));
  await appendFile(join(stateDir, journalName!), '{"c":[1,'); // a crash mid-append

  const second = await CommittedJournal.open(dir, 'T', true, log, noUndo);
  t.true(range(0, 200).every((off) => second.ranges.has('a', off)));
  t.true(second.ranges.has('b', 114) && !second.ranges.has('b', 100));
  t.false(second.ranges.has('c', 1), 'the torn line was never acknowledged');
  t.deepEqual(logs, [], 'a torn last line is expected after a crash: no message');
  t.is(await readFile(join(stateDir, journalName!), 'utf8'), '', 'folded into the snapshot at start');
  await second.close();

  await writeFile(join(stateDir, journalName!.replace('.journal', '.snapshot')), 'not json');
  const third = await CommittedJournal.open(dir, 'T', true, log, noUndo);
  t.is(third.ranges.size, 0);
  t.regex(logs.join('\n'), /not a version 1 snapshot; starting without the positions it held/);
  await third.close();

  const other = await CommittedJournal.open(dir, 'another template', true, log, noUndo);
  t.is(other.ranges.size, 0, 'another template keeps its own positions');
  await other.close();
});
