import { readFileSync } from 'node:fs';
import { appendFile, mkdir, symlink, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import { parseJSON } from '../../src/codec/ndjson.js';
import { logkit, tempDir } from '../helpers/logkit.js';
import { TailProcess, holdsDeleted, type TailEvent, untilFollowing } from './tail-process.js';
import { waitFor } from '../helpers/wait.js';

function eventsOf(stdout: unknown): TailEvent[] {
  return String(stdout)
    .split('\n')
    .filter(Boolean)
    .map((line) => parseJSON(line) as TailEvent);
}

async function tailOnce(t: Parameters<typeof tempDir>[0], content: string | Buffer, args: string[] = []) {
  const dir = await tempDir(t);
  const file = join(dir, 'app.log');
  await writeFile(file, content);
  const r = await logkit(['tail', '--no-follow', '-o', 'json', ...args, file]);
  t.is(r.exitCode, 0, String(r.stderr));
  return { events: eventsOf(r.stdout), file, dir };
}

test('--no-follow reads a whole file and exits; \\r\\n and \\n both end lines; offsets are exact', async (t) => {
  const { events, file } = await tailOnce(t, 'one\r\ntwo\n\nthree\r\n', ['--tag', 'app.*', '--path-key', 'path']);
  t.deepEqual(events.map((e) => e.record.message), ['one', 'two', '', 'three']);
  t.deepEqual(events.map((e) => e.options!.src!.off), [5, 9, 10, 17]);
  t.is(events[0]!.record.path, file);
  t.is(events[0]!.tag, `app.${file.slice(1).replaceAll('/', '.')}`);
  t.regex(events[0]!.options!.src!.id, /^\d+:\d+:17:[0-9a-f]{16}$/);
});

test('invalid UTF-8 is kept as bytes, valid lines around it stay text', async (t) => {
  const bad = Buffer.from([0x61, 0xff, 0xfe, 0x62, 0xc3]); // a, two invalid bytes, b, a cut-off sequence
  const { events } = await tailOnce(t, Buffer.concat([Buffer.from('héllo\n'), bad, Buffer.from('\nafter\n')]));
  t.is(events[0]!.record.message, 'héllo');
  // NDJSON writes bytes as {"$base64"}, which parseJSON turns back into bytes
  const bytes = events[1]!.record.message as unknown as Buffer;
  t.true(Buffer.isBuffer(bytes));
  t.true(bytes.equals(bad));
  t.is(events[2]!.record.message, 'after');
});

test('a line longer than --max-line-bytes is cut and flagged; the next line is intact (also across reads)', async (t) => {
  const long = 'x'.repeat(1000);
  const { events } = await tailOnce(t, `short\n${long}\nnext\n`, ['--max-line-bytes', '100']);
  t.deepEqual(events.map((e) => [e.record.message, e.record.truncated]), [['short', undefined], ['x'.repeat(100), true], ['next', undefined]]);
  // 3 MiB without a newline, default 1 MiB limit: memory stays bounded, the line after survives
  const huge = 'y'.repeat(3 * 1024 * 1024);
  const second = await tailOnce(t, `${huge}\nafter\n`);
  t.is(second.events.length, 2);
  t.is((second.events[0]!.record.message as string).length, 1024 * 1024);
  t.true(second.events[0]!.record.truncated as boolean);
  t.is(second.events[1]!.record.message, 'after');
  t.is(second.events[1]!.options!.src!.off, huge.length + 7);
});

test('--multiline java: a stack trace with causes is one event', async (t) => {
  const trace = [
    'java.lang.IllegalStateException: boom',
    '\tat com.example.App.run(App.java:10)',
    '\tat com.example.App.main(App.java:5)',
    'Caused by: java.io.IOException: disk',
    '\tat com.example.Disk.read(Disk.java:3)',
    '\t... 2 more',
  ].join('\n');
  const { events } = await tailOnce(t, `2026-01-01 INFO start\n${trace}\n2026-01-01 INFO next\n`, ['--multiline', 'java']);
  t.deepEqual(events.map((e) => e.record.message), ['2026-01-01 INFO start', trace, '2026-01-01 INFO next']);
});

test('--multiline python: a traceback, chained exceptions included, is one event', async (t) => {
  const trace = [
    'Traceback (most recent call last):',
    '  File "app.py", line 3, in <module>',
    '    main()',
    'KeyError: \'x\'',
    '',
    'During handling of the above exception, another exception occurred:',
    '',
    'Traceback (most recent call last):',
    '  File "app.py", line 5, in <module>',
    'ValueError: bad',
  ].join('\n');
  const { events } = await tailOnce(t, `INFO before\n${trace}\nINFO after\n`, ['--multiline', 'python']);
  t.deepEqual(events.map((e) => e.record.message), ['INFO before', trace, 'INFO after']);
});

test('--multiline-start: lines join until the next start; a held group leaves after --multiline-flush', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'app.log');
  await writeFile(file, '');
  const tail = new TailProcess(t, ['--multiline-start', '^\\d{4}-', '--multiline-flush', '300ms', '--from-head', file]);
  await appendFile(file, '2026-01-01 first\n  detail a\n  detail b\n2026-01-01 second\n  more\n');
  await tail.waitForEvents(2, 20_000);
  t.deepEqual(tail.messages(), ['2026-01-01 first\n  detail a\n  detail b', '2026-01-01 second\n  more']);
  t.is(tail.events[1]!.options!.src!.off, 64);
  t.is(await tail.stop(), 0);
});

