#!/usr/bin/env node
// Throughput of `logkit store`: N generated events (default 1,000,000) into the file store as
// NDJSON and gzip NDJSON, and M (default 100,000) into each database whose URL is known
// (postgres://postgres@127.0.0.1/test, mysql://root@127.0.0.1/test, $LOGKIT_CLICKHOUSE_URL).
// Each run is the real CLI reading a MessagePack file on stdin; the count stored is checked.
// --dedup: the cost of dropping replays instead, per store: events without identities, events
// with identities (options.src) stored with --dedup off, with dedup (all new), and the same
// input again (all replays, all dropped).
//   node bench/store.mjs [--events N] [--db-events M] [--only file|postgres|mysql|clickhouse] [--dedup]
import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';

const ROOT = new URL('../', import.meta.url).pathname;
const { MsgpackWriter } = await import(join(ROOT, 'dist/src/codec/msgpack-writer.js'));
const { EventTime } = await import(join(ROOT, 'dist/src/event/event-time.js'));
const { values } = parseArgs({ options: { events: { type: 'string', default: '1000000' }, 'db-events': { type: 'string', default: '100000' }, only: { type: 'string' }, dedup: { type: 'boolean', default: false } } });
const N = Number(values.events);
const M = Number(values['db-events']);
const work = await mkdtemp(join(tmpdir(), 'logkit-bench-store-'));

/** `count` events; with `identities`, each carries options.src as tail gives it (4 sources, byte offsets 80 apart). */
async function input(count, identities = false) {
  const path = join(work, `in-${count}${identities ? '-src' : ''}.msgpack`);
  const writer = new MsgpackWriter();
  const start = 1795823940;
  for (let i = 0; i < count; i++) {
    writer.writeEntry({
      tag: `app.svc${i % 8}`,
      time: new EventTime(start + Math.floor(i / 200), (i % 200) * 5_000_000),
      record: { seq: i, level: i % 10 ? 'info' : 'error', message: `GET /api/items/${i} 200 ${i % 997}ms`, host: 'web-1', nested: { user: `u${i % 5000}`, tags: ['a', 'b'] } },
      ...(identities ? { options: { src: { id: `2049:${1000 + (i % 4)}:1795823940`, off: (Math.floor(i / 4) + 1) * 80 } } } : {}),
    });
  }
  await writeFile(path, writer.take());
  return path;
}

/** Runs the store under GNU time: wall seconds and the store process's own CPU seconds. */
function run(args, file) {
  const timeFile = join(work, 'time.txt');
  const r = spawnSync('bash', ['-c', `/usr/bin/time -f '%e %U %S' -o ${timeFile} ${process.execPath} ${join(ROOT, 'bin/logkit.js')} store ${args} < ${file}`], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) throw new Error(`logkit store ${args}: exit ${r.status}`);
  const [wall, user, sys] = readFileSync(timeFile, 'utf8').trim().split('\n').pop().split(/\s+/).map(Number);
  return { wall, cpu: user + sys };
}

// wall time depends on the machine's load (and the server's work); CPU time of the store
// process is the steadier figure of logkit's own cost
function report(name, count, { wall, cpu }) {
  console.log(`${name.padEnd(36)} ${String(count).padStart(9)} events  ${wall.toFixed(2).padStart(7)} s  ${String(Math.round(count / wall)).padStart(8)} events/s  (store CPU ${cpu.toFixed(2)} s = ${Math.round(count / cpu)} events/CPU-s)`);
}

async function countLines(dir, gz) {
  let n = 0;
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!e.isFile() || e.parentPath.includes('.logkit-store')) continue; // the store's own state
    const bytes = readFileSync(join(e.parentPath, e.name));
    const text = gz ? gunzipSync(bytes) : bytes;
    for (let i = text.indexOf(10); i >= 0; i = text.indexOf(10, i + 1)) n++;
  }
  return n;
}

const wants = (name) => !values.only || values.only === name;

