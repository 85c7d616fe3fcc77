import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { DiskBuffer } from '../../src/buffer/disk-buffer.js';
import { logkit, tempDir } from '../helpers/logkit.js';
import { MessageStreamDecoder } from '../../src/codec/msgpack-reader.js';
import { Collector, Feeder, audit, chunksIn, encodeNumbered, numbered, smallTmpfs, spawnStage } from './helpers.js';
import { sleep, waitFor, waitForSteady } from '../helpers/wait.js';

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

/** Exactly the events from..to-1, in order (reported compactly: a diff of 100,000 numbers helps no one). */
function inOrder(t: ExecutionContext, out: Collector, from: number, to: number): void {
  t.is(out.error, undefined);
  const numbers = out.numbers;
  const wrong = numbers.findIndex((n, i) => n !== from + i);
  t.is(wrong, -1, `position ${wrong}: got ${numbers[wrong]}, expected ${from + wrong}`);
  t.is(numbers.length, to - from, `got ${numbers.length} events, expected ${to - from} (last ${numbers.at(-1)})`);
}

test('passes events through in order, options untouched, and leaves the directory empty', async (t) => {
  const dir = join(await tempDir(t), 'spool');
  const r = await logkit(['buffer', dir, '-o', 'json', '--chunk-events', '100'], { input: encodeNumbered(0, 1000) });
  t.is(r.exitCode, 0, String(r.stderr));
  const lines = String(r.stdout).trimEnd().split('\n').map((l) => JSON.parse(l) as { record: { n: number }; options: unknown });
  t.deepEqual(lines.map((l) => l.record.n), range(0, 1000));
  t.deepEqual(lines[999]!.options, { src: { id: 'file-1', off: 100000 } });
  t.is(String(r.stderr), '');
  t.deepEqual((await chunksIn(dir)).names, []);
});

test('overflow block: the producer is held back while the consumer does not read, and nothing is lost', async (t) => {
  const dir = join(await tempDir(t), 'spool');
  const total = 60_000;
  const payload = encodeNumbered(0, total, 40); // ~5 MB
  const stage = spawnStage(t, ['buffer', dir, '--chunk-bytes', '32k', '--total-limit', '128k', '--overflow', 'block']);
  const feeder = new Feeder(stage.child.stdin!, payload);
  const feeding = feeder.run();
  // Nobody reads stdout: the pipe fills, the buffer fills to its limit, then stdin stops being read.
  await waitFor(() => stage.stderr.includes('waiting for the consumer'), 'the buffer to report it is blocked');
  const held = await waitForSteady(() => feeder.accepted, 'the bytes the producer got accepted', { intervalMs: 500 });
  await sleep(1000); // not a wait for something: the window in which a producer that is not held back would progress
  t.is(feeder.accepted, held, 'the producer made no progress while blocked');
  t.true(held < payload.length / 2, `accepted ${held} of ${payload.length} bytes`);
  t.true((await chunksIn(dir)).bytes <= 128 * 1024);
  const out = new Collector(stage.child.stdout!).start();
  await feeding;
  const { code } = await stage.exited;
  t.is(code, 0, stage.stderr);
  inOrder(t, out, 0, total);
  t.regex(stage.stderr, /space freed after/);
});

test('overflow drop-oldest: the oldest chunks are dropped, counted and reported; the rest arrives in order', async (t) => {
  const dir = join(await tempDir(t), 'spool');
  const total = 40_000;
  const stage = spawnStage(t, ['buffer', dir, '--chunk-bytes', '32k', '--total-limit', '128k', '--overflow', 'drop-oldest']);
  await new Feeder(stage.child.stdin!, encodeNumbered(0, total, 40)).run(); // all of it is taken: drops make room
  await waitFor(() => stage.stderr.includes('dropped the oldest chunk'), 'drops');
  t.true((await chunksIn(dir)).bytes <= 128 * 1024);
  const out = new Collector(stage.child.stdout!).start();
  const { code } = await stage.exited;
  t.is(code, 0, stage.stderr);
  t.is(out.error, undefined);
  const dropped = Number(/dropped (\d+) events in (\d+) chunks/.exec(stage.stderr)?.[1]);
  t.true(dropped > 0, stage.stderr);
  t.is(out.numbers.length + dropped, total, 'every event is either delivered or counted as dropped');
  t.true(out.numbers.every((n, i) => i === 0 || n > out.numbers[i - 1]!), 'in order, no duplicates');
  t.is(out.numbers.at(-1), total - 1, 'the newest events are kept');
  t.regex(stage.stderr, /dropped the oldest chunk \(\d+ events, \d+ bytes\)/);
});

