import { readFileSync } from 'node:fs';
import { appendFile, mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { gunzipSync } from 'node:zlib';
import test from 'ava';
import { execa } from 'execa';
import { EventTime } from '../../src/event/event-time.js';
import type { LogEvent } from '../../src/event/event.js';
import { logkit, tempDir } from '../helpers/logkit.js';
import { encode } from './store-helpers.js';
import { sleep } from '../helpers/wait.js';

/** Bytes in DIR/TAG.ndjson.gz for each tag (0 for a file not made yet). */
async function sizeOfTagFiles(dir: string, tags: readonly string[]): Promise<number> {
  let total = 0;
  for (const tag of tags) total += await stat(join(dir, `${tag}.ndjson.gz`)).then((s) => s.size, () => 0);
  return total;
}

/** The files the store wrote events to (not its own state in .logkit-store/). */
async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => relative(dir, join(e.parentPath, e.name))).filter((f) => !f.split('/').includes('.logkit-store')).sort();
}

/** Events every `stepSeconds` from `startSec`, tags cycling. */
function timed(count: number, startSec: number, stepSeconds: number, tags: readonly string[], from = 0): LogEvent[] {
  return Array.from({ length: count }, (_, k) => {
    const i = from + k;
    return { tag: tags[i % tags.length]!, time: new EventTime(startSec + Math.floor(i * stepSeconds), (i * 1234567) % 1e9), record: { seq: i, message: `line ${i} ü🚀` } };
  });
}

/** The events in a file, read back by `logkit cat -o json` (which also proves the file is valid). */
async function catEvents(path: string): Promise<Array<{ tag: string; time: string; record: { seq: number } }>> {
  const r = await logkit(['cat', '-o', 'json', path]);
  if (r.exitCode !== 0) throw new Error(`logkit cat ${path}: ${String(r.stderr)}`);
  return String(r.stdout).split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

const START = Date.UTC(2026, 10, 27, 22, 30) / 1000; // 22:30 UTC: 3 hours of events cross 23:00, 00:00 and 01:00

test('slices by event hour across boundaries (and days); gzip files are readable by gzip -d and logkit cat', async (t) => {
  const dir = await tempDir(t);
  const events = timed(3 * 3600, START, 1, ['app.web', 'db']); // one event a second for 3 hours
  const input = join(dir, 'in.msgpack');
  await writeFile(input, encode(events));
  const r = await logkit(['store', 'file', `${dir}/out/\${tag}/%Y/%m/%d/%H.ndjson.gz`, '--batch-events', '1000'], { inputFile: input });
  t.is(r.exitCode, 0, String(r.stderr));
  const files = await listFiles(join(dir, 'out'));
  t.deepEqual(files, [
    'app.web/2026/11/27/22.ndjson.gz', 'app.web/2026/11/27/23.ndjson.gz', 'app.web/2026/11/28/00.ndjson.gz', 'app.web/2026/11/28/01.ndjson.gz',
    'db/2026/11/27/22.ndjson.gz', 'db/2026/11/27/23.ndjson.gz', 'db/2026/11/28/00.ndjson.gz', 'db/2026/11/28/01.ndjson.gz',
  ]);
  let total = 0;
  for (const file of files) {
    const path = join(dir, 'out', file);
    const gz = await execa('gzip', ['-dc', path], { encoding: 'utf8' });
    const lines = gz.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { time: string; tag: string });
    const hour = file.slice(-12, -10);
    t.true(lines.every((l) => l.time.slice(11, 13) === hour && file.startsWith(l.tag + '/')), `${file} holds its hour and tag only`);
    const viaCat = await catEvents(path);
    t.is(viaCat.length, lines.length);
    total += lines.length;
  }
  t.is(total, events.length);
  const first = (await catEvents(join(dir, 'out', files[0]!)))[0]!;
  t.deepEqual(first, { time: events[0]!.time.toISO(), tag: 'app.web', record: { seq: 0, message: 'line 0 ü🚀' } }, 'time kept to the nanosecond');
});

test('msgpack and text formats; a second run appends to existing files', async (t) => {
  const dir = await tempDir(t);
  const events = timed(100, START, 0.01, ['a']);
  const input = join(dir, 'in.msgpack');
  await writeFile(input, encode(events));
  for (let run = 0; run < 2; run++) {
    t.is((await logkit(['store', 'file', `${dir}/m/\${tag}.msgpack`], { inputFile: input })).exitCode, 0);
    t.is((await logkit(['store', 'file', `${dir}/t/\${tag}.log`], { inputFile: input })).exitCode, 0);
  }
  const back = await catEvents(join(dir, 'm', 'a.msgpack'));
  t.deepEqual(back.map((e) => e.record.seq), [...events, ...events].map((e) => e.record.seq as number));
  const text = await readFile(join(dir, 't', 'a.log'), 'utf8');
  t.is(text, [...events, ...events].map((e) => `${e.record.message}\n`).join(''));
});

