import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import { execa } from 'execa';
import { encodeEntries } from '../../src/codec/msgpack-writer.js';
import { EventTime } from '../../src/event/event-time.js';
import { LOGKIT_BIN, ROOT, logkit, tempDir } from '../helpers/logkit.js';
import { ndjson } from './helpers.js';

test('raw text in (kubectl logs | logkit parse json): JSON lines become records, time from --time-key', async (t) => {
  const input = '{"ts":"2026-11-21T10:00:00.123456789Z","level":"info","msg":"up"}\n{"ts":"2026-11-21T10:00:01Z","level":"warn","msg":"slow"}\n';
  const r = await logkit(['parse', 'json', '--time-key', 'ts', '-o', 'json'], { input });
  t.is(r.exitCode, 0, String(r.stderr));
  t.is(r.stderr, '');
  const events = ndjson(r.stdout);
  t.deepEqual(events.map((e) => e.record), [{ level: 'info', msg: 'up' }, { level: 'warn', msg: 'slow' }]);
  t.deepEqual(events.map((e) => e.time), ['2026-11-21T10:00:00.123456789Z', '2026-11-21T10:00:01.000000000Z']);
  t.is(events[0]!.tag, 'stdin');
});

test('100,000 generated json lines: cat -i text | parse json | cat -o json gives every event, seq in order, right times', async (t) => {
  const count = 100_000;
  const node = JSON.stringify(process.execPath);
  const bin = JSON.stringify(LOGKIT_BIN);
  const pipeline = `${node} bench/gen-logs.mjs json ${count} | ${node} ${bin} cat -i text -o msgpack | ${node} ${bin} parse json --time-key ts | ${node} ${bin} cat -o json`;
  const r = await execa('bash', ['-o', 'pipefail', '-c', pipeline], { cwd: ROOT, reject: false, maxBuffer: 256 * 1024 * 1024 });
  t.is(r.exitCode, 0, r.stderr);
  const lines = r.stdout.split('\n');
  t.is(lines.length, count);
  const base = Date.UTC(2026, 10, 21);
  for (let i = 0; i < count; i++) {
    const event = JSON.parse(lines[i]!) as { time: string; record: { seq: number; ts?: string } };
    if (event.record.seq !== i || event.time !== new EventTime(Math.floor((base + i * 3) / 1000), ((base + i * 3) % 1000) * 1e6).toISO() || 'ts' in event.record) {
      t.fail(`event ${i} is wrong: ${lines[i]}`);
      return;
    }
  }
  t.pass();
});

