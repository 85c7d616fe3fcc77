import { readdir, readFile, rename, stat } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import { tempDir } from '../helpers/logkit.js';
import { appendNumbers, numbersOf, startPipeline, tally } from './helpers.js';
import { waitFor } from '../helpers/wait.js';

/** The numbers in every .ndjson file under `dir` (rotated ones included). */
async function storedNumbers(dir: string): Promise<number[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const texts = await Promise.all(names.filter((n) => n.includes('.ndjson')).map((n) => readFile(join(dir, n), 'utf8')));
  const lines = texts.join('').split('\n').filter(Boolean);
  return numbersOf(lines.map((line) => ({ tag: '', time: undefined as never, record: (JSON.parse(line) as { record: Record<string, unknown> }).record })));
}

for (const mode of ['--checkpoint', '--buffer'] as const) {
  test(`tail --checkpoint | store ${mode}: store killed -9 three times mid-stream and restarted: every line stored`, async (t) => {
    const dir = await tempDir(t);
    const log = join(dir, 'app.log');
    const checkpoint = join(dir, 'app.ckpt');
    const out = join(dir, 'out');
    const storeArgs = ['store', '--checkpoint', checkpoint, ...(mode === '--buffer' ? ['--buffer', join(dir, 'spool')] : []),
      '--flush-interval', '50ms', '--batch-events', '500', 'file', join(out, 'all.ndjson')];
    const pipeline = () => startPipeline(t, [['tail', '--from-head', '--checkpoint', checkpoint, '--poll-interval', '50ms', log], storeArgs]);
    const total = 16_000;
    await appendNumbers(log, 1, 1000);
    let running = pipeline();
    let written = 1000;
    for (let round = 1; round <= 3; round++) {
      const before = (await storedNumbers(out)).length;
      await appendNumbers(log, written + 1, written + 4000);
      written += 4000;
      await waitFor(async () => (await storedNumbers(out)).length > before + 500, `round ${round} under way`, 30_000);
      running.stages[1]!.kill('SIGKILL');
      await running.killAll();
      running = pipeline();
    }
    await appendNumbers(log, written + 1, total);
    await waitFor(async () => tally(await storedNumbers(out), total).missing.length === 0, 'every line', 40_000).catch(() => {});
    const numbers = await storedNumbers(out);
    const result = tally(numbers, total);
    t.log(`store ${mode}: ${numbers.length} stored for ${total} lines, ${result.duplicates} duplicates after 3 kills`);
    t.deepEqual(result.missing, []);
    t.true(result.duplicates <= 3 * 5000, `duplicates: ${result.duplicates}`);
    for (const stage of running.stages) stage.kill('SIGTERM');
    t.deepEqual((await Promise.all(running.stages)).map((e) => e.exitCode), [0, 0], running.stderr());
    const committed = JSON.parse(await readFile(checkpoint, 'utf8')) as { sources: Record<string, { off: number }> };
    t.deepEqual(Object.values(committed.sources).map((s) => s.off), [(await stat(log)).size]);
  });
}

test('store file: SIGHUP closes the files, so a logrotate rename is followed by a new file; SIGTERM stores what was read and exits 0', async (t) => {
  const dir = await tempDir(t);
  const log = join(dir, 'app.log');
  const out = join(dir, 'out');
  await appendNumbers(log, 1, 1000);
  const running = startPipeline(t, [
    ['tail', '--from-head', '--poll-interval', '50ms', log],
    ['store', '--buffer', join(dir, 'spool'), '--flush-interval', '50ms', 'file', join(out, 'all.ndjson')],
  ]);
  await waitFor(async () => (await storedNumbers(out)).length === 1000, 'the first lines');
  await rename(join(out, 'all.ndjson'), join(out, 'all.ndjson.1'));
  running.stages[1]!.kill('SIGHUP');
  await waitFor(() => running.stderr().includes('SIGHUP: files closed'), 'the files closed');
  await appendNumbers(log, 1001, 2000);
  await waitFor(async () => tally(await storedNumbers(out), 2000).missing.length === 0, 'every line');
  const fresh = await storedNumbers(join(out)).then(async () => (await readFile(join(out, 'all.ndjson'), 'utf8')).split('\n').filter(Boolean).length);
  t.is(fresh, 1000, 'the lines after SIGHUP went to a new all.ndjson');
  for (const stage of running.stages) stage.kill('SIGTERM');
  t.deepEqual((await Promise.all(running.stages)).map((e) => e.exitCode), [0, 0], running.stderr());
  t.deepEqual((await readdir(join(dir, 'spool'))).filter((n) => n.endsWith('.lkc')), [], 'nothing left in the buffer');
  t.is(tally(await storedNumbers(out), 2000).duplicates, 0);
});