test('hostile tags never leave the base directory (.., /, NUL, newline)', async (t) => {
  const dir = await tempDir(t);
  const tags = ['..', '../..', '../../../../tmp/escaped', '/etc/passwd', 'a/../../b', 'nul\0byte', 'new\nline', '.', ''];
  const input = join(dir, 'in.msgpack');
  await writeFile(input, encode(timed(tags.length * 3, START, 1, tags)));
  const r = await logkit(['store', 'file', `${dir}/base/logs/\${tag}/%H.ndjson`], { inputFile: input });
  t.is(r.exitCode, 0, String(r.stderr));
  const everything = await listFiles(dir);
  const outside = everything.filter((f) => !f.startsWith('base/logs/') && f !== 'in.msgpack');
  t.deepEqual(outside, [], 'nothing written outside base/logs');
  t.is((await listFiles(join(dir, 'base', 'logs'))).length, tags.length, 'each hostile tag has its own file');
  let stored = 0;
  for (const f of await listFiles(join(dir, 'base', 'logs'))) stored += (await catEvents(join(dir, 'base', 'logs', f))).length;
  t.is(stored, tags.length * 3);
});

test('a torn tail (an interrupted write) is cut off when the store next opens the file', async (t) => {
  const dir = await tempDir(t);
  const input = join(dir, 'in.msgpack');
  await writeFile(input, encode(timed(50, START, 0.01, ['a'])));
  const gz = join(dir, 'a.ndjson.gz');
  const nd = join(dir, 'a.ndjson');
  const mp = join(dir, 'a.msgpack');
  for (const path of [gz, nd, mp]) t.is((await logkit(['store', 'file', path], { inputFile: input })).exitCode, 0);
  // simulate a crash in the middle of the next append: half a gzip member, half a line, half an entry
  const member = (await readFile(gz)).subarray(0, 40);
  await appendFile(gz, member);
  await appendFile(nd, '{"time":"2026-11-27T22:30:00Z","tag":"a","rec');
  const entry = encode(timed(1, START, 1, ['a']));
  await appendFile(mp, entry.subarray(0, entry.length - 3));
  t.throws(() => gunzipSync(readFileSync(gz)), undefined, 'the torn gzip file is indeed unreadable before the repair');
  for (const path of [gz, nd, mp]) {
    const r = await logkit(['store', 'file', path], { inputFile: input });
    t.is(r.exitCode, 0, String(r.stderr));
    t.regex(String(r.stderr), /removed a torn tail of \d+ bytes/);
    t.is((await catEvents(path)).length, 100, `${path}: both runs, nothing torn`);
  }
  await execa('gzip', ['-t', gz]);
});

test('refuses to append to a file that is not its format', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'x.ndjson.gz');
  await writeFile(path, 'plain text, not gzip\n');
  const r = await logkit(['store', 'file', path], { input: '{"tag":"a","record":{}}\n' });
  t.is(r.exitCode, 69);
  t.regex(String(r.stderr), /not a gzip file; refusing to append/);
  t.is(await readFile(path, 'utf8'), 'plain text, not gzip\n', 'the file is untouched');
});

test('concurrent writers to different tags, with fewer open files than tags', async (t) => {
  const dir = await tempDir(t);
  const template = `${dir}/out/\${tag}/%H.ndjson.gz`;
  const runs = [0, 1, 2].map(async (w) => {
    const tags = Array.from({ length: 12 }, (_, k) => `writer${w}.tag${k}`);
    const input = join(dir, `in-${w}.msgpack`);
    await writeFile(input, encode(timed(6000, START, 1, tags)));
    return logkit(['store', 'file', template, '--max-open-files', '4', '--batch-events', '500'], { inputFile: input });
  });
  for (const r of await Promise.all(runs)) t.is(r.exitCode, 0, String(r.stderr));
  const files = await listFiles(join(dir, 'out'));
  t.is(files.length, 3 * 12 * 3, '36 tags × 3 hours (22:30 to 00:10)');
  let total = 0;
  for (const f of files) {
    // gunzip checks every member's CRC; every line must be a whole event of the file's tag
    const lines = gunzipSync(await readFile(join(dir, 'out', f))).toString('utf8').split('\n').filter(Boolean);
    const tag = f.slice(0, f.indexOf('/'));
    t.true(lines.every((l) => (JSON.parse(l) as { tag: string }).tag === tag), f);
    total += lines.length;
  }
  t.is(total, 3 * 6000);
  t.true((await catEvents(join(dir, 'out', files[0]!))).length > 0, 'logkit cat reads them too');
});