test('overflow fail: exit 75 with a clear message; what was durable stays for the next start', async (t) => {
  const dir = join(await tempDir(t), 'spool');
  const stage = spawnStage(t, ['buffer', dir, '--chunk-bytes', '32k', '--total-limit', '128k', '--overflow', 'fail']);
  void new Feeder(stage.child.stdin!, encodeNumbered(0, 40_000, 40)).run().catch(() => {});
  const { code } = await stage.exited;
  t.is(code, 75);
  t.regex(stage.stderr, /logkit: buffer: the total limit of 131072 bytes is reached \(--overflow fail\); \d+ events in \d+ chunks kept in .* for the next start/);
  const kept = await chunksIn(dir);
  t.true(kept.names.length >= 3 && kept.bytes <= 128 * 1024, JSON.stringify(kept));
  // The next start delivers them.
  const replay = await logkit(['buffer', dir, '-o', 'json'], { input: '' });
  t.is(replay.exitCode, 0);
  const numbers = String(replay.stdout).trimEnd().split('\n').map((l) => (JSON.parse(l) as { record: { n: number } }).record.n);
  t.true(numbers.length > 0 && numbers.every((n, i) => i === 0 || n === numbers[i - 1]! + 1));
  t.regex(String(replay.stderr), /replaying \d+ events in \d+ chunks/);
});

test('disk full (a 2 MiB tmpfs): block holds the input back with a clear message, then everything is delivered; fail exits 75', async (t) => {
  const mount = await smallTmpfs(t, await tempDir(t), '2m');
  const dir = join(mount, 'spool');
  const total = 80_000;
  const stage = spawnStage(t, ['buffer', dir, '--chunk-bytes', '64k', '--total-limit', '1g']);
  const feeding = new Feeder(stage.child.stdin!, encodeNumbered(0, total, 40)).run(); // ~6.5 MB through a 2 MiB disk
  await waitFor(() => stage.stderr.includes('is full'), 'the disk-full message');
  t.regex(stage.stderr, /logkit buffer: the disk holding .*spool is full: waiting for the consumer to free space/);
  const out = new Collector(stage.child.stdout!).start();
  await feeding;
  const { code } = await stage.exited;
  t.is(code, 0, stage.stderr);
  inOrder(t, out, 0, total);
  t.deepEqual(await readdir(dir), [], 'no chunk, temp file or corrupt chunk left behind');

  const failDir = join(mount, 'spool-fail');
  const failing = spawnStage(t, ['buffer', failDir, '--chunk-bytes', '64k', '--total-limit', '1g', '--overflow', 'fail']);
  void new Feeder(failing.child.stdin!, encodeNumbered(0, total, 40)).run().catch(() => {});
  const failed = await failing.exited;
  t.is(failed.code, 75, failing.stderr);
  t.regex(failing.stderr, /logkit: buffer: the disk holding .*spool-fail is full \(--overflow fail\)/);
  t.false((await readdir(failDir)).some((n) => n.endsWith('.tmp')), 'the failed temp file was removed');
  // Every chunk left is whole: the next start replays them without complaint.
  const replay = await logkit(['buffer', failDir, '-o', 'json'], { input: '' });
  t.is(replay.exitCode, 0);
  t.notRegex(String(replay.stderr), /unusable/);
});

test('a corrupt chunk is moved aside with a message, a half-written temp file is removed, the rest is replayed', async (t) => {
  const dir = join(await tempDir(t), 'spool');
  const setup = await DiskBuffer.open(dir, { chunkEvents: 100 });
  await setup.append(numbered(0, 300));
  await setup.finish();
  await setup.close();
  const { names } = await chunksIn(dir);
  const bytes = await readFile(join(dir, names[1]!));
  bytes[200] ^= 0xff;
  await writeFile(join(dir, names[1]!), bytes);
  await writeFile(join(dir, 'chunk-0000000000000004.lkc.tmp'), bytes.subarray(0, 100));
  const r = await logkit(['buffer', dir, '-o', 'json'], { input: encodeNumbered(300, 310) });
  t.is(r.exitCode, 0, String(r.stderr));
  const numbers = String(r.stdout).trimEnd().split('\n').map((l) => (JSON.parse(l) as { record: { n: number } }).record.n);
  t.deepEqual(numbers, [...range(0, 100), ...range(200, 310)]);
  t.regex(String(r.stderr), /chunk-0000000000000002\.lkc is unusable \(checksum mismatch\); moved it to .*corrupt/);
  t.regex(String(r.stderr), /removed half-written .*chunk-0000000000000004\.lkc\.tmp/);
  t.is((await readdir(join(dir, 'corrupt'))).length, 1);
  t.deepEqual((await readdir(dir)).sort(), ['corrupt']);
});