test('a line that does not parse keeps its record, gains parse_error, is counted on stderr; exit 0', async (t) => {
  const input = '{"a":1}\nnot json at all\n{"b":2}\n[1,2]\n';
  const r = await logkit(['parse', 'json', '-o', 'json'], { input });
  t.is(r.exitCode, 0);
  const events = ndjson(r.stdout);
  t.is(events.length, 4);
  t.deepEqual(events[0]!.record, { a: 1 });
  t.is(events[1]!.record.message, 'not json at all');
  t.regex(String(events[1]!.record.parse_error), /invalid JSON/);
  t.deepEqual(events[3]!.record, { message: '[1,2]', parse_error: 'JSON is not an object' });
  t.regex(String(r.stderr), /^logkit parse: 2 of 4 lines did not parse as json; marked with the field parse_error \(first: invalid JSON/);
});

test('--errors FILE: failures go to the file as NDJSON events, the rest downstream', async (t) => {
  const dir = await tempDir(t);
  const errors = join(dir, 'bad.ndjson');
  const input = '<13>Nov 21 00:00:00 host app[1]: fine\ngarbage line\n<13>Nov 21 00:00:01 host app[1]: fine too\n';
  const r = await logkit(['parse', 'syslog', '--timezone', 'UTC', '--errors', errors, '-o', 'json'], { input });
  t.is(r.exitCode, 0);
  const good = ndjson(r.stdout);
  t.deepEqual(good.map((e) => e.record.message), ['fine', 'fine too']);
  const bad = ndjson(await readFile(errors, 'utf8'));
  t.is(bad.length, 1);
  t.is(bad[0]!.record.message, 'garbage line');
  t.regex(String(bad[0]!.record.parse_error), /syslog/);
  t.regex(String(r.stderr), new RegExp(`1 of 3 lines did not parse as syslog; written to ${errors.replace(/[/.]/g, '\\$&')}`));
  const unwritable = await logkit(['parse', 'json', '--errors', join(dir, 'no', 'such', 'dir.ndjson')], { input: '{}\n' });
  t.is(unwritable.exitCode, 73);
  t.regex(String(unwritable.stderr), /cannot open --errors/);
});

test('--key, --keep-original, --remove-key and --nest shape the record; options pass through untouched', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'in.msgpack');
  const options = { src: { id: 'dev:ino:fp', off: 123 } };
  await writeFile(
    file,
    encodeEntries([{ tag: 'app', time: new EventTime(1, 0), record: { path: '/var/log/a', log: 'level=info msg="hi there"' }, options }]),
  );
  const run = async (...args: string[]) => ndjson((await logkit(['parse', 'logfmt', '--key', 'log', ...args, '-o', 'json', file])).stdout)[0]!;
  t.deepEqual((await run()).record, { level: 'info', msg: 'hi there' });
  t.deepEqual((await run('--keep-original')).record, { path: '/var/log/a', log: 'level=info msg="hi there"', level: 'info', msg: 'hi there' });
  t.deepEqual((await run('--keep-original', '--remove-key')).record, { path: '/var/log/a', level: 'info', msg: 'hi there' });
  t.deepEqual((await run('--nest', 'parsed')).record, { parsed: { level: 'info', msg: 'hi there' } });
  t.deepEqual((await run('--nest', 'parsed', '--keep-original', '--remove-key')).record, { path: '/var/log/a', parsed: { level: 'info', msg: 'hi there' } });
  const event = await run();
  t.deepEqual(event.options, options);
  t.is(event.time, '1970-01-01T00:00:01.000000000Z', 'no time field: the event keeps its time');
});

test('time: --time-format, --timezone, --keep-time-key; a bad time marks the line', async (t) => {
  const input = 'when=21/11/2026-10:00:00.5 msg=a\nwhen=yesterday msg=b\nmsg=c\n';
  const r = await logkit(['parse', 'logfmt', '--time-key', 'when', '--time-format', '%d/%m/%Y-%H:%M:%S.%N', '--timezone', 'Asia/Tokyo', '-o', 'json'], { input });
  const events = ndjson(r.stdout);
  t.is(events[0]!.time, '2026-11-21T01:00:00.500000000Z');
  t.deepEqual(events[0]!.record, { msg: 'a' });
  t.regex(String(events[1]!.record.parse_error), /time "yesterday" in field "when" is not a valid time/);
  t.deepEqual(events[2]!.record, { msg: 'c' });
  const kept = ndjson((await logkit(['parse', 'apache2', '--keep-time-key', '-o', 'json'], { input: '1.2.3.4 - - [21/Nov/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 5\n' })).stdout);
  t.is(kept[0]!.record.time, '21/Nov/2026:10:00:00 +0000');
  t.is(kept[0]!.time, '2026-11-21T10:00:00.000000000Z');
  const epoch = ndjson((await logkit(['parse', 'csv', '--fields', 'time,msg', '--time-format', 'epoch_ns', '-o', 'json'], { input: '1700000000123456789,x\n' })).stdout);
  t.is(epoch[0]!.time, '2023-11-14T22:13:20.123456789Z');
});

test('regexp with --types; a missing or non-text field is an error, not a crash', async (t) => {
  const input = '200 1234 0.25 true GET\n';
  const r = await logkit(
    ['parse', 'regexp', '-e', '^(?<status>\\d+) (?<size>\\d+) (?<latency>\\S+) (?<ok>\\w+) (?<method>\\w+)$', '--types', 'status:integer,size:integer,latency:float,ok:bool', '-o', 'json'],
    { input },
  );
  t.deepEqual(ndjson(r.stdout)[0]!.record, { status: 200, size: 1234, latency: 0.25, ok: true, method: 'GET' });
  const odd = await logkit(['parse', 'json', '--key', 'log', '-o', 'json'], { input: '{"time":"2026-11-21T00:00:00Z","tag":"t","record":{"log":42}}\n{"time":"2026-11-21T00:00:00Z","tag":"t","record":{"x":1}}\n' });
  t.is(odd.exitCode, 0);
  t.deepEqual(ndjson(odd.stdout).map((e) => e.record.parse_error), ['field "log" is not text', 'no field "log"']);
});

