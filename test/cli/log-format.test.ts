import { writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { logkit, tempDir } from '../helpers/logkit.js';
import { StageProcess } from '../helpers/stage-process.js';
import { encode, numberedEvents } from '../forward/helpers.js';
import { freePort } from '../helpers/net.js';
import { startReceive } from '../helpers/receive.js';
import { waitFor } from '../helpers/wait.js';

/**
 * `--log-format json` covers every message: the ones that used to be written to stderr directly
 * (tail, forward, receive, the --buffer front ends, usage errors) included.
 */
function assertJsonLines(t: ExecutionContext, stderr: string, expected: RegExp, what: string): Array<Record<string, unknown>> {
  const lines = stderr.split('\n').filter((line) => line !== '');
  t.true(lines.length > 0, `${what}: some stderr`);
  const entries = lines.map((line) => {
    try {
      return JSON.parse(line) as Record<string, unknown>;
    } catch {
      t.fail(`${what}: a stderr line is not JSON: ${line}`);
      return {};
    }
  });
  for (const entry of entries) t.true(typeof entry.level === 'string' && typeof entry.msg === 'string', `${what}: ${JSON.stringify(entry)}`);
  t.true(entries.some((e) => expected.test(String(e.msg))), `${what}: a message matching ${expected} in ${stderr}`);
  return entries;
}

test('tail: waiting for a missing file, and the open-file limit, are JSON log lines', async (t) => {
  const dir = await tempDir(t);
  const missing = new StageProcess(t, ['tail', '--log-format', 'json', join(dir, 'missing.log')], 'ignore');
  await waitFor(() => missing.stderr.includes('\n'), 'the missing-file note');
  t.is(await missing.stop(), 0);
  assertJsonLines(t, missing.stderr, /missing\.log: no such file yet; waiting for it/, 'tail missing');

  await writeFile(join(dir, 'a.log'), 'a\n');
  await writeFile(join(dir, 'b.log'), 'b\n');
  const limited = new StageProcess(t, ['tail', '--log-format', 'json', '--max-open-files', '1', join(dir, '*.log')], 'ignore');
  await waitFor(() => limited.stderr.includes('files match'), 'the open-file limit note');
  t.is(await limited.stop(), 0);
  const [entry] = assertJsonLines(t, limited.stderr, /more than 1 files match/, 'tail limit').filter((e) => /files match/.test(String(e.msg)));
  t.is(entry!.level, 'warn');
  t.is(entry!.command, 'tail');
});

test('forward: a server down, up again, and the final error are JSON log lines', async (t) => {
  const port = await freePort();
  const forward = new StageProcess(t, ['forward', '--log-format', 'json', '--retry-max-interval', '200ms', '--heartbeat-interval', '100ms', '--drain-timeout', '1m', `127.0.0.1:${port}`], 'pipe');
  forward.child.stdin!.write(encode(numberedEvents(0, 10)));
  await waitFor(() => forward.stderr.includes('unavailable'), 'the server-down message');
  const receiver = await startReceive(t, [], { port });
  await waitFor(() => forward.stderr.includes('up again'), 'the up-again message');
  forward.child.stdin!.end();
  t.is(await forward.exited, 0);
  assertJsonLines(t, forward.stderr, /127\.0\.0\.1:\d+ unavailable: .*retrying \(backoff up to 200ms\)/, 'forward down');
  assertJsonLines(t, forward.stderr, /is up again/, 'forward up');
  await waitFor(() => receiver.events.length === 10, 'the events');

  const dead = await logkit(['forward', '--log-format', 'json', '--drain-timeout', '300ms', '127.0.0.1:1'], { input: encode(numberedEvents(0, 3)) });
  t.is(dead.exitCode, 69);
  const entries = assertJsonLines(t, String(dead.stderr), /3 events in \d+ chunks could not be delivered/, 'forward undelivered');
  t.is(entries.at(-1)!.level, 'error');
});

test('forward --buffer and store --buffer: their replay messages are JSON log lines', async (t) => {
  const dir = await tempDir(t);
  const spool = join(dir, 'spool');
  const port = 1; // nothing listens there: the chunks stay in the spool
  // long enough for the held events to become durable on a loaded machine
  const first = await logkit(['forward', '--log-format', 'json', '--buffer', spool, '--drain-timeout', '3s', `127.0.0.1:${port}`], { input: encode(numberedEvents(0, 5)) });
  t.is(first.exitCode, 75, String(first.stderr));
  assertJsonLines(t, String(first.stderr), /5 events in \d+ chunks not acknowledged .* are kept in/, 'forward kept');
  const second = await logkit(['forward', '--log-format', 'json', '--buffer', spool, '--drain-timeout', '300ms', `127.0.0.1:${port}`], { input: '' });
  t.is(second.exitCode, 75, String(second.stderr));
  assertJsonLines(t, String(second.stderr), /resending 5 events in \d+ chunks left in/, 'forward replay');
  const store = await logkit(['store', '--log-format', 'json', '--buffer', spool, 'file', join(dir, 'out.ndjson')], { input: '' });
  t.is(store.exitCode, 0);
  assertJsonLines(t, String(store.stderr), /storing first 5 events in \d+ chunks left in/, 'store replay');
});

test('receive: a client sending garbage is a JSON log line', async (t) => {
  const receiver = await startReceive(t, ['--log-format', 'json']);
  const socket = connect(receiver.port, '127.0.0.1');
  socket.on('error', () => {});
  socket.end(Buffer.from([0xc1, 0xc1, 0xc1, 0xc1]));
  await waitFor(() => receiver.stderr().split('\n').length > 2, 'the bad-client message');
  await receiver.stop();
  assertJsonLines(t, receiver.stderr(), /./, 'receive');
  t.true(receiver.stderr().split('\n').filter(Boolean).length >= 2, receiver.stderr());
});

test('a usage error, an unknown command and a renamed option are JSON with --log-format json', async (t) => {
  for (const args of [['forward', '--log-format', 'json', '--hostname', 'x', 'h:1'], ['forward', '--log-format', 'json', '--flush-interval', 'soon', 'h:1'], ['tag', '--log-format=json', '--no-such-option']]) {
    const r = await logkit(args, { input: '' });
    t.is(r.exitCode, 64, args.join(' '));
    const [entry] = assertJsonLines(t, String(r.stderr), /./, args.join(' '));
    t.is(entry!.level, 'error');
  }
});