test('SIGTERM: what is held is made durable and written out; with the consumer stalled it stays on disk for the next start', async (t) => {
  const base = await tempDir(t);
  // 1. Consumer reading: the open chunk (kept open by a long --flush-interval) is sealed and written out.
  const dir = join(base, 'a');
  const stage = spawnStage(t, ['buffer', dir, '--chunk-events', '1000', '--flush-interval', '600']);
  const out = new Collector(stage.child.stdout!).start();
  await new Feeder(stage.child.stdin!, encodeNumbered(0, 20_500)).run(false);
  await waitFor(() => out.numbers.length >= 20_000, 'the sealed chunks to be written out');
  await sleep(300); // not a wait for something: the window in which the open chunk must not be written out
  t.is(out.numbers.length, 20_000, 'the last 500 wait in the open chunk');
  const started = Date.now();
  stage.child.kill('SIGTERM');
  const { code } = await stage.exited;
  t.is(code, 0, stage.stderr);
  t.true(Date.now() - started < 5000);
  inOrder(t, out, 0, 20_500);
  t.deepEqual((await chunksIn(dir)).names, []);

  // 2. Consumer stalled: exit 0 after --drain-timeout, everything on disk; the next start replays the rest.
  const dir2 = join(base, 'b');
  const stalled = spawnStage(t, ['buffer', dir2, '--chunk-events', '1000', '--flush-interval', '600', '--drain-timeout', '1']);
  const first = new Collector(stalled.child.stdout!).start(true);
  await new Feeder(stalled.child.stdin!, encodeNumbered(0, 20_500, 40)).run(false);
  // Wait until the stage has read all its input: 20 chunks sealed (some written out), the count steady.
  await waitForSteady(async () => (await chunksIn(dir2)).names.length, 'the chunks on disk', { intervalMs: 400, accept: (chunks) => chunks >= 15 });
  const t0 = Date.now();
  stalled.child.kill('SIGTERM');
  const stopped = await stalled.exited;
  t.is(stopped.code, 0, stalled.stderr);
  t.true(Date.now() - t0 < 6000);
  t.regex(stalled.stderr, /stopped after --drain-timeout 1s; \d+ events in \d+ chunks kept/);
  // What the first run wrote sits in its stdout pipe; read it, then replay the rest.
  first.resume();
  await first.ended();
  const rest = await logkit(['buffer', dir2], { input: '', encoding: 'buffer' });
  t.is(rest.exitCode, 0);
  const replayed = new MessageStreamDecoder().push(Buffer.from(rest.stdout as unknown as Uint8Array)).map((e) => e.record.n as number);
  const { missing, duplicates } = audit([...first.numbers, ...replayed], 20_500);
  t.is(first.error, undefined);
  t.deepEqual(missing.length, 0, `nothing lost: missing ${missing[0]}..${missing.at(-1)} (${missing.length}); first run ${first.numbers[0]}..${first.numbers.at(-1)} (${first.numbers.length}), replay ${replayed[0]}..${replayed.at(-1)}`);
  t.log(`first run wrote ${first.numbers.length} events, the restart replayed ${replayed.length}; ${duplicates} duplicates (a chunk cut by the exit)`);
  t.true(duplicates <= 1000, 'at most the one chunk that was being written out');
});