/** The four dedup cases for one store: `target(label)` gives the store arguments for a fresh destination. */
async function dedupCases(name, count, target, drop) {
  const plain = await input(count);
  const sourced = await input(count, true);
  console.log(`${name}: load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  report(`${name} no identities`, count, run(target('plain'), plain));
  report(`${name} identities, --dedup off`, count, run(`${target('off')} --dedup off`, sourced));
  report(`${name} identities, dedup, new`, count, run(target('dedup'), sourced));
  report(`${name} identities, dedup, replays`, count, run(target('dedup'), sourced));
  for (const label of ['plain', 'off', 'dedup']) await drop(label);
}

if (values.dedup) {
  try {
    const table = (label) => `bench_${label}_${process.pid}`;
    if (wants('file')) {
      await dedupCases('file', N, (label) => `file '${join(work, `out-${label}`)}/\${tag}.ndjson'`, async (label) => {
        const out = join(work, `out-${label}`);
        const stored = await countLines(out, false);
        if (stored !== N) throw new Error(`file ${label}: stored ${stored} of ${N}`);
        await rm(out, { recursive: true, force: true });
      });
    }
    if (wants('postgres')) {
      const url = process.env.LOGKIT_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
      await dedupCases('postgres', M, (label) => `postgres ${url} --table ${table(label)} --create`, async (label) => {
        const count = Number(spawnSync('psql', [url, '-Atc', `SELECT count(*) FROM ${table(label)}`]).stdout.toString());
        spawnSync('psql', [url, '-qc', `DROP TABLE ${table(label)}`]);
        if (count !== M) throw new Error(`postgres ${label}: stored ${count} of ${M}`);
      });
    }
    if (wants('mysql')) {
      const url = process.env.LOGKIT_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test';
      await dedupCases('mysql', M, (label) => `mysql ${url} --table ${table(label)} --create`, async (label) => {
        const count = Number(spawnSync('mariadb', ['-h127.0.0.1', '-uroot', 'test', '-Nse', `SELECT count(*) FROM ${table(label)}`]).stdout.toString());
        spawnSync('mariadb', ['-h127.0.0.1', '-uroot', 'test', '-e', `DROP TABLE ${table(label)}`]);
        if (count !== M) throw new Error(`mysql ${label}: stored ${count} of ${M}`);
      });
    }
    if (wants('clickhouse') && process.env.LOGKIT_CLICKHOUSE_URL) {
      const url = process.env.LOGKIT_CLICKHOUSE_URL;
      await dedupCases('clickhouse', M, (label) => `clickhouse ${url} --table ${table(label)} --create`, async (label) => {
        const response = await fetch(url, { method: 'POST', body: `SELECT count() FROM ${table(label)} FINAL` });
        const count = Number((await response.text()).trim());
        await fetch(url, { method: 'POST', body: `DROP TABLE ${table(label)}` });
        if (count !== M) throw new Error(`clickhouse ${label}: stored ${count} of ${M}`);
      });
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  process.exit(0);
}

try {
  if (wants('file')) {
    const file = await input(N);
    for (const [label, ext, extra] of [['file ndjson (fsync always)', 'ndjson', ''], ['file ndjson.gz (fsync always)', 'ndjson.gz', ''], ['file ndjson (fsync never)', 'ndjson', '--fsync never']]) {
      const out = join(work, `out-${ext}-${extra ? 'n' : 'a'}`);
      const seconds = run(`file '${out}/\${tag}/%Y%m%d/%H.${ext}' ${extra}`, file);
      const stored = await countLines(out, ext.endsWith('.gz'));
      if (stored !== N) throw new Error(`${label}: stored ${stored} of ${N}`);
      report(label, N, seconds);
    }
  }
  const dbFile = await input(M);
  const table = `bench_${process.pid}`;
  if (wants('postgres')) {
    const url = process.env.LOGKIT_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
    report('postgres (COPY)', M, run(`postgres ${url} --table ${table} --create`, dbFile));
    spawnSync('psql', [url, '-qc', `DROP TABLE ${table}`]);
  }
  if (wants('mysql')) {
    const url = process.env.LOGKIT_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test';
    report('mysql/MariaDB (multi-row INSERT)', M, run(`mysql ${url} --table ${table} --create`, dbFile));
    spawnSync('mariadb', ['-h127.0.0.1', '-uroot', 'test', '-e', `DROP TABLE ${table}`]);
  }
  if (wants('clickhouse') && process.env.LOGKIT_CLICKHOUSE_URL) {
    const url = process.env.LOGKIT_CLICKHOUSE_URL;
    report('clickhouse (JSONEachRow)', M, run(`clickhouse ${url} --table ${table} --create`, dbFile));
    await fetch(url, { method: 'POST', body: `DROP TABLE ${table}` });
  }
} finally {
  await rm(work, { recursive: true, force: true });
}
