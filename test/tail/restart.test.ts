import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import { CheckpointTracker } from '../../src/checkpoint/checkpoint-tracker.js';
import type { LogEvent } from '../../src/event/event.js';
import { EventTime } from '../../src/event/event-time.js';
import { logkit, tempDir } from '../helpers/logkit.js';
import { TailProcess, countNumbers, type TailEvent } from './tail-process.js';
import { parseJSON } from '../../src/codec/ndjson.js';

const numbered = (first: number, count: number) => Array.from({ length: count }, (_, i) => `${first + i}\n`).join('');

function eventsOf(stdout: unknown): TailEvent[] {
  return String(stdout)
    .split('\n')
    .filter(Boolean)
    .map((line) => parseJSON(line) as TailEvent);
}

test('SIGKILL mid-file, restart with the same --pos: no number lost (duplicates counted)', async (t) => {
  const dir = await tempDir(t);
  const log = join(dir, 'big.log');
  const TOTAL = 300_000;
  await writeFile(log, numbered(1, TOTAL));
  const pos = join(dir, 'tail.pos');
  const first = new TailProcess(t, ['--from-head', '--pos', pos, '--pos-interval', '20ms', log]);
  // killed once it has saved a position, mid-file
  const saved = () => {
    try {
      return Object.values(JSON.parse(readFileSync(pos, 'utf8')).sources as Record<string, { off: number }>).some((s) => s.off > 0);
    } catch {
      return false;
    }
  };
  await first.waitFor(() => first.events.length >= 50_000 && saved(), 30_000, 'a saved position');
  first.child.kill('SIGKILL');
  await first.child; // what was already in the pipe is still read: it was delivered
  const seenBefore = first.messages();
  t.true(seenBefore.length < TOTAL, `killed mid-file (${seenBefore.length} lines out)`);

  const second = await logkit(['tail', '--no-follow', '--pos', pos, '-o', 'json', log]);
  t.is(second.exitCode, 0, String(second.stderr));
  const after = eventsOf(second.stdout).map((e) => String(e.record.message));
  const counts = countNumbers([...seenBefore, ...after], 1, TOTAL);
  t.log(`first run ${seenBefore.length} lines, second ${after.length}; ${counts.lost.length} lost, ${counts.duplicated.length} duplicated (at-least-once after SIGKILL)`);
  t.deepEqual(counts.lost.slice(0, 10), []);
  t.deepEqual(counts.foreign, []);
  // the saved position may lag the output by up to --pos-interval, never lead it
  t.true(counts.duplicated.length < TOTAL / 2);
});

test('SIGTERM, then restart with the same --pos: every line exactly once, a held partial line read whole', async (t) => {
  const dir = await tempDir(t);
  const log = join(dir, 'app.log');
  const pos = join(dir, 'tail.pos');
  await writeFile(log, numbered(1, 1000) + '100');
  const first = new TailProcess(t, ['--from-head', '--pos', pos, '--partial-flush', '60000ms', log]);
  await first.waitForEvents(1000);
  t.is(await first.stop(), 0);
  await writeFile(log, numbered(1, 1000) + numbered(1001, 1000));
  const second = await logkit(['tail', '--no-follow', '--pos', pos, '-o', 'json', log]);
  const counts = countNumbers([...first.messages(), ...eventsOf(second.stdout).map((e) => String(e.record.message))], 1, 2000);
  t.deepEqual(counts, { lost: [], duplicated: [], foreign: [] });
});

