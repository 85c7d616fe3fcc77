import { execFileSync } from 'node:child_process';
import { appendFile, mkdir, symlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import test from 'ava';
import { parseJSON } from '../../src/codec/ndjson.js';
import { logkit, tempDir } from '../helpers/logkit.js';
import { TailProcess, untilFollowing, type TailEvent } from './tail-process.js';

const occurrences = (text: string, part: string): number => text.split(part).length - 1;
const messagesOf = (stdout: unknown): string[] =>
  String(stdout)
    .split('\n')
    .filter(Boolean)
    .map((line) => String((parseJSON(line) as TailEvent).record.message));

// /proc/self/mem stats as a regular file, opens, and fails every read at offset 0 with EIO:
// the failing disk a test can have without root tricks.
const EIO_FILE = '/proc/self/mem';

test('a file that fails to read (EIO) is reported once and retried, while the other files keep flowing', async (t) => {
  const dir = await tempDir(t);
  const good = join(dir, 'good.log');
  await writeFile(good, '');
  const tail = new TailProcess(t, ['--refresh-interval', '100ms', EIO_FILE, good]);
  await untilFollowing(tail, good);
  for (let i = 0; i < 100; i++) await appendFile(good, `line ${i}\n`);
  await tail.waitFor(() => tail.messages().includes('line 99'), 30_000, 'the good file to flow');
  // several rescans (every 100 ms) have retried the failing file by now: still one message
  await tail.waitFor(() => tail.stderr.includes(EIO_FILE), 30_000, 'the failing file to be named');
  const before = Date.now();
  await tail.waitFor(() => Date.now() - before > 500, 5_000, 'a few rescans');
  t.is(occurrences(tail.stderr, EIO_FILE), 1, tail.stderr);
  t.regex(tail.stderr, /cannot read: .*EIO|cannot read: .*input\/output error/i);
  t.is(await tail.stop(), 0, tail.stderr);
  t.deepEqual(tail.messages().filter((m) => m.startsWith('line ')), Array.from({ length: 100 }, (_, i) => `line ${i}`));
});

test('--no-follow: the readable files are read whole, then the unreadable one makes exit status 74', async (t) => {
  const dir = await tempDir(t);
  const good = join(dir, 'good.log');
  await writeFile(good, 'a\nb\nc\n');
  const r = await logkit(['tail', '--no-follow', '-o', 'json', EIO_FILE, good]);
  t.deepEqual(messagesOf(r.stdout), ['a', 'b', 'c']);
  t.is(r.exitCode, 74, String(r.stderr));
  t.regex(String(r.stderr), /could not be read: \/proc\/self\/mem/);
});

test('a FIFO, a device and a directory are named once each instead of being skipped silently', async (t) => {
  const dir = await tempDir(t);
  const fifo = join(dir, 'pipe.log');
  execFileSync('mkfifo', [fifo]);
  const sub = join(dir, 'sub.log');
  await mkdir(sub);
  const good = join(dir, 'good.log');
  await writeFile(good, '');
  const tail = new TailProcess(t, ['--refresh-interval', '100ms', good, fifo, '/dev/zero', sub]);
  await untilFollowing(tail, good);
  await tail.waitFor(() => tail.stderr.includes(fifo) && tail.stderr.includes('/dev/zero') && tail.stderr.includes(sub), 30_000, 'every path named');
  const before = Date.now();
  await tail.waitFor(() => Date.now() - before > 500, 5_000, 'a few rescans');
  t.is(occurrences(tail.stderr, `${fifo}:`), 1, tail.stderr);
  t.is(occurrences(tail.stderr, '/dev/zero:'), 1, tail.stderr);
  t.is(occurrences(tail.stderr, `${sub}:`), 1, tail.stderr);
  t.regex(tail.stderr, /pipe\.log: a FIFO, not a regular file/);
  t.regex(tail.stderr, /\/dev\/zero: a character device, not a regular file/);
  t.is(await tail.stop(), 0);
});

test('a FIFO and a socket that a glob matches are named once each, as a literal path to one is (the glob library does not list them)', async (t) => {
  const dir = await tempDir(t);
  const fifo = join(dir, 'pipe.log');
  execFileSync('mkfifo', [fifo]);
  const socketPath = join(dir, 'daemon.log');
  const server = createServer();
  await new Promise<void>((done) => server.listen(socketPath, done));
  t.teardown(() => server.close());
  await mkdir(join(dir, 'sub.log')); // a directory a glob matches stays unnamed, as before: globs match those routinely
  const good = join(dir, 'good.log');
  await writeFile(good, '');
  const tail = new TailProcess(t, ['--refresh-interval', '100ms', join(dir, '*.log')]);
  await untilFollowing(tail, good);
  await tail.waitFor(() => tail.stderr.includes(fifo) && tail.stderr.includes(socketPath), 30_000, 'the FIFO and the socket named');
  // two files made later are found by later scans, each of which met the FIFO and the socket again
  for (const name of ['late-1.log', 'late-2.log']) {
    await writeFile(join(dir, name), `${name}\n`); // a new file is read from its head
    await tail.waitFor(() => tail.messages().includes(name), 30_000, `${name} found by a rescan`);
  }
  t.is(occurrences(tail.stderr, `${fifo}:`), 1, tail.stderr);
  t.is(occurrences(tail.stderr, `${socketPath}:`), 1, tail.stderr);
  t.regex(tail.stderr, /pipe\.log: a FIFO, not a regular file: tail follows regular files only/);
  t.regex(tail.stderr, /daemon\.log: a socket, not a regular file/);
  t.false(tail.stderr.includes('sub.log'), tail.stderr);
  t.is(await tail.stop(), 0);
});

test('--no-follow on something that is not a regular file is an error (66), as a missing file is', async (t) => {
  const r = await logkit(['tail', '--no-follow', '/dev/zero']);
  t.is(r.exitCode, 66);
  t.regex(String(r.stderr), /\/dev\/zero: a character device, not a regular file/);
});

test('--symlinks inside refuses a link that leaves the named directories (and says so); follow ships it', async (t) => {
  const dir = await tempDir(t);
  const logs = join(dir, 'logs');
  const secrets = join(dir, 'secrets');
  await mkdir(join(logs, 'real'), { recursive: true });
  await mkdir(secrets);
  await writeFile(join(secrets, 'shadow'), 'root:secret\n');
  await writeFile(join(logs, 'real', 'inner'), 'inner line\n');
  await writeFile(join(logs, 'app.log'), 'app line\n');
  await symlink(join(secrets, 'shadow'), join(logs, 'evil.log'));
  await symlink(join(logs, 'real', 'inner'), join(logs, 'inner.log'));
  const pattern = join(logs, '*.log');

  const inside = await logkit(['tail', '--no-follow', '--symlinks', 'inside', '-o', 'json', pattern]);
  t.is(inside.exitCode, 0, String(inside.stderr));
  t.deepEqual(messagesOf(inside.stdout).sort(), ['app line', 'inner line']);
  t.regex(String(inside.stderr), /evil\.log: a symbolic link to .*shadow, outside the directories the paths name/);

  const never = await logkit(['tail', '--no-follow', '--symlinks', 'never', '-o', 'json', pattern]);
  t.deepEqual(messagesOf(never.stdout), ['app line']);

  const follow = await logkit(['tail', '--no-follow', '-o', 'json', pattern]);
  t.deepEqual(messagesOf(follow.stdout).sort(), ['app line', 'inner line', 'root:secret']);
});

test('--symlinks inside: a followed log swapped for a link to a file outside is not read', async (t) => {
  const dir = await tempDir(t);
  const logs = join(dir, 'logs');
  await mkdir(logs);
  const secret = join(dir, 'shadow');
  await writeFile(secret, 'root:secret\n');
  const live = join(logs, 'app.log');
  await writeFile(live, '');
  const tail = new TailProcess(t, ['--symlinks', 'inside', '--refresh-interval', '100ms', '--rotate-wait', '100ms', join(logs, '*.log')]);
  await untilFollowing(tail, live);
  execFileSync('rm', [live]);
  await symlink(secret, live);
  await tail.waitFor(() => tail.stderr.includes('outside the directories'), 30_000, 'the refused link to be named');
  t.false(tail.messages().includes('root:secret'));
  t.is(await tail.stop(), 0);
  t.false(tail.messages().includes('root:secret'));
});

test('--multiline-start runs in linear time: a catastrophic pattern on a long line does not hang tail', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'app.log');
  // ^(a+)+$ on "aaa…ab" backtracks 2^n times in a backtracking engine: hours at 40 characters
  await writeFile(file, `start\n${'a'.repeat(5000)}b\nstart\n`);
  const started = Date.now();
  const r = await logkit(['tail', '--no-follow', '--multiline-start', '^(a+)+$|^start', '-o', 'json', file]);
  t.is(r.exitCode, 0, String(r.stderr));
  t.deepEqual(messagesOf(r.stdout), [`start\n${'a'.repeat(5000)}b`, 'start']);
  t.true(Date.now() - started < 60_000);
});
