import { open } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import { execa } from 'execa';
import { LOGKIT_BIN, logkit, tempDir } from '../helpers/logkit.js';
import { sleep, waitFor } from '../helpers/wait.js';

const event = (i: number) => JSON.stringify({ tag: 'p', time: '2026-11-21T00:00:00Z', record: { i } }) + '\n';

/** Runs `logkit ARGS` with stderr on a real terminal (script(1) from bsdutils gives it a pty) and input from a FIFO fed slowly. */
async function onTerminal(dir: string, command: string): Promise<string> {
  const fifo = join(dir, 'in.fifo');
  await execa('mkfifo', [fifo]);
  const run = execa('script', ['-qec', `${process.execPath} ${LOGKIT_BIN} ${command} < ${fifo}`, '/dev/null'], { reject: false, stdin: 'ignore' });
  let screen = '';
  run.stdout!.on('data', (d: Buffer) => (screen += d.toString()));
  const input = await open(fifo, 'w');
  await input.write(Array.from({ length: 10 }, (_, i) => event(i)).join(''));
  // the line is redrawn once a second: wait for it to show the 10 events, then end the input
  await waitFor(() => / 10 events \(/.test(screen), 'the progress line', 20_000).catch(() => {});
  await input.write(event(10));
  await input.close();
  const result = await run;
  return String(result.stdout);
}

test('store on a terminal shows a progress line, redrawn in place and erased at the end', async (t) => {
  const dir = await tempDir(t);
  const screen = await onTerminal(dir, `store file ${join(dir, 'out', 'x.ndjson')} --flush-interval 50ms`);
  t.regex(screen, /\r\x1b\[Klogkit store: 10 events stored \(\d+\/s\), 0 pending, 0 MiB read/);
  t.true(screen.endsWith('\r\x1b[K'), JSON.stringify(screen.slice(-40)));
});

test('cat on a terminal (stdout elsewhere) shows a progress line', async (t) => {
  const dir = await tempDir(t);
  const screen = await onTerminal(dir, `cat -o json > ${join(dir, 'out.json')}`);
  t.regex(screen, /\r\x1b\[Klogkit cat: 10 events \(\d+\/s\)/);
});

test('no progress line when stderr is not a terminal', async (t) => {
  const dir = await tempDir(t);
  const child = logkit(['store', 'file', join(dir, 'x.ndjson')], { input: undefined });
  child.stdin!.write(event(0));
  await sleep(1500); // not a wait for something: the window in which a progress line would be drawn (once a second)
  child.stdin!.end(event(1));
  const result = await child;
  t.is(result.exitCode, 0);
  t.is(String(result.stderr), '');
});
