import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import { logkit, tempDir } from '../helpers/logkit.js';
import { encode, sampleEvents, startForward } from '../forward/helpers.js';
import { freePort } from '../helpers/net.js';
import { startReceive } from '../helpers/receive.js';
import { waitFor, waitForSteady } from '../helpers/wait.js';

// The policies themselves are DiskBuffer's (tested in test/buffer/); these check forward's wiring:
// the receiver is down, so nothing is acknowledged and the spool only grows.

const spoolBytes = async (dir: string): Promise<number> => {
  let sum = 0;
  for (const name of await readdir(dir)) if (name.endsWith('.lkc')) sum += (await stat(join(dir, name))).size;
  return sum;
};

test('forward --buffer --overflow fail: exit 75 with a clear message once --total-limit is reached; what is durable stays and is delivered by the next run', async (t) => {
  const dir = await tempDir(t);
  const spool = join(dir, 'spool');
  const port = await freePort();
  const events = sampleEvents(6000);
  const result = await logkit(['forward', '--buffer', spool, '--chunk-bytes', '8192', '--total-limit', '64k', '--overflow', 'fail', `127.0.0.1:${port}`], { input: encode(events) });
  t.is(result.exitCode, 75, String(result.stderr));
  t.regex(String(result.stderr), /logkit: forward: --buffer: the total limit of 65536 bytes is reached \(--overflow fail\); \d+ events in \d+ chunks kept in/);
  t.true((await spoolBytes(spool)) <= 65536);
  const receiver = await startReceive(t, [], { port });
  const resend = await logkit(['forward', '--buffer', spool, `127.0.0.1:${port}`], { input: '' });
  t.is(resend.exitCode, 0, String(resend.stderr));
  t.regex(String(resend.stderr), /resending \d+ events in \d+ chunks/);
  await waitFor(() => receiver.events.length > 0, 'the kept events');
  // The first events, in order: the spool kept the oldest.
  t.deepEqual(receiver.events.filter((e) => e.tag === 'app.test').slice(0, 4).map((e) => e.record.i), [1, 2, 3, 4]);
});

test('forward --buffer --overflow drop-oldest: the spool stays within --total-limit and the drops are counted', async (t) => {
  const dir = await tempDir(t);
  const spool = join(dir, 'spool');
  const port = await freePort();
  const result = await logkit(
    ['forward', '--buffer', spool, '--chunk-bytes', '8192', '--total-limit', '64k', '--overflow', 'drop-oldest', '--drain-timeout', '0.5', `127.0.0.1:${port}`],
    { input: encode(sampleEvents(6000)) },
  );
  t.is(result.exitCode, 75, String(result.stderr)); // end of input with chunks kept for the next start
  t.regex(String(result.stderr), /dropped the oldest chunk/);
  t.regex(String(result.stderr), /dropped \d+ events in \d+ chunks \(--overflow drop-oldest\)/);
  t.true((await spoolBytes(spool)) <= 65536 + 16384);
});

test('forward --buffer --overflow block: stdin is held back while the spool is full, then everything is delivered once the server is up; SIGTERM is a clean stop', async (t) => {
  const dir = await tempDir(t);
  const spool = join(dir, 'spool');
  const port = await freePort();
  const forward = startForward(t, ['--buffer', spool, '--chunk-bytes', '8192', '--total-limit', '64k', `127.0.0.1:${port}`]);
  const events = sampleEvents(20_000);
  // 20,000 events are about 2.5 MB: far more than 64 KiB; the pipe fills and the write waits.
  let written = false;
  const writing = forward.send(events).then(() => (written = true));
  await waitFor(async () => /waiting for the consumer to free space/.test(forward.stderr()), 'the block message');
  await waitForSteady(() => spoolBytes(spool), 'the spool', { intervalMs: 500 });
  t.false(written, 'stdin is held back');
  t.true((await spoolBytes(spool)) <= 65536);
  const receiver = await startReceive(t, [], { port });
  await writing;
  await waitFor(() => receiver.events.length >= events.length, 'every event', 40_000);
  const got = receiver.events.map((e) => Number(e.record.i));
  t.deepEqual([...got].sort((a, b) => a - b), events.map((e) => Number(e.record.i)), 'all, once');
  for (const tag of new Set(events.map((e) => e.tag))) {
    const ofTag = receiver.events.filter((e) => e.tag === tag).map((e) => Number(e.record.i));
    t.deepEqual(ofTag, [...ofTag].sort((a, b) => a - b), `in order within ${tag}`);
  }
  forward.process.kill('SIGTERM');
  t.is((await forward.process).exitCode, 0, forward.stderr());
  t.deepEqual((await readdir(spool)).filter((n) => n.endsWith('.lkc')), []);
});

test('forward --buffer: SIGTERM while the server is down exits 0 at once with the chunks kept, and a restart sends them with their original chunk ids', async (t) => {
  const dir = await tempDir(t);
  const spool = join(dir, 'spool');
  const port = await freePort();
  const forward = startForward(t, ['--buffer', spool, '--drain-timeout', '1', `127.0.0.1:${port}`]);
  await forward.send(sampleEvents(3000));
  await waitFor(async () => (await readdir(spool).catch(() => [] as string[])).some((n) => n.endsWith('.lkc')), 'durable chunks');
  const started = Date.now();
  forward.process.kill('SIGTERM');
  const stopped = await forward.process;
  t.is(stopped.exitCode, 0, forward.stderr());
  t.true(Date.now() - started < 10_000);
  t.regex(forward.stderr(), /3000 events in \d+ chunks not acknowledged .* are kept in/);
  const receiver = await startReceive(t, [], { port });
  const again = await logkit(['forward', '--buffer', spool, `127.0.0.1:${port}`], { input: '' });
  t.is(again.exitCode, 0, String(again.stderr));
  await waitFor(() => receiver.events.length >= 3000, 'every event');
  t.is(receiver.events.length, 3000);
});
