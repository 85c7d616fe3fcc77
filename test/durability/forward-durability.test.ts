import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import { tempDir } from '../helpers/logkit.js';
import { appendNumbers, firstArrivalsInOrder, numbersOf, startPipeline, tally } from './helpers.js';
import { FORMS, startChain } from '../run/chain-helpers.js';
import { freePort } from '../helpers/net.js';
import { startReceive } from '../helpers/receive.js';
import { waitFor } from '../helpers/wait.js';

const collector = (log: string, spool: string, checkpoint: string, port: number, extra: string[] = []): string[][] => [
  ['tail', '--from-head', '--checkpoint', checkpoint, '--poll-interval', '50ms', log],
  ['parse', 'none'],
  ['forward', '--buffer', spool, '--checkpoint', checkpoint, '--flush-interval', '0.05', '--chunk-bytes', '16384', ...extra, `127.0.0.1:${port}`],
];

// Both ways: one process per command (forward killed -9, the rest of the unit after it), and `logkit run` (the one process killed -9).
for (const form of FORMS) test(`${form}: tail | parse | forward --buffer --checkpoint: forward killed -9 mid-stream three times, the pipeline restarted each time: every line arrives, duplicates bounded`, async (t) => {
  const dir = await tempDir(t);
  const log = join(dir, 'app.log');
  const spool = join(dir, 'spool');
  const checkpoint = join(dir, 'app.ckpt');
  const receiver = await startReceive(t);
  const total = 20_000;
  await appendNumbers(log, 1, 2000);
  let pipeline = startChain(t, form, collector(log, spool, checkpoint, receiver.port));
  let written = 2000;
  for (let round = 1; round <= 3; round++) {
    const target = written;
    await appendNumbers(log, written + 1, written + 4000);
    written += 4000;
    // kill -9 while lines are in flight: some of this round delivered, not all
    await waitFor(() => receiver.events.length > target, `round ${round} under way`, 30_000).catch((error: Error) => {
      throw new Error(`${error.message}: received ${receiver.events.length}; ${pipeline.stderr()} ${receiver.stderr()}`);
    });
    t.log(`round ${round}: ${receiver.events.length} received, killing forward`);
    pipeline.stages.at(-1)!.kill('SIGKILL');
    await pipeline.killAll();
    pipeline = startChain(t, form, collector(log, spool, checkpoint, receiver.port));
  }
  await appendNumbers(log, written + 1, total);
  await waitFor(() => tally(numbersOf(receiver.events), total).missing.length === 0, 'every line', 40_000).catch(() => {});
  const result = tally(numbersOf(receiver.events), total);
  t.log(`${form}: received ${receiver.events.length} events for ${total} lines: ${result.duplicates} duplicates after 3 kills`);
  t.deepEqual(result.missing, [], 'missing lines');
  t.is(result.unknown, 0);
  // A crash re-sends at most what was durable but not acknowledged, and tail re-reads at most what was not durable.
  t.true(result.duplicates <= 3 * 8000, `duplicates: ${result.duplicates}`);
  // SIGTERM: a clean stop, everything acknowledged, nothing left in the spool.
  for (const stage of pipeline.stages) stage.kill('SIGTERM'); // systemd stops the whole unit
  const exits = await Promise.all(pipeline.stages);
  t.deepEqual(exits.map((e) => e.exitCode), exits.map(() => 0), pipeline.stderr());
  t.deepEqual((await readdir(spool)).filter((name) => name.endsWith('.lkc')), []);
  const committed = JSON.parse(await readFile(checkpoint, 'utf8')) as { sources: Record<string, { off: number }> };
  t.deepEqual(Object.values(committed.sources).map((s) => s.off), [(await stat(log)).size]);
});

