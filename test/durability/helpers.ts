import { spawn, type ChildProcess } from 'node:child_process';
import { appendFile, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import type { ResultPromise } from 'execa';
import { LOGKIT_BIN, logkit } from '../helpers/logkit.js';
import type { LogEvent } from '../../src/event/event.js';

import { chainText, type Form } from '../run/chain-helpers.js';
import { waitFor } from '../helpers/wait.js';

/** A pipeline of real logkit processes, tail's stdout piped into the next one's stdin, as a shell would. */
export interface Pipeline {
  readonly stages: ResultPromise[];
  stderr: () => string;
  /** SIGKILL every stage (systemd restarting the unit) and wait for the exits. */
  killAll(): Promise<void>;
}

export function startPipeline(t: ExecutionContext, commands: ReadonlyArray<readonly string[]>): Pipeline {
  let stderr = '';
  const stages: ResultPromise[] = [];
  for (let i = 0; i < commands.length; i++) {
    const child = logkit(commands[i]!, {
      buffer: false,
      stdin: i === 0 ? 'ignore' : 'pipe',
      stdout: i === commands.length - 1 ? 'ignore' : 'pipe',
    });
    child.stderr!.on('data', (data: Buffer) => (stderr += data.toString()));
    if (i > 0) {
      const upstream = stages[i - 1]!;
      upstream.stdout!.pipe(child.stdin!);
      // A killed downstream is a broken pipe for the upstream, as in a shell.
      child.stdin!.on('error', () => {});
      upstream.stdout!.on('error', () => {});
    }
    stages.push(child);
    t.teardown(() => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });
  }
  return {
    stages,
    stderr: () => stderr,
    killAll: async () => {
      for (const stage of stages) stage.kill('SIGKILL');
      // What a dead reader left in a pipe is drained, or the stream never ends (and the exit never resolves).
      for (const stage of stages) {
        stage.stdout?.unpipe();
        stage.stdout?.resume();
      }
      await Promise.all(stages);
    },
  };
}

/** Appends numbered lines `from..to` (inclusive) to a file, in batches. */
export async function appendNumbers(path: string, from: number, to: number, perWrite = 500): Promise<void> {
  for (let start = from; start <= to; start += perWrite) {
    const end = Math.min(to, start + perWrite - 1);
    let text = '';
    for (let n = start; n <= end; n++) text += `line ${n}\n`;
    await appendFile(path, text);
  }
}

/** The numbers in events' `message` ("line N"), in arrival order. */
export function numbersOf(events: readonly LogEvent[]): number[] {
  return events.map((event) => Number(/^line (\d+)$/.exec(String(event.record.message))?.[1] ?? NaN));
}

/** Every number 1..count present? Returns the missing ones (at most 10) and the duplicates count. */
export function tally(numbers: readonly number[], count: number): { missing: number[]; duplicates: number; unknown: number } {
  const seen = new Uint8Array(count + 1);
  let duplicates = 0;
  let unknown = 0;
  for (const n of numbers) {
    if (!Number.isInteger(n) || n < 1 || n > count) unknown++;
    else if (seen[n]) duplicates++;
    else seen[n] = 1;
  }
  const missing: number[] = [];
  for (let n = 1; n <= count && missing.length < 10; n++) if (!seen[n]) missing.push(n);
  return { missing, duplicates, unknown };
}

/** True when, ignoring repeats, numbers first arrive in increasing order (order per source). */
export function firstArrivalsInOrder(numbers: readonly number[]): boolean {
  const seen = new Set<number>();
  let last = 0;
  for (const n of numbers) {
    if (seen.has(n)) continue;
    seen.add(n);
    if (n < last) return false;
    last = n;
  }
  return true;
}

/**
 * `logkit receive --buffer B --checkpoint C | logkit store file OUT --checkpoint C`, the two joined
 * by an OS pipe; or the same chain in one `logkit run` process (receive and store are then one).
 */
export function startAggregator(port: number, dir: string, form: Form = 'piped'): { receive: ChildProcess; store: ChildProcess; stderr: () => string; done: Promise<void> } {
  let stderr = '';
  const checkpoint = join(dir, 'store.ckpt');
  const storeArgs = ['store', 'file', join(dir, 'out', '${tag}.ndjson'), '--checkpoint', checkpoint, '--flush-interval', '100ms'];
  const receiveArgs = ['receive', '--bind', `127.0.0.1:${port}`, '--buffer', join(dir, 'rbuf'), '--checkpoint', checkpoint, '--stats'];
  const exited = (child: ChildProcess) => new Promise<void>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));
  if (form === 'run') {
    const both = spawn(process.execPath, [LOGKIT_BIN, 'run', chainText([receiveArgs, storeArgs])], { stdio: ['ignore', 'ignore', 'pipe'] });
    both.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    return { receive: both, store: both, stderr: () => stderr, done: exited(both) };
  }
  const store = spawn(process.execPath, [LOGKIT_BIN, ...storeArgs], { stdio: ['pipe', 'ignore', 'pipe'] });
  const receive = spawn(process.execPath, [LOGKIT_BIN, ...receiveArgs], { stdio: ['ignore', store.stdin!, 'pipe'] });
  // the parent's copy of the pipe must go, or receive would not see the store's death (EPIPE)
  store.stdin!.destroy();
  for (const child of [receive, store]) child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return { receive, store, stderr: () => stderr, done: Promise.all([exited(receive), exited(store)]).then(() => {}) };
}

export async function storedSeqs(dir: string): Promise<number[]> {
  const out = join(dir, 'out');
  const seqs: number[] = [];
  for (const name of (await readdir(out).catch(() => [] as string[])).filter((n) => n.endsWith('.ndjson'))) {
    for (const line of (await readFile(join(out, name), 'utf8')).split('\n')) {
      const m = /"record":\{"i":(\d+)/.exec(line) ?? /"i":(\d+)/.exec(line);
      if (m) seqs.push(Number(m[1]));
    }
  }
  return seqs;
}

/** A function that starts the aggregator on `port` (again after a kill) and waits until receive listens; every one started is killed at the end of the test. */
export function aggregatorStarter(t: ExecutionContext, port: number, dir: string, form: Form = 'piped'): () => Promise<ReturnType<typeof startAggregator>> {
  const aggregators: Array<ReturnType<typeof startAggregator>> = [];
  t.teardown(() => aggregators.forEach((a) => [a.receive, a.store].forEach((c) => c.kill('SIGKILL'))));
  return async () => {
    const a = startAggregator(port, dir, form);
    aggregators.push(a);
    await waitFor(() => a.stderr().includes('listening on'), 'receive listening', 20_000);
    return a;
  };
}