test('--format docker joins partial json-file lines and takes the time from the line', async (t) => {
  const lines = [
    { log: 'part one, ', stream: 'stdout', time: '2026-01-02T03:04:05.123456789Z' },
    { log: 'part two\n', stream: 'stdout', time: '2026-01-02T03:04:05.2Z' },
    { log: 'whole\n', stream: 'stderr', time: '2026-01-02T03:04:06Z' },
  ];
  const { events } = await tailOnce(t, lines.map((l) => JSON.stringify(l)).join('\n') + '\nnot json\n', ['--format', 'docker']);
  t.deepEqual(events.map((e) => e.record), [
    { message: 'part one, part two', stream: 'stdout' },
    { message: 'whole', stream: 'stderr' },
    { message: 'not json', error: 'not a Docker json-file log line' },
  ]);
  t.is(events[0]!.time, '2026-01-02T03:04:05.123456789Z');
});

test('--format cri joins P pieces with their F line', async (t) => {
  const content = [
    '2026-01-02T03:04:05.000000001Z stdout P first ',
    '2026-01-02T03:04:05.000000002Z stdout P second ',
    '2026-01-02T03:04:05.000000003Z stdout F third',
    '2026-01-02T03:04:06Z stderr F alone',
  ].join('\n');
  const { events } = await tailOnce(t, content + '\n', ['--format', 'cri', '--multiline', 'java']);
  t.deepEqual(events.map((e) => e.record), [
    { message: 'first second third', stream: 'stdout' },
    { message: 'alone', stream: 'stderr' },
  ]);
  t.is(events[0]!.time, '2026-01-02T03:04:05.000000001Z');
});

test('a partial last line is held, then let out after --partial-flush', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'app.log');
  await writeFile(file, '');
  const tail = new TailProcess(t, ['--partial-flush', '400ms', '--from-head', file]);
  await appendFile(file, 'done\nhalf');
  await tail.waitForEvents(1);
  const heldAt = Date.now();
  await tail.waitForEvents(2, 10_000);
  t.true(Date.now() - heldAt >= 200, 'the partial line waited');
  t.deepEqual(tail.messages(), ['done', 'half']);
  t.is(await tail.stop(), 0);
});

test('a file that starts matching the glob later is read from its head; files present at start from their end', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'old.log'), 'old line\n');
  await writeFile(join(dir, 'ready'), '');
  const tail = new TailProcess(t, ['--refresh-interval', '60000ms', join(dir, '*.log'), join(dir, 'ready')]);
  await untilFollowing(tail, join(dir, 'ready'));
  await appendFile(join(dir, 'old.log'), 'appended\n');
  await writeFile(join(dir, 'new.log'), 'new 1\nnew 2\n');
  await tail.waitForEvents(3, 20_000);
  t.deepEqual(tail.messages().filter((m) => m !== 'ping').sort(), ['appended', 'new 1', 'new 2']);
  t.is(await tail.stop(), 0);
});

