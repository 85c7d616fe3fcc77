import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import { readCheckpointFile, writeCheckpointFile } from '../../src/checkpoint/checkpoint-file.js';
import { CheckpointTracker } from '../../src/checkpoint/checkpoint-tracker.js';
import { sourcePositionOf } from '../../src/event/source-position.js';
import { CliError } from '../../src/base/exit-codes.js';
import type { LogEvent } from '../../src/event/event.js';
import { EventTime } from '../../src/event/event-time.js';
import { tempDir } from '../helpers/logkit.js';
import { sleep, waitFor } from '../helpers/wait.js';

const event = (id: string, off: number): LogEvent => ({ tag: 't', time: new EventTime(1, 0), record: {}, options: { src: { id, off } } });

test('a checkpoint file round-trips, is replaced atomically and leaves no temporary file', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'cp.json');
  t.deepEqual(await readCheckpointFile(path), new Map()); // missing: empty
  await writeCheckpointFile(path, new Map([['a', { off: 10 }], ['b', { off: 2 ** 40 }]]));
  t.is(await readFile(path, 'utf8'), '{"version":1,"sources":{"a":{"off":10},"b":{"off":1099511627776}}}\n');
  await writeCheckpointFile(path, new Map([['a', { off: 11 }]]));
  t.deepEqual(await readCheckpointFile(path), new Map([['a', { off: 11 }]]));
  t.deepEqual(await readdir(dir), ['cp.json']);
});

test('a malformed checkpoint is a clear data error, not a silent start from scratch', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'cp.json');
  for (const text of ['{"version":1,"sources":', '{"version":2,"sources":{}}', '{"version":1,"sources":{"a":{"off":-1}}}']) {
    await writeFile(path, text);
    const error = await t.throwsAsync(readCheckpointFile(path));
    t.true(error instanceof CliError);
    t.is((error as CliError).exitCode, 65);
  }
});

test('the tracker keeps the highest committed offset per source, keeps other sources, and writes debounced', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'cp.json');
  await writeCheckpointFile(path, new Map([['other', { off: 7 }]]));
  const tracker = await CheckpointTracker.open(path, { intervalMs: 60_000 });
  tracker.commit([event('a', 5), event('a', 9), event('b', 3)]);
  tracker.commit([event('a', 4)]); // never goes back
  tracker.commit([{ tag: 't', time: new EventTime(1, 0), record: {} }, { tag: 't', time: new EventTime(1, 0), record: {}, options: { src: { id: 'x', off: 'no' } } }]);
  t.is(tracker.offsetOf('a'), 9);
  // debounced: the first write is due at once, later ones wait for the interval
  const written = async () => JSON.parse(await readFile(path, 'utf8')) as { sources: Record<string, { off: number }> };
  await waitFor(async () => (await written().catch(() => ({ sources: {} as Record<string, { off: number }> }))).sources.a !== undefined, 'the first write');
  t.deepEqual((await written()).sources, { other: { off: 7 }, a: { off: 9 }, b: { off: 3 } });
  tracker.commit([event('b', 30)]);
  await sleep(100); // not a wait for something: a window within the interval, in which nothing may be written
  t.is(JSON.parse(await readFile(path, 'utf8')).sources.b.off, 3, 'not written again within the interval');
  await tracker.close();
  t.is(JSON.parse(await readFile(path, 'utf8')).sources.b.off, 30, 'written at close');
});

test('the tracker forgets the least recently committed sources beyond its bound', async (t) => {
  const dir = await tempDir(t);
  const tracker = await CheckpointTracker.open(join(dir, 'cp.json'), { maxSources: 2 });
  tracker.commit([event('a', 1), event('b', 1)]);
  tracker.commit([event('a', 2), event('c', 1)]);
  await tracker.close();
  t.deepEqual(Object.keys(JSON.parse(await readFile(join(dir, 'cp.json'), 'utf8')).sources).sort(), ['a', 'c']);
});

test('sourcePositionOf reads the src option tail writes, and ignores anything else', (t) => {
  t.deepEqual(sourcePositionOf(event('id', 3)), { id: 'id', off: 3 });
  t.deepEqual(sourcePositionOf({ ...event('id', 0), options: { src: { id: 'id', off: 5n } } }), { id: 'id', off: 5 });
  t.is(sourcePositionOf({ tag: 't', time: new EventTime(1, 0), record: {} }), undefined);
  t.is(sourcePositionOf({ ...event('id', 0), options: { src: { id: 1, off: 2 } } }), undefined);
});
