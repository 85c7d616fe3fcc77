import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { execa } from 'execa';
import { tempDir } from '../helpers/logkit.js';
import { ROTATING_WRITER, TailProcess, countNumbers } from './tail-process.js';

const TOTAL = 100_000;
const EVERY = 10_000;

/**
 * Starts tail on `patterns` (relative to a fresh directory holding app.log), makes sure it is
 * following, runs the rotating writer at full speed, and returns how every number fared.
 */
async function rotate(t: ExecutionContext, style: string, patterns: string[], extraArgs: string[] = [], env: Record<string, string> = {}) {
  const dir = await tempDir(t);
  const log = join(dir, 'app.log');
  await writeFile(log, 'ready\n');
  const tail = new TailProcess(t, ['--from-head', '--rotate-wait', '1000ms', '--poll-interval', '50ms', ...extraArgs, ...patterns], dir);
  await tail.waitFor(() => tail.messages().includes('ready'), 30_000, 'the first line');
  const writer = await execa(process.execPath, [ROTATING_WRITER, log, String(TOTAL), String(EVERY), style], {
    cwd: dir,
    env: { ...env, POS_FILE: env.POS_FILE ? join(dir, env.POS_FILE) : '' },
    reject: false,
  });
  t.is(writer.exitCode, 0, String(writer.stderr));
  await tail.waitFor(() => tail.events.length >= TOTAL + 1 && Date.now() - lastChange(tail) > 1500, 50_000, `${TOTAL} numbers`).catch(() => undefined);
  t.is(await tail.stop(), 0);
  const counts = countNumbers(tail.messages().filter((m) => m !== 'ready'), 1, TOTAL);
  t.log(`${style} ${patterns.join(' ')}: ${tail.events.length - 1} lines, ${counts.lost.length} lost, ${counts.duplicated.length} duplicated`);
  t.deepEqual(counts.lost.slice(0, 10), [], 'lost numbers');
  t.deepEqual(counts.duplicated.slice(0, 10), [], 'duplicated numbers');
  t.deepEqual(counts.foreign.slice(0, 10), [], 'lines that are not numbers');
  return tail;
}

const changes = new WeakMap<TailProcess, { count: number; at: number }>();
function lastChange(tail: TailProcess): number {
  const seen = changes.get(tail);
  if (!seen || seen.count !== tail.events.length) changes.set(tail, { count: tail.events.length, at: Date.now() });
  return changes.get(tail)!.at;
}

test('rename + create rotation of the live name only (tail caught up before each rotation): every number exactly once', async (t) => {
  // the writer goes on writing 100 lines to the renamed file: they are drained within --rotate-wait
  await rotate(t, 'rename', ['app.log'], ['--pos', 'tail.pos', '--pos-interval', '20ms'], { POS_FILE: 'tail.pos' });
});

test('rename + create rotation with the rotated names matched too: every number exactly once', async (t) => {
  await rotate(t, 'rename', ['app.log*']);
});

test('copytruncate with the rotated copies matched: every number exactly once, even when the writer outruns tail', async (t) => {
  await rotate(t, 'copytruncate', ['app.log*']);
});

test('copytruncate of the live name only (tail caught up before each truncation): every number exactly once', async (t) => {
  await rotate(t, 'copytruncate', ['app.log'], ['--pos', 'tail.pos', '--pos-interval', '20ms'], { POS_FILE: 'tail.pos' });
});