test('deletion and re-creation, and a symbolic link moved to another file, are followed', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'app.log');
  await writeFile(file, '');
  await mkdir(join(dir, 'real'));
  await writeFile(join(dir, 'real', 'a'), '');
  await symlink(join(dir, 'real', 'a'), join(dir, 'link.log'));
  const tail = new TailProcess(t, ['--from-head', '--rotate-wait', '200ms', '--refresh-interval', '300ms', file, join(dir, 'link.log')]);
  await appendFile(file, 'before delete\n');
  await appendFile(join(dir, 'link.log'), 'via link\n');
  await tail.waitForEvents(2);
  await unlink(file);
  // a deletion, then a new file: tail has let go of the deleted one before the new one appears
  await waitFor(async () => !(await holdsDeleted(tail.child.pid!, file)), 'tail to close the deleted file', 20_000);
  await writeFile(file, 'recreated\n');
  await writeFile(join(dir, 'real', 'b'), 'b 1\n');
  await unlink(join(dir, 'link.log'));
  await symlink(join(dir, 'real', 'b'), join(dir, 'link.log'));
  await tail.waitForEvents(4, 20_000);
  t.deepEqual(tail.messages().sort(), ['b 1', 'before delete', 'recreated', 'via link']);
  t.is(await tail.stop(), 0);
});

test('a file cut shorter in place, its first KiB kept: what is left is not read twice', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'app.log');
  const pos = join(dir, 'tail.pos');
  await writeFile(file, '');
  const tail = new TailProcess(t, ['--from-head', '--pos', pos, '--pos-interval', '10ms', file]);
  const kept = Array.from({ length: 110 }, (_, i) => `keep ${String(i).padStart(4, '0')}`); // 1100 bytes
  await appendFile(file, kept.map((l) => l + '\n').join('') + 'cut 1\ncut 2\n');
  await tail.waitForEvents(112);
  const { truncate } = await import('node:fs/promises');
  await truncate(file, 1100);
  // tail has seen the cut once its saved position is back at the new end (written before, a
  // line would land below the old offset: a cut and a refill look the same to any reader)
  const savedOffset = () => {
    try {
      return Object.values(JSON.parse(readFileSync(pos, 'utf8')).sources as Record<string, { off: number }>)[0]?.off;
    } catch {
      return undefined;
    }
  };
  await tail.waitFor(() => savedOffset() === 1100, 20_000, 'the cut to be seen');
  await appendFile(file, 'later\nend\n');
  await tail.waitFor(() => tail.messages().includes('end'), 20_000, 'the lines after the cut');
  t.deepEqual(tail.messages(), [...kept, 'cut 1', 'cut 2', 'later', 'end']);
  t.is(await tail.stop(), 0);
});

test('tail - reads lines from standard input', async (t) => {
  const r = await logkit(['tail', '-', '-o', 'json', '--tag', 'in.*', '--multiline', 'java'], { input: 'a\nb\n\tat x\nc' });
  t.is(r.exitCode, 0);
  const events = eventsOf(r.stdout);
  t.deepEqual(events.map((e) => [e.tag, e.record.message]), [['in.stdin', 'a'], ['in.stdin', 'b\n\tat x'], ['in.stdin', 'c']]);
  t.is(events[0]!.options, undefined);
});

test('bad arguments are usage errors', async (t) => {
  const r = await logkit(['tail', '--multiline-start', '(', 'x.log']);
  t.is(r.exitCode, 64);
  t.regex(String(r.stderr), /--multiline-start/);
  const mixed = await logkit(['tail', '-', 'x.log']);
  t.is(mixed.exitCode, 64);
  const bad = await logkit(['tail', '--max-line-bytes', '0', 'x.log']);
  t.is(bad.exitCode, 64);
  t.regex(String(bad.stderr), /--max-line-bytes: expected at least 1, got 0/);
});

test('--max-open-files bounds the open files; the rest wait, with a note', async (t) => {
  const dir = await tempDir(t);
  for (const name of ['a.log', 'b.log', 'c.log']) await writeFile(join(dir, name), `${name}\n`);
  const r = await logkit(['tail', '--no-follow', '--max-open-files', '2', '-o', 'json', join(dir, '*.log')]);
  t.is(r.exitCode, 0);
  t.deepEqual(eventsOf(r.stdout).map((e) => e.record.message), ['a.log', 'b.log']);
  t.regex(String(r.stderr), /more than 2 files match/);
});

test('--no-follow with a path that does not exist exits 66', async (t) => {
  const dir = await tempDir(t);
  const r = await logkit(['tail', '--no-follow', join(dir, 'missing.log')]);
  t.is(r.exitCode, 66);
  t.regex(String(r.stderr), /missing\.log: no such file/);
});