test('forward --buffer: the aggregator (receive | store file) down for a while, then back: everything delivered, in order, with the chunks replayed under their original ids', async (t) => {
  const dir = await tempDir(t);
  const log = join(dir, 'app.log');
  const spool = join(dir, 'spool');
  const checkpoint = join(dir, 'app.ckpt');
  const port = await freePort();
  await appendNumbers(log, 1, 5000);
  // Nobody listens: everything waits in the spool; the checkpoint advances anyway (durable).
  const first = startPipeline(t, collector(log, spool, checkpoint, port, ['--drain-timeout', '1']));
  await waitFor(async () => {
    const text = await readFile(checkpoint, 'utf8').catch(() => '');
    return text.includes(`"off":${(await stat(log)).size}`);
  }, 'the checkpoint at the end of the file while the aggregator is down');
  t.true((await readdir(spool)).some((name) => name.endsWith('.lkc')));
  for (const stage of first.stages) stage.kill('SIGTERM');
  const stopped = await Promise.all(first.stages);
  t.deepEqual(stopped.map((e) => e.exitCode), [0, 0, 0], first.stderr());
  t.regex(first.stderr(), /events in \d+ chunks not acknowledged .* are kept in/);

  // The aggregator comes back: receive | store file. The collector restarts (and more lines come).
  const store = join(dir, 'store');
  const aggregator = startPipeline(t, [
    ['receive', '--bind', `127.0.0.1:${port}`],
    ['store', 'file', join(store, '${tag}.ndjson'), '--flush-interval', '50ms'],
  ]);
  await waitFor(() => aggregator.stderr().includes('listening on'), 'the aggregator listening');
  const second = startPipeline(t, collector(log, spool, checkpoint, port));
  await appendNumbers(log, 5001, 8000);
  const stored = async (): Promise<number[]> => {
    const names = await readdir(store).catch(() => [] as string[]);
    const lines = (await Promise.all(names.filter((n) => n.endsWith('.ndjson')).map((n) => readFile(join(store, n), 'utf8')))).join('').split('\n');
    return numbersOf(lines.filter(Boolean).map((line) => ({ tag: '', time: undefined as never, record: (JSON.parse(line) as { record: Record<string, unknown> }).record })));
  };
  await waitFor(async () => tally(await stored(), 8000).missing.length === 0, 'every line stored', 40_000).catch(() => {});
  const numbers = await stored();
  const result = tally(numbers, 8000);
  t.log(`stored ${numbers.length} events for 8000 lines, ${result.duplicates} duplicates`);
  t.deepEqual(result.missing, []);
  t.true(firstArrivalsInOrder(numbers), 'in order per source');
  t.is(result.duplicates, 0, 'nothing was sent twice: the replay happened once, nothing crashed');
  for (const stage of second.stages) stage.kill('SIGTERM');
  t.deepEqual((await Promise.all(second.stages)).map((e) => e.exitCode), [0, 0, 0], second.stderr());
  for (const stage of aggregator.stages) stage.kill('SIGTERM');
  t.deepEqual((await Promise.all(aggregator.stages)).map((e) => e.exitCode), [0, 0], aggregator.stderr());
});

test('forward --checkpoint without --buffer commits on acknowledgement: nothing while the server is down (exit 69), the whole file once it acknowledged', async (t) => {
  const dir = await tempDir(t);
  const log = join(dir, 'app.log');
  const checkpoint = join(dir, 'app.ckpt');
  await appendNumbers(log, 1, 3000);
  const port = await freePort();
  const run = () =>
    startPipeline(t, [
      ['tail', '--from-head', '--no-follow', '--checkpoint', checkpoint, log],
      ['forward', '--checkpoint', checkpoint, '--drain-timeout', '1', `127.0.0.1:${port}`],
    ]);
  const down = run();
  const downExits = await Promise.all(down.stages);
  t.is(downExits[1]!.exitCode, 69, down.stderr());
  t.regex(down.stderr(), /3000 events could not be delivered.*not checkpointed, tail reads them again/);
  t.deepEqual(JSON.parse(await readFile(checkpoint, 'utf8')), { version: 1, sources: {} });
  const receiver = await startReceive(t, [], { port });
  const up = run();
  t.deepEqual((await Promise.all(up.stages)).map((e) => e.exitCode), [0, 0], up.stderr());
  const result = tally(numbersOf(receiver.events), 3000);
  t.deepEqual(result.missing, []);
  t.is(result.duplicates, 0);
  const committed = JSON.parse(await readFile(checkpoint, 'utf8')) as { sources: Record<string, { off: number }> };
  t.deepEqual(Object.values(committed.sources).map((s) => s.off), [(await stat(log)).size]);
});