test('kill -9 in the middle of writing, several times: after the store restarts every file is valid and holds only whole events', async (t) => {
  const dir = await tempDir(t);
  const template = `${dir}/out/\${tag}.ndjson.gz`;
  const tags = ['k.a', 'k.b', 'k.c'];
  let fed = 0;
  for (let round = 0; round < 4; round++) {
    const child = logkit(['store', 'file', template, '--batch-events', '200', '--flush-interval', '10ms', '--fsync', 'never'], { stdin: 'pipe' });
    child.stdin!.on('error', () => {});
    // feed until this process is seen writing (a loaded machine starts it slowly), then a while more
    const sizeAtStart = await sizeOfTagFiles(join(dir, 'out'), tags);
    let deadline = Date.now() + 30_000;
    let writing = false;
    while (Date.now() < deadline) {
      child.stdin!.write(encode(timed(200, START, 0.001, tags, fed)));
      fed += 200;
      await sleep(2);
      if (!writing && (await sizeOfTagFiles(join(dir, 'out'), tags)) > sizeAtStart) {
        writing = true;
        deadline = Date.now() + 100 + round * 100;
      }
    }
    t.true(writing, `round ${round}: the store wrote`);
    child.kill('SIGKILL');
    await child;
  }
  // a last, clean run that writes ANOTHER file: the journal of open files still has the killed
  // runs' files repaired at start-up
  const last = await logkit(['store', 'file', template], { input: encode(timed(30, START, 0.001, ['k.other'], fed)) });
  t.is(last.exitCode, 0, String(last.stderr));
  t.deepEqual(await readdir(join(dir, 'out', '.logkit-store', 'open')), [], 'no file is left marked open');
  let stored = 0;
  const seqs = new Set<number>();
  for (const tag of [...tags, 'k.other']) {
    const path = join(dir, 'out', `${tag}.ndjson.gz`);
    const check = await execa('gzip', ['-t', path], { reject: false });
    t.is(check.exitCode, 0, `${path}: ${check.stderr}; the last run said: ${String(last.stderr)}`);
    const events = await catEvents(path);
    for (const e of events) {
      if (e.tag !== tag) t.fail(`${tag} file holds ${e.tag}`);
      seqs.add(e.record.seq);
    }
    stored += events.length;
    t.true((await stat(path)).size > 0);
  }
  t.is(stored, seqs.size, 'no event appears twice within the files (a torn batch is removed whole)');
  t.true(stored >= 30, `stored ${stored} of ${fed + 30} fed (the rest was in flight when killed)`);
  t.log(`stored ${stored} of ${fed + 30} events fed; start-up repairs: ${(String(last.stderr).match(/torn tail/g) ?? []).length}`);
});

test('--fsync interval and never store everything; corrupt input stores the events before the fault and exits 65', async (t) => {
  const dir = await tempDir(t);
  const input = join(dir, 'in.msgpack');
  await writeFile(input, encode(timed(3000, START, 0.01, ['x', 'y'])));
  for (const policy of ['interval', 'never']) {
    const r = await logkit(['store', 'file', `${dir}/${policy}/\${tag}.ndjson`, '--fsync', policy, '--fsync-interval', '50ms', '--batch-events', '100'], { inputFile: input });
    t.is(r.exitCode, 0, String(r.stderr));
    const total = (await catEvents(join(dir, policy, 'x.ndjson'))).length + (await catEvents(join(dir, policy, 'y.ndjson'))).length;
    t.is(total, 3000, policy);
  }
  const bad = Buffer.concat([encode(timed(10, START, 1, ['z'])), Buffer.from([0xc1, 0xc1, 0xc1])]);
  const r = await logkit(['store', 'file', `${dir}/bad/\${tag}.ndjson`], { input: bad });
  t.is(r.exitCode, 65);
  t.regex(String(r.stderr), /stdin: byte \d+: /);
  t.is((await catEvents(join(dir, 'bad', 'z.ndjson'))).length, 10, 'the events before the fault are stored');
});

test('a file a crashed writer left torn is repaired at start-up even if nothing is written to it again', async (t) => {
  const dir = await tempDir(t);
  const template = `${dir}/out/\${tag}/%H.ndjson.gz`;
  t.is((await logkit(['store', 'file', template], { input: encode(timed(20, START, 1, ['old'])) })).exitCode, 0);
  const oldFile = join(dir, 'out', 'old', '22.ndjson.gz');
  // the crash: half a gzip member appended, and the writer's open-file marker left behind
  const half = (await readFile(oldFile)).subarray(0, 30);
  await appendFile(oldFile, half);
  const gone = await execa(process.execPath, ['-e', 'console.log(process.pid)']);
  await mkdir(join(dir, 'out', '.logkit-store', 'open'), { recursive: true });
  await writeFile(join(dir, 'out', '.logkit-store', 'open', 'crashed.json'), JSON.stringify({ path: oldFile, pid: Number(gone.stdout), kind: 'gzip' }));
  t.not((await execa('gzip', ['-t', oldFile], { reject: false })).exitCode, 0, 'torn before');
  // the next run writes another tag only
  const r = await logkit(['store', 'file', template], { input: encode(timed(5, START, 1, ['new'])) });
  t.is(r.exitCode, 0, String(r.stderr));
  t.regex(String(r.stderr), /old\/22\.ndjson\.gz: removed a torn tail of 30 bytes/);
  t.is((await execa('gzip', ['-t', oldFile], { reject: false })).exitCode, 0, 'valid after');
  t.is((await catEvents(oldFile)).length, 20);
  t.deepEqual(await readdir(join(dir, 'out', '.logkit-store', 'open')), []);
});
