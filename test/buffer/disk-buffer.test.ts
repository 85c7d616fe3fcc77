import { readdir, readFile, writeFile, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import { DiskBuffer, type Chunk, type SourcePositions } from '../../src/buffer/disk-buffer.js';
import { MessageStreamDecoder } from '../../src/codec/msgpack-reader.js';
import { tempDir } from '../helpers/logkit.js';
import { chunksIn, numbered, smallTmpfs } from './helpers.js';
import { sleep } from '../helpers/wait.js';
import { zombie } from '../helpers/zombie.js';

const numbersOf = (chunk: Chunk) => new MessageStreamDecoder().push(chunk.payload).map((e) => e.record.n as number);

test('chunks are sealed by event count, delivered in order, deleted on ack, and un-acked ones replay after reopening', async (t) => {
  const dir = await tempDir(t);
  const durable: SourcePositions[] = [];
  const buffer = await DiskBuffer.open(dir, { chunkEvents: 100, onDurable: (p) => durable.push(p) });
  await buffer.append(numbered(0, 250));
  await buffer.flush();
  t.deepEqual(durable, [{ 'file-1': 10000 }, { 'file-1': 20000 }, { 'file-1': 25000 }]);
  t.is((await chunksIn(dir)).names.length, 3);
  const first = (await buffer.next())!;
  t.deepEqual(numbersOf(first), Array.from({ length: 100 }, (_, i) => i));
  t.is(first.events, 100);
  await buffer.ack(first);
  t.is((await chunksIn(dir)).names.length, 2);
  const second = (await buffer.next())!; // taken, never acknowledged: a crash before the ack
  t.is(second.seq, first.seq + 1);
  await buffer.finish();
  await buffer.close();

  const reopened = await DiskBuffer.open(dir);
  t.is(reopened.stats().replayedChunks, 2);
  const replayed: number[] = [];
  const ids: string[] = [];
  await reopened.finish();
  for await (const chunk of reopened.chunks()) {
    replayed.push(...numbersOf(chunk));
    ids.push(chunk.id);
    await reopened.ack(chunk);
  }
  t.deepEqual(replayed, Array.from({ length: 150 }, (_, i) => 100 + i));
  t.is(ids[0], second.id, 'a chunk keeps its id across restarts (receivers drop a resent chunk by it)');
  await reopened.close();
  t.deepEqual(await readdir(dir), []);
});

test('chunks are bounded by bytes and by age', async (t) => {
  const dir = await tempDir(t);
  const buffer = await DiskBuffer.open(dir, { chunkBytes: 4096, chunkEvents: 1_000_000, chunkAgeMs: 200 });
  const start = Date.now();
  await buffer.append(numbered(0, 1000, 20)); // ~45 bytes each, ~45 KB in all
  const sizes: number[] = [];
  let last = -1;
  while (last !== 999) {
    const chunk = (await buffer.next())!;
    sizes.push(chunk.payload.length);
    last = numbersOf(chunk).at(-1)!;
    await buffer.ack(chunk);
  }
  t.true(sizes.length >= 10, `${sizes.length} chunks for ~45 KB at 4 KiB each`);
  t.true(sizes.every((size) => size < 4096 + 100), String(sizes));
  t.true(sizes.at(-1)! < 4096, 'the last chunk was sealed by age, not size');
  t.true(Date.now() - start < 5000);
  await buffer.finish();
  await buffer.close();
});

test('acknowledgements out of order advance the acknowledged positions only up to the first gap', async (t) => {
  const dir = await tempDir(t);
  const acked: SourcePositions[] = [];
  const buffer = await DiskBuffer.open(dir, { chunkEvents: 10, onAcked: (p) => acked.push({ ...p }) });
  await buffer.append(numbered(0, 30));
  await buffer.flush();
  const [a, b, c] = [(await buffer.next())!, (await buffer.next())!, (await buffer.next())!];
  await buffer.ack(c);
  await buffer.ack(b);
  t.deepEqual(acked, [], 'chunk a is still out: nothing may be committed');
  await buffer.ack(a);
  t.deepEqual(acked, [{ 'file-1': 3000 }]);
  // release: a failed delivery comes back first
  await buffer.append(numbered(30, 40));
  await buffer.flush();
  const d = (await buffer.next())!;
  buffer.release(d);
  t.is((await buffer.next())!.seq, d.seq);
  await buffer.finish();
  await buffer.close();
});

test('a corrupt chunk and a truncated chunk are moved aside at start-up, a half-written temp file is removed, the rest replays', async (t) => {
  const dir = await tempDir(t);
  const buffer = await DiskBuffer.open(dir, { chunkEvents: 10 });
  await buffer.append(numbered(0, 40));
  await buffer.finish();
  await buffer.close();
  const { names } = await chunksIn(dir);
  t.is(names.length, 4);
  const flipped = await readFile(join(dir, names[1]!));
  flipped[flipped.length - 5] ^= 0x40;
  await writeFile(join(dir, names[1]!), flipped);
  await truncate(join(dir, names[2]!), 50);
  await writeFile(join(dir, 'chunk-0000000000000099.lkc.tmp'), 'half a chunk');

  const messages: string[] = [];
  const reopened = await DiskBuffer.open(dir, { log: (m) => messages.push(m) });
  await reopened.finish();
  const replayed: number[] = [];
  for await (const chunk of reopened.chunks()) {
    replayed.push(...numbersOf(chunk));
    await reopened.ack(chunk);
  }
  t.deepEqual(replayed, [...Array.from({ length: 10 }, (_, i) => i), ...Array.from({ length: 10 }, (_, i) => 30 + i)]);
  t.is(reopened.stats().corruptChunks, 2);
  t.true(messages.some((m) => m.includes('checksum mismatch') && m.includes('corrupt')), messages.join('\n'));
  t.true(messages.some((m) => m.includes('truncated')), messages.join('\n'));
  t.true(messages.some((m) => m.includes('half-written')), messages.join('\n'));
  await reopened.close();
  t.is((await readdir(join(dir, 'corrupt'))).length, 2);
  t.false((await readdir(dir)).some((n) => n.endsWith('.tmp')));
});

test('drop-oldest keeps the total limit and counts what it dropped; fail rejects', async (t) => {
  const dir = await tempDir(t);
  const messages: string[] = [];
  const buffer = await DiskBuffer.open(dir, { chunkBytes: 2048, totalLimitBytes: 8192, overflow: 'drop-oldest', log: (m) => messages.push(m) });
  await buffer.append(numbered(0, 2000, 10));
  await buffer.flush();
  const stats = buffer.stats();
  t.true(stats.bytesOnDisk <= 8192);
  t.true(stats.droppedChunks > 0);
  t.is(stats.eventsOnDisk + stats.droppedEvents, 2000);
  t.true(messages.some((m) => m.includes('dropped the oldest chunk')));
  await buffer.finish();
  await buffer.close();

  const failing = await DiskBuffer.open(await tempDir(t), { chunkBytes: 2048, totalLimitBytes: 8192, overflow: 'fail' });
  const error = await t.throwsAsync(async () => {
    await failing.append(numbered(0, 2000, 10));
    await failing.flush();
  });
  t.regex(error!.message, /total limit of 8192 bytes is reached/);
  await failing.close();
});

test('a second process cannot open a directory in use', async (t) => {
  const dir = await tempDir(t);
  const buffer = await DiskBuffer.open(dir);
  // This process holds the lock; simulate another holder by writing a live pid (our parent's).
  await buffer.close();
  await writeFile(join(dir, 'lock'), `${process.ppid}\n`);
  const error = await t.throwsAsync(DiskBuffer.open(dir));
  t.regex(error!.message, /in use by process/);
  await writeFile(join(dir, 'lock'), '999999999\n'); // a pid that cannot run: stale, taken over
  const again = await DiskBuffer.open(dir);
  await again.close();
  // The pid runs, but it is another process than the one that locked (it started at another
  // time), as after a container restart where pids repeat: stale, taken over.
  await writeFile(join(dir, 'lock'), `${process.ppid} 1\n`);
  const reused = await DiskBuffer.open(dir);
  t.regex(await readFile(join(dir, 'lock'), 'utf8'), new RegExp(`^${process.pid} \\d+\n$`));
  await reused.close();
});

// A process killed -9 stays a zombie until its parent reaps it: with the parent gone too, until
// PID 1 does, which in a container can take seconds or never happen (an init that reaps late, or
// none). It has exited and holds nothing; a restarted receive was refused meanwhile ("in use by
// process N", the zombie: seen in chaos runs, whose units are killed as a whole).
test('a lock left by a process that has exited but is not reaped (a zombie) is stale: taken over', async (t) => {
  const dir = await tempDir(t);
  const owner = await zombie(t);
  await writeFile(join(dir, 'lock'), `${owner.pid} ${owner.start}\n`); // as it wrote it
  const buffer = await DiskBuffer.open(dir);
  t.regex(await readFile(join(dir, 'lock'), 'utf8'), new RegExp(`^${process.pid} \\d+\n$`));
  await buffer.close();
});

test('a full disk under drop-oldest drops the oldest chunks to make room, with no partial chunk left', async (t) => {
  const mount = await smallTmpfs(t, await tempDir(t), '1m');
  const messages: string[] = [];
  const buffer = await DiskBuffer.open(join(mount, 'spool'), { chunkBytes: 64 * 1024, totalLimitBytes: 1024 ** 3, overflow: 'drop-oldest', log: (m) => messages.push(m) });
  await buffer.append(numbered(0, 40_000, 40)); // ~3.3 MB into 1 MiB
  await buffer.flush();
  const stats = buffer.stats();
  t.true(stats.droppedChunks > 0);
  t.is(stats.eventsOnDisk + stats.droppedEvents, 40_000);
  t.true(messages.some((m) => /the disk holding .* is full: dropped the oldest chunk/.test(m)), messages.join('\n'));
  await buffer.finish();
  const numbers: number[] = [];
  for await (const chunk of buffer.chunks()) {
    numbers.push(...numbersOf(chunk));
    await buffer.ack(chunk);
  }
  t.is(numbers.at(-1), 39_999, 'the newest are kept');
  t.true(numbers.every((n, i) => i === 0 || n === numbers[i - 1]! + 1), 'what is kept is contiguous and in order');
  await buffer.close();
  t.deepEqual(await readdir(join(mount, 'spool')), []);
});

test('a request appended in parts between startRequest and endRequest lands whole in one chunk, with its ids, even past chunkBytes and the age limit', async (t) => {
  const dir = await tempDir(t);
  const durable: Array<{ ids?: readonly string[] }> = [];
  const buffer = await DiskBuffer.open(dir, { chunkBytes: 4096, chunkAgeMs: 50, onDurable: (_, meta) => durable.push(meta) });
  await buffer.append(numbered(0, 10));
  buffer.startRequest();
  await buffer.append(numbered(10, 200, 40)); // ~15 KB: several chunks' worth
  const flushed = buffer.flush(); // a flush meanwhile waits for the whole request
  let flushDone = false;
  void flushed.then(() => (flushDone = true));
  await sleep(200); // not a wait for something: four times the age limit, in which nothing may be sealed by age
  t.deepEqual((await chunksIn(dir)).names, [], 'nothing of the request is durable before its end');
  t.false(flushDone);
  await buffer.append(numbered(200, 400, 40), ['request-id']);
  buffer.endRequest();
  await flushed;
  t.is(durable.length, 1, 'one chunk');
  t.deepEqual(durable[0]!.ids, ['request-id']);
  const chunk = (await buffer.next())!;
  t.deepEqual(numbersOf(chunk), Array.from({ length: 400 }, (_, i) => i));
  t.true(chunk.payload.length > 4096 * 3);
  // outside a request, appends are cut at chunkBytes again
  await buffer.ack(chunk);
  await buffer.append(numbered(400, 600, 40));
  await buffer.flush();
  t.true(durable.length >= 4, `${durable.length} chunks`);
  await buffer.finish();
  await buffer.close();
});
