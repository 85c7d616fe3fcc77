import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import test from 'ava';
import { execa } from 'execa';
import { EventTime } from '../../src/event/event-time.js';
import { encodeEntries } from '../../src/codec/msgpack-writer.js';
import { LOGKIT_BIN, logkit, tempDir } from '../helpers/logkit.js';

const events = (n: number) =>
  Array.from({ length: n }, (_, i) => ({
    tag: i % 2 ? 'app.web' : 'app.db',
    time: new EventTime(1700000000 + i, i),
    record: { level: ['info', 'warn', 'error'][i % 3], message: `line ${i}`, seq: i },
  }));

test('pretty output: one aligned line per event, no color when not a terminal', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'e.msgpack');
  await writeFile(file, encodeEntries(events(3)));
  const r = await logkit(['cat', file]);
  t.is(r.exitCode, 0);
  const lines = String(r.stdout).trimEnd().split('\n');
  t.is(lines.length, 3);
  t.is(lines[0], '2023-11-14T22:13:20.000000000Z  app.db    INFO   line 0  seq=0');
  t.is(lines[2], '2023-11-14T22:13:22.000000002Z  app.db    ERROR  line 2  seq=2');
  t.notRegex(String(r.stdout), /\x1b\[/);
});

test('FORCE_COLOR colors by level; NO_COLOR wins over it', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'e.msgpack');
  await writeFile(file, encodeEntries(events(3)));
  const colored = await logkit(['cat', file], { env: { FORCE_COLOR: '1', NO_COLOR: '' } });
  t.regex(String(colored.stdout), /\x1b\[31mERROR/); // red
  t.regex(String(colored.stdout), /\x1b\[33mWARN/); // yellow
  const plain = await logkit(['cat', file], { env: { FORCE_COLOR: '1', NO_COLOR: '1' } });
  t.notRegex(String(plain.stdout), /\x1b\[/);
});

test('on a real terminal cat colors, and NO_COLOR turns it off', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'e.msgpack');
  await writeFile(file, encodeEntries(events(3)));
  // `script` gives the child a pseudo-terminal as stdout
  const run = (noColor: string) =>
    execa('script', ['-qec', `${process.execPath} ${LOGKIT_BIN} cat ${file}`, '/dev/null'], {
      env: { NO_COLOR: noColor, FORCE_COLOR: '', TERM: 'xterm' },
      reject: false,
    });
  const tty = await run('');
  t.is(tty.exitCode, 0);
  t.regex(String(tty.stdout), /\x1b\[31mERROR/);
  const noColor = await run('1');
  t.regex(String(noColor.stdout), /ERROR/);
  t.notRegex(String(noColor.stdout), /\x1b\[3\dm/);
});

test('converts MessagePack to NDJSON and back, gzip input included', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'e.msgpack.gz');
  const original = encodeEntries(events(100));
  await writeFile(file, gzipSync(original));
  const json = await logkit(['cat', '-o', 'json', file]);
  t.is(json.exitCode, 0);
  t.is(String(json.stdout).trimEnd().split('\n').length, 100);
  const back = await logkit(['cat', '-o', 'msgpack'], { input: String(json.stdout), encoding: 'buffer' });
  t.is(back.exitCode, 0);
  t.deepEqual(Buffer.from(back.stdout as Uint8Array), original);
});

test('concatenated gzip members are all read', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'two.gz');
  await writeFile(file, Buffer.concat([gzipSync(encodeEntries(events(5))), gzipSync(encodeEntries(events(7)))]));
  const r = await logkit(['cat', '-o', 'json', file]);
  t.is(r.exitCode, 0);
  t.is(String(r.stdout).trimEnd().split('\n').length, 12);
});

test('truncated MessagePack: earlier events are written, then exit 65 naming the byte offset', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'cut.msgpack');
  const whole = encodeEntries(events(10));
  const firstNine = encodeEntries(events(9)).length;
  await writeFile(file, whole.subarray(0, whole.length - 3));
  const r = await logkit(['cat', '-o', 'json', file]);
  t.is(r.exitCode, 65);
  t.is(String(r.stdout).trimEnd().split('\n').length, 9);
  t.regex(String(r.stderr), new RegExp(`byte ${firstNine}: truncated`));
});

test('garbage in the middle: earlier events are written, exit 65 at the offset of the bad entry', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'bad.msgpack');
  const good = encodeEntries(events(4));
  await writeFile(file, Buffer.concat([good, Buffer.from('2a2a2a', 'hex'), encodeEntries(events(2))]));
  const r = await logkit(['cat', '-o', 'json', file]);
  t.is(r.exitCode, 65);
  t.is(String(r.stdout).trimEnd().split('\n').length, 4);
  t.regex(String(r.stderr), new RegExp(`bad\\.msgpack: byte ${good.length}: expected a Message-mode entry`));
});

test('invalid NDJSON: the line is named and skipped, the lines after it still flow, exit 65 at the end', async (t) => {
  const line = (i: number) => JSON.stringify({ tag: 't', time: i, record: { i } });
  const r = await logkit(['cat', '-o', 'json'], { input: `${line(1)}\n${line(2)}\n{"tag":"t","record":\n{"tag":"t","recrd":{}}\n${line(5)}\n` });
  t.is(r.exitCode, 65);
  t.deepEqual(String(r.stdout).trimEnd().split('\n').map((l) => (JSON.parse(l) as { record: { i: number } }).record.i), [1, 2, 5]);
  t.regex(String(r.stderr), /line 3: invalid JSON[^\n]*, skipped/);
  t.regex(String(r.stderr), /line 4: expected "record" to be an object, skipped/);
  t.regex(String(r.stderr), /stdin: line 3: 2 NDJSON lines were not events and skipped \(this is the first: invalid JSON/);
});

test('a wrong input does not flood stderr: ten skipped lines are named, the rest counted', async (t) => {
  const good = JSON.stringify({ tag: 't', time: 1, record: {} });
  const r = await logkit(['cat', '-o', 'json'], { input: `${good}\n${'{not json\n'.repeat(1000)}${good}\n` });
  t.is(r.exitCode, 65);
  t.is(String(r.stdout).trimEnd().split('\n').length, 2);
  t.is(String(r.stderr).match(/, skipped/g)?.length, 10);
  t.regex(String(r.stderr), /further skipped lines are counted, not named/);
  t.regex(String(r.stderr), /stdin: line 2: 1000 NDJSON lines were not events and skipped/);
});

test('raw text lines become events with the line as message', async (t) => {
  const r = await logkit(['cat', '-o', 'json'], { input: 'hello world\nsecond\r\n{"not":"an event"}\n' });
  t.is(r.exitCode, 0);
  const out = String(r.stdout).trimEnd().split('\n').map((l) => JSON.parse(l));
  t.deepEqual(out.map((e) => e.record.message), ['hello world', 'second', '{"not":"an event"}']);
});

test('a closed downstream (cat | head -1) exits 0 with nothing on stderr', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'big.msgpack');
  await writeFile(file, encodeEntries(events(200_000)));
  const r = await execa('bash', ['-c', `set -o pipefail; "${process.execPath}" "${LOGKIT_BIN}" cat "${file}" | head -1; echo "status=\${PIPESTATUS[0]}" >&2`], { reject: false });
  t.regex(String(r.stdout), /^\S+Z {2}app\.db +INFO {3}line 0 {2}seq=0$/);
  t.is(String(r.stderr).trim(), 'status=0');
});

test('a missing file exits 66', async (t) => {
  const r = await logkit(['cat', '/nonexistent/file']);
  t.is(r.exitCode, 66);
  t.regex(String(r.stderr), /no such file/);
});