test('kill -9 mid-stream, then restart from the checkpoint: everything committed is replayed, nothing is lost, duplicates are counted', async (t) => {
  const base = await tempDir(t);
  const dir = join(base, 'spool');
  const checkpointFile = join(base, 'positions.json');
  const total = 100_000;
  const args = ['buffer', dir, '--checkpoint', checkpointFile, '--chunk-events', '2000', '--flush-interval', '0.2'];
  const first = spawnStage(t, args);
  const out1 = new Collector(first.child.stdout!).start();
  const feeding = new Feeder(first.child.stdin!, encodeNumbered(0, total, 20), 8 * 1024).run(false).catch(() => {});
  await waitFor(() => out1.numbers.length >= 20_000, 'output to flow');
  first.child.kill('SIGKILL');
  await first.exited;
  await feeding;
  await out1.ended();
  const checkpoint = JSON.parse(await readFile(checkpointFile, 'utf8')) as { version: number; sources: Record<string, { off: number }> };
  t.is(checkpoint.version, 1);
  const committedOff = checkpoint.sources['file-1']!.off;
  const committed = committedOff / 100; // numbered(): event n ends at (n + 1) * 100
  t.true(committed > 0, `checkpoint at event ${committed}`);
  t.true(committed < total, 'killed mid-stream');

  // Restart as systemd would, with tail resuming from the checkpoint: events from `committed` on.
  const second = await logkit(args, { input: encodeNumbered(committed, total, 20), encoding: 'buffer' });
  t.is(second.exitCode, 0, String(second.stderr));
  const out2 = new MessageStreamDecoder().push(Buffer.from(second.stdout as unknown as Uint8Array)).map((e) => e.record.n as number);
  const { missing, duplicates } = audit([...out1.numbers, ...out2], total);
  t.is(out1.error, undefined);
  t.deepEqual(missing, [], 'every event is delivered');
  t.log(`killed after writing ${out1.numbers.length} events out; checkpoint at ${committed}; restart wrote ${out2.length}; duplicates: ${duplicates}`);
  // kill -9 can leave a temp file (removed) but never a chunk that fails its check.
  t.notRegex(Buffer.from(second.stderr as unknown as Uint8Array).toString(), /unusable/);
  const final = JSON.parse(await readFile(checkpointFile, 'utf8')) as { sources: Record<string, { off: number }> };
  t.is(final.sources['file-1']!.off, total * 100);
  t.deepEqual((await chunksIn(dir)).names, []);
});

test('usage errors and a directory in use are refused clearly', async (t) => {
  const dir = join(await tempDir(t), 'spool');
  const bad = await logkit(['buffer', dir, '--total-limit', '1m', '--chunk-bytes', '1m'], { input: '' });
  t.is(bad.exitCode, 64);
  t.regex(String(bad.stderr), /--total-limit: expected at least twice the chunk size \(2m\), got 1m/);
  const holder = spawnStage(t, ['buffer', dir]);
  await waitFor(async () => (await readdir(dir).catch(() => [] as string[])).includes('lock'), 'the lock');
  const second = await logkit(['buffer', dir], { input: '' });
  t.is(second.exitCode, 75);
  t.regex(String(second.stderr), new RegExp(`in use by process ${holder.child.pid}`));
  holder.child.stdin!.end();
  t.is((await holder.exited).code, 0);
});

test('SIGTERM while blocked at the total limit: exits 0 in bounded time, and what it accepted is on disk or was written out', async (t) => {
  const dir = join(await tempDir(t), 'spool');
  const stage = spawnStage(t, ['buffer', dir, '--chunk-bytes', '32k', '--total-limit', '128k', '--flush-interval', '600', '--drain-timeout', '1']);
  const out = new Collector(stage.child.stdout!).start(true); // a consumer that stopped reading
  void new Feeder(stage.child.stdin!, encodeNumbered(0, 60_000, 40)).run(false).catch(() => {});
  await waitFor(() => stage.stderr.includes('waiting for the consumer'), 'the buffer to block');
  const started = Date.now();
  stage.child.kill('SIGTERM');
  const { code } = await stage.exited;
  t.is(code, 0, stage.stderr);
  t.true(Date.now() - started < 6000);
  out.resume();
  await out.ended();
  const rest = await logkit(['buffer', dir], { input: '', encoding: 'buffer' });
  t.is(rest.exitCode, 0);
  const replayed = new MessageStreamDecoder().push(Buffer.from(rest.stdout as unknown as Uint8Array)).map((e) => e.record.n as number);
  // Everything it read before the stop: a gap-free prefix of the input (the unread rest stayed in the pipe).
  const all = [...new Set([...out.numbers, ...replayed])].sort((a, b) => a - b);
  t.true(all.length > 1000);
  t.is(all.at(-1), all.length - 1, `no gap: ${all.length} distinct events, the last ${all.at(-1)}`);
  t.log(`written out before the stop: ${out.numbers.length}; kept on disk and replayed: ${replayed.length}`);
});

test('SIGHUP seals the open chunk at once and, with --stats, prints the counters', async (t) => {
  const dir = join(await tempDir(t), 'spool');
  const stage = spawnStage(t, ['buffer', dir, '--flush-interval', '600', '--stats']);
  const out = new Collector(stage.child.stdout!).start();
  await new Feeder(stage.child.stdin!, encodeNumbered(0, 100)).run(false);
  // Started (the lock is taken just before the signal handlers are installed): a SIGHUP before that would end it.
  await waitFor(async () => (await readdir(dir).catch(() => [] as string[])).includes('lock'), 'the stage to start');
  await sleep(500); // not a wait for something: the window in which the open chunk must not be written out
  t.is(out.numbers.length, 0, 'held in the open chunk');
  stage.child.kill('SIGHUP');
  await waitFor(() => out.numbers.length === 100, 'the sealed chunk to be written out');
  await waitFor(() => stage.stderr.includes('stats'), 'the counters');
  t.regex(stage.stderr, /logkit buffer: stats \(SIGHUP\) chunks_written=1 events_written=100 fsyncs=2 /);
  stage.child.stdin!.end();
  t.is((await stage.exited).code, 0);
  inOrder(t, out, 0, 100);
});

