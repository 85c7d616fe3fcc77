import { spawn } from 'node:child_process';
import { stat, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import test from 'ava';
import { readCheckpointFile } from '../../src/checkpoint/checkpoint-file.js';
import { MessageStreamDecoder } from '../../src/codec/msgpack-reader.js';
import { EventTime } from '../../src/event/event-time.js';
import { encodeEntryStream, encodePackedForward } from '../../src/protocol/encode-request.js';
import { chunksIn } from '../buffer/helpers.js';
import { LOGKIT_BIN, logkit, tempDir } from '../helpers/logkit.js';
import { waitFor, waitForSteady } from '../helpers/wait.js';
import { chainText } from './chain-helpers.js';

/**
 * A stage that gives up at its drain deadline ends the process with its status, but under
 * `logkit run` only once the other stages have finished their own shutdown: their counters,
 * checkpoints and statuses are not cut short. And each stage's messages name it.
 */

/** `logkit run CHAIN` with standard output a pipe nobody reads (a stalled consumer) and stderr collected. */
function runStalled(t: import('ava').ExecutionContext, commands: ReadonlyArray<readonly string[]>) {
  const child = spawn(process.execPath, [LOGKIT_BIN, 'run', chainText(commands)], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
  // attached, then paused: nothing is read until output(), and Node does not discard it at the exit
  const parts: Buffer[] = [];
  child.stdout.on('data', (part: Buffer) => parts.push(part));
  child.stdout.pause();
  const ended = new Promise((resolve) => child.stdout.once('end', resolve));
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  /** What the process wrote to standard output, read now to its end. */
  const output = async (): Promise<Buffer> => {
    child.stdout.resume();
    await ended;
    return Buffer.concat(parts);
  };
  return { child, stderr: () => stderr, exited, output };
}

/** N of each "line N ..." message in a MessagePack stream. */
function numbersIn(bytes: Buffer): number[] {
  return new MessageStreamDecoder().push(bytes).map((e) => Number(/^line (\d+)/.exec(String(e.record.message))![1]));
}

test('logkit run: buffer ends at its drain deadline with 0, its checkpoint written and the other stages\' counters printed; the next start loses nothing', async (t) => {
  const dir = await tempDir(t);
  const log = join(dir, 'app.log');
  const total = 50_000;
  await writeFile(log, Array.from({ length: total }, (_, n) => `line ${n} ${'x'.repeat(60)}\n`).join(''));
  const spool = join(dir, 'spool');
  const checkpoint = join(dir, 'collector.ckpt');
  const chain = (follow: string[]) => [
    ['tail', '--from-head', ...follow, '--checkpoint', checkpoint, '--stats', log],
    ['buffer', spool, '--checkpoint', checkpoint, '--chunk-events', '1000', '--drain-timeout', '1s', '--stats'],
  ];
  const first = runStalled(t, chain([]));
  // the buffer has taken everything tail read: its chunks on disk stop changing
  await waitForSteady(async () => (await chunksIn(spool)).names.length, 'the chunks on disk', { intervalMs: 500, accept: (chunks) => chunks > 10 });
  const started = Date.now();
  first.child.kill('SIGTERM');
  t.is(await first.exited, 0, first.stderr());
  t.true(Date.now() - started < 10_000);
  t.regex(first.stderr(), /logkit run\[buffer\]: stats \(exit\) /);
  t.regex(first.stderr(), /logkit run\[buffer\]: stopped after --drain-timeout 1s; \d+ events in \d+ chunks kept in /);
  t.regex(first.stderr(), /logkit run\[tail\]: stats \(exit\) /);
  // the checkpoint was closed: it covers the whole file, durable in the buffer
  const offsets = [...(await readCheckpointFile(checkpoint)).values()].map((p) => Number(p.off));
  t.deepEqual(offsets, [(await stat(log)).size]);
  // what the first run wrote sits in its stdout pipe; the next start replays the rest
  const written = numbersIn(await first.output());
  const second = await logkit(['run', chainText(chain(['--no-follow']))], { encoding: 'buffer' });
  t.is(second.exitCode, 0, String(second.stderr));
  const replayed = numbersIn(Buffer.from(second.stdout as unknown as Uint8Array));
  const seen = new Set([...written, ...replayed]);
  t.is(seen.size, total, `first run wrote ${written.length}, the next replayed ${replayed.length}`);
});

test('logkit run: a buffer that fails (--overflow fail) ends the chain with 75 at once, its checkpoint written', async (t) => {
  const dir = await tempDir(t);
  const log = join(dir, 'app.log');
  await writeFile(log, Array.from({ length: 50_000 }, (_, n) => `line ${n} ${'x'.repeat(60)}\n`).join(''));
  const checkpoint = join(dir, 'collector.ckpt');
  const chain = runStalled(t, [
    ['tail', '--from-head', '--checkpoint', checkpoint, '--stats', log],
    ['buffer', join(dir, 'spool'), '--checkpoint', checkpoint, '--chunk-bytes', '32k', '--total-limit', '128k', '--overflow', 'fail'],
  ]);
  t.is(await chain.exited, 75, chain.stderr());
  t.regex(chain.stderr(), /logkit: buffer: the total limit of 131072 bytes is reached \(--overflow fail\); \d+ events in \d+ chunks kept in .* for the next start/);
  t.regex(chain.stderr(), /logkit run\[tail\]: stats \(exit\) /);
  // what was made durable before the failure is committed
  const offsets = [...(await readCheckpointFile(checkpoint)).values()].map((p) => Number(p.off));
  t.is(offsets.length, 1);
  t.true(offsets[0]! > 0 && offsets[0]! < (await stat(log)).size, JSON.stringify(offsets));
});

test('logkit run: receive whose stdout never drains ends with 75 at its deadline, after its exit counters', async (t) => {
  const chain = runStalled(t, [['receive', '--bind', '127.0.0.1:0', '--stats']]);
  await waitFor(() => /listening on/.test(chain.stderr()), 'receive listening');
  const port = Number(/listening on tcp:\/\/127\.0\.0\.1:(\d+)/.exec(chain.stderr())![1]);
  const socket = connect(port, '127.0.0.1');
  t.teardown(() => socket.destroy());
  socket.on('error', () => {});
  await new Promise((resolve) => socket.once('connect', resolve));
  const entries = encodeEntryStream(Array.from({ length: 1000 }, (_, i) => ({ tag: 'stuck', time: new EventTime(1700000000, i), record: { i, pad: 'z'.repeat(60) } })));
  for (let r = 0; r < 200; r++) socket.write(encodePackedForward('stuck', entries, { chunk: `s${r}` }));
  // receive has taken all it will: stdout is full, and what the sender still queues stops shrinking
  await waitForSteady(() => socket.writableLength, 'what the sender still queues', { intervalMs: 300, accept: (queued) => queued > 0 });
  chain.child.kill('SIGTERM');
  t.is(await chain.exited, 75, chain.stderr());
  t.regex(chain.stderr(), /logkit run\[receive\]: stats \(exit\) connections=1 /);
  t.regex(chain.stderr(), /logkit: receive: stdout did not drain within 10 s of SIGTERM/);
});

test('logkit run names the stage in each message; the piped form keeps the command name', async (t) => {
  const dir = await tempDir(t);
  const log = join(dir, 'app.log');
  await writeFile(log, '{"msg":"one"}\nnot json\n{"msg":"three"}\n');
  const chain = [['tail', '--no-follow', '--from-head', '--stats', log], ['parse', 'json', '--stats']];
  const run = await logkit(['run', chainText(chain)]);
  t.is(run.exitCode, 0, String(run.stderr));
  t.regex(String(run.stderr), /^logkit run\[tail\]: stats \(exit\) /m);
  t.regex(String(run.stderr), /^logkit run\[parse\]: 1 of 3 lines did not parse as json/m);
  t.regex(String(run.stderr), /^logkit run\[parse\]: stats \(exit\) /m);
  const json = await logkit(['run', chainText(chain), '--log-format', 'json']);
  const lines = String(json.stderr).trimEnd().split('\n').map((line) => JSON.parse(line) as { command: string; stage?: string; msg: string });
  t.true(lines.some((l) => l.command === 'run' && l.stage === 'tail' && /^stats \(exit\)/.test(l.msg)), String(json.stderr));
  t.true(lines.some((l) => l.command === 'run' && l.stage === 'parse' && /did not parse/.test(l.msg)), String(json.stderr));
  // one process per command: the command's own name, no stage
  const piped = await logkit(['parse', 'json', '--stats'], { input: 'not json\n' });
  t.regex(String(piped.stderr), /^logkit parse: 1 of 1 lines did not parse as json/m);
  t.notRegex(String(piped.stderr), /\[parse\]/);
});