test('--checkpoint: tail resumes from the offsets a committing stage committed, ahead of its own --pos', async (t) => {
  const dir = await tempDir(t);
  const log = join(dir, 'app.log');
  const pos = join(dir, 'tail.pos');
  const checkpoint = join(dir, 'committed.json');
  await writeFile(log, numbered(1, 1000));
  const first = await logkit(['tail', '--no-follow', '--pos', pos, '-o', 'json', log]);
  const events = eventsOf(first.stdout);
  t.is(events.length, 1000);
  t.is(events[399]!.options!.src!.off, Buffer.byteLength(numbered(1, 400)));

  // a downstream stage commits the first 400 events (in two batches), and one from another source
  const tracker = await CheckpointTracker.open(checkpoint, { intervalMs: 10_000 });
  const asLogEvents = (list: TailEvent[]): LogEvent[] => list.map((e) => ({ tag: e.tag, time: new EventTime(0, 0), record: e.record, options: e.options as Record<string, unknown> }));
  tracker.commit(asLogEvents(events.slice(0, 150)));
  tracker.commit(asLogEvents(events.slice(150, 400)));
  tracker.commit([{ tag: 'x', time: new EventTime(0, 0), record: {}, options: { src: { id: 'elsewhere', off: 5 } } }]);
  await tracker.close();

  await writeFile(log, numbered(1, 1000) + numbered(1001, 10)); // the file grew meanwhile
  const resumed = await logkit(['tail', '--no-follow', '--pos', pos, '--checkpoint', checkpoint, '-o', 'json', log]);
  t.is(resumed.exitCode, 0, String(resumed.stderr));
  const again = eventsOf(resumed.stdout).map((e) => Number(e.record.message));
  t.deepEqual(again, Array.from({ length: 610 }, (_, i) => 401 + i));
  // the same id on both runs: the checkpoint key stays valid
  t.is(eventsOf(resumed.stdout)[0]!.options!.src!.id, events[0]!.options!.src!.id);

  // without --checkpoint, its own --pos (now at the end) applies
  const own = await logkit(['tail', '--no-follow', '--pos', pos, '-o', 'json', log]);
  t.is(String(own.stdout), '');
});

test('--checkpoint: a file tail read (its --pos says so) that nothing committed is read again from its head', async (t) => {
  // a collector killed just after a rotation: tail had read the new file's first lines and saved
  // its position, the stage after it lost them before making them durable (no checkpoint entry)
  const dir = await tempDir(t);
  const log = join(dir, 'app.log');
  const pos = join(dir, 'tail.pos');
  const checkpoint = join(dir, 'committed.json');
  await writeFile(log, numbered(1, 100));
  const first = await logkit(['tail', '--no-follow', '--pos', pos, '-o', 'json', log]);
  t.is(eventsOf(first.stdout).length, 100);
  const tracker = await CheckpointTracker.open(checkpoint, { intervalMs: 10_000 });
  tracker.commit([{ tag: 'x', time: new EventTime(0, 0), record: {}, options: { src: { id: 'another-file', off: 5 } } }]);
  await tracker.close();

  const resumed = await logkit(['tail', '--no-follow', '--pos', pos, '--checkpoint', checkpoint, '-o', 'json', log]);
  t.is(resumed.exitCode, 0, String(resumed.stderr));
  t.deepEqual(eventsOf(resumed.stdout).map((e) => Number(e.record.message)), Array.from({ length: 100 }, (_, i) => i + 1));
});

test('a rewritten file (same inode, other first bytes) is read from 0, not from the saved offset', async (t) => {
  const dir = await tempDir(t);
  const log = join(dir, 'app.log');
  const pos = join(dir, 'tail.pos');
  await writeFile(log, 'old 1\nold 2\nold 3\n');
  const first = await logkit(['tail', '--no-follow', '--pos', pos, '-o', 'json', log]);
  t.is(eventsOf(first.stdout).length, 3);
  // writeFile truncates and rewrites in place: the inode stays, the content is new and longer
  await writeFile(log, 'new 1\nnew 2\nnew 3\nnew 4\nnew 5\n');
  const second = await logkit(['tail', '--no-follow', '--pos', pos, '-o', 'json', log]);
  t.deepEqual(eventsOf(second.stdout).map((e) => e.record.message), ['new 1', 'new 2', 'new 3', 'new 4', 'new 5']);
});