test('corrupt input: every event before the fault is made durable and written out, then exit 65', async (t) => {
  const dir = join(await tempDir(t), 'spool');
  const input = Buffer.concat([encodeNumbered(0, 500), Buffer.from([0xc1, 0xc1, 0xc1])]);
  const r = await logkit(['buffer', dir, '-o', 'json'], { input });
  t.is(r.exitCode, 65);
  t.regex(String(r.stderr), /logkit: stdin: byte \d+: expected a Message-mode entry/);
  const numbers = String(r.stdout).trimEnd().split('\n').map((l) => (JSON.parse(l) as { record: { n: number } }).record.n);
  t.deepEqual(numbers, range(0, 500));
  t.deepEqual((await chunksIn(dir)).names, []);
});

test('a downstream that closes early: what was read is sealed and kept for the next start, exit 0', async (t) => {
  const dir = join(await tempDir(t), 'spool');
  const stage = spawnStage(t, ['buffer', dir, '--chunk-events', '1000']);
  const feeding = new Feeder(stage.child.stdin!, encodeNumbered(0, 20_000)).run(false).catch(() => {});
  await waitFor(async () => (await chunksIn(dir)).names.length >= 5, 'chunks on disk');
  stage.child.stdout!.destroy(); // like `| head`: the reading end goes away
  const { code } = await stage.exited;
  await feeding;
  t.is(code, 0, stage.stderr);
  const kept = /downstream closed; (\d+) events in (\d+) chunks kept/.exec(stage.stderr);
  t.truthy(kept, stage.stderr);
  const replay = await logkit(['buffer', dir, '-o', 'json'], { input: '' });
  t.is(replay.exitCode, 0);
  const numbers = String(replay.stdout).trimEnd().split('\n').map((l) => (JSON.parse(l) as { record: { n: number } }).record.n);
  t.is(numbers.length, Number(kept![1]));
  t.true(numbers.every((n, i) => i === 0 || n === numbers[i - 1]! + 1), 'in order');
});

test('repeated kill -9 and restarts from the checkpoint (as systemd would): nothing lost, duplicates counted', async (t) => {
  const base = await tempDir(t);
  const dir = join(base, 'spool');
  const checkpointFile = join(base, 'positions.json');
  const total = 60_000;
  const args = ['buffer', dir, '--checkpoint', checkpointFile, '--chunk-events', '1000', '--flush-interval', '0.1'];
  const delivered: number[] = [];
  const committedAt = async () => {
    const text = await readFile(checkpointFile, 'utf8').catch(() => undefined);
    const off = text ? (JSON.parse(text) as { sources: Record<string, { off: number }> }).sources['file-1']?.off : undefined;
    return off === undefined ? 0 : off / 100;
  };
  for (let kill = 0; kill < 5; kill++) {
    const from = await committedAt();
    const stage = spawnStage(t, args);
    const out = new Collector(stage.child.stdout!).start();
    const feeding = new Feeder(stage.child.stdin!, encodeNumbered(from, total, 20), 4096).run(false).catch(() => {});
    await waitFor(() => out.numbers.length >= 5_000, `output after restart ${kill}`);
    stage.child.kill('SIGKILL');
    await stage.exited;
    await feeding;
    await out.ended();
    t.is(out.error, undefined);
    delivered.push(...out.numbers);
  }
  const from = await committedAt();
  const last = await logkit(args, { input: encodeNumbered(from, total, 20), encoding: 'buffer' });
  t.is(last.exitCode, 0, Buffer.from(last.stderr as unknown as Uint8Array).toString());
  delivered.push(...new MessageStreamDecoder().push(Buffer.from(last.stdout as unknown as Uint8Array)).map((e) => e.record.n as number));
  const { missing, duplicates } = audit(delivered, total);
  t.is(missing.length, 0, `missing ${missing.slice(0, 10).join(', ')}…`);
  t.log(`5 kills: ${delivered.length} events delivered for ${total}; ${duplicates} duplicates`);
});