test('malformed options exit 64 with a clear message before reading input', async (t) => {
  const cases: Array<[string[], RegExp]> = [
    [['regexp'], /regexp needs --pattern/],
    [['regexp', '-e', '(unclosed'], /--pattern: invalid regular expression/],
    [['regexp', '-e', '^\\w+$'], /no named groups/],
    [['json', '-e', 'x'], /--pattern applies to the regexp format only/],
    [['csv'], /csv needs --fields/],
    [['csv', '--fields', 'a,,b'], /empty name/],
    [['json', '--types', 'a:number'], /--types: "number" is not a type/],
    [['json', '--types', 'nocolon'], /--types: "nocolon" is not FIELD:TYPE/],
    [['json', '--time-format', '%Q'], /--time-format: .*unknown directive %Q/],
    [['json', '--timezone', 'Mars/Base'], /--timezone "Mars\/Base" is not/],
    [['apache2', '--time-key', 'ts'], /--time-key does not apply to apache2/],
    [['json', '--remove-key'], /--remove-key goes with --keep-original/],
    [['yaml'], /Invalid values|Choices/],
  ];
  for (const [args, message] of cases) {
    const r = await logkit(['parse', ...args], { input: '{}\n' });
    t.is(r.exitCode, 64, args.join(' '));
    t.regex(String(r.stderr), message, args.join(' '));
    t.is(r.stdout, '', args.join(' '));
  }
});

// SIGINT as SIGTERM (one shutdown model), alone and as a stage of `logkit run`.
for (const [signal, form] of [['SIGTERM', 'piped'], ['SIGINT', 'piped'], ['SIGTERM', 'run'], ['SIGINT', 'run']] as const) {
  test(`${signal}${form === 'run' ? ' (logkit run)' : ''}: the events in hand are written and the stage exits 0`, async (t) => {
    const args = form === 'run' ? ['run', 'parse json | cat -o json'] : ['parse', 'json', '-o', 'json'];
    const child = execa(process.execPath, [LOGKIT_BIN, ...args], { reject: false, buffer: true });
    t.teardown(() => {
      child.kill('SIGKILL');
    });
    child.stdin!.write('{"n":1}\n{"n":2}\n');
    // Wait until both events came out, then ask it to stop while its stdin is still open.
    let seen = '';
    await new Promise<void>((resolve) => {
      child.stdout!.on('data', (chunk: Buffer) => {
        seen += chunk.toString();
        if (seen.split('\n').length > 2) resolve();
      });
    });
    child.kill(signal);
    const r = await child;
    t.is(r.exitCode, 0);
    t.deepEqual(ndjson(seen).map((e) => e.record.n), [1, 2]);
  });
}

test('csv/tsv, docker and cri through the command', async (t) => {
  const docker = await logkit(['parse', 'docker', '-o', 'json'], { input: '{"log":"hello\\n","stream":"stdout","time":"2026-11-21T10:00:00.000000001Z"}\n' });
  t.deepEqual(ndjson(docker.stdout)[0], { time: '2026-11-21T10:00:00.000000001Z', tag: 'stdin', record: { log: 'hello', stream: 'stdout' } });
  const cri = await logkit(['parse', 'cri', '-o', 'json'], { input: '2026-11-21T10:00:00.5Z stderr F boom\n' });
  t.deepEqual(ndjson(cri.stdout)[0], { time: '2026-11-21T10:00:00.500000000Z', tag: 'stdin', record: { stream: 'stderr', logtag: 'F', message: 'boom' } });
  const tsv = await logkit(['parse', 'tsv', '--fields', 'level,message', '-o', 'json'], { input: 'info\thello\n' });
  t.deepEqual(ndjson(tsv.stdout)[0]!.record, { level: 'info', message: 'hello' });
});
