#!/usr/bin/env node
// Throughput of the `logkit parse` stage, per format, on generated lines.
// usage: node bench/parse.mjs [LINES] [FORMAT...]      (default 1000000 lines; apache2 json syslog logfmt)
//
// For each format: generate LINES lines with bench/gen-logs.mjs, turn them into a MessagePack
// event stream once (`logkit cat -i text -o msgpack`, i.e. what `logkit tail` emits), then time
// `logkit parse FORMAT < events.msgpack > /dev/null` — the parse stage alone, start-up included —
// and, as the floor, `logkit cat -o msgpack` over the same stream (decode + encode, no parsing).
// Run `npm run build` first. Numbers vary with the machine and its load: run twice.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, closeSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'bin', 'logkit.js');
const lines = Number(process.argv[2] ?? 1_000_000);
const formats = process.argv.slice(3).length > 0 ? process.argv.slice(3) : ['apache2', 'json', 'syslog', 'logfmt'];
const KIND = { apache2: 'apache', nginx: 'apache', json: 'json', syslog: 'syslog', logfmt: 'logfmt' };
const ARGS = { json: ['--time-key', 'ts'], logfmt: ['--time-key', 'ts'], syslog: ['--timezone', 'UTC'] };
const dir = mkdtempSync(join(tmpdir(), 'logkit-bench-parse-'));

function prepare(kind) {
  const text = join(dir, `${kind}.log`);
  const events = join(dir, `${kind}.msgpack`);
  const out = openSync(text, 'w');
  execFileSync(process.execPath, [join(root, 'bench', 'gen-logs.mjs'), kind, String(lines)], { stdio: ['ignore', out, 'inherit'] });
  closeSync(out);
  run(['cat', '-i', 'text', '-o', 'msgpack'], text, events);
  return events;
}

// On a shared machine wall time measures the neighbours too: with GNU time, CPU seconds (user +
// system) of the stage are reported as well.
const GNU_TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;

function run(args, inputPath, outputPath = '/dev/null') {
  const input = openSync(inputPath, 'r');
  const output = openSync(outputPath, 'w');
  const started = process.hrtime.bigint();
  const command = GNU_TIME ? [GNU_TIME, ['-f', 'CPU %U %S', process.execPath, bin, ...args]] : [process.execPath, [bin, ...args]];
  const r = spawnSync(command[0], command[1], { stdio: [input, output, 'pipe'] });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  closeSync(input);
  closeSync(output);
  let stderr = String(r.stderr);
  let cpu;
  const m = /CPU ([\d.]+) ([\d.]+)\n?$/.exec(stderr);
  if (m) {
    cpu = Number(m[1]) + Number(m[2]);
    stderr = stderr.slice(0, m.index);
  }
  if (r.status !== 0) throw new Error(`logkit ${args.join(' ')} exited ${r.status}: ${stderr}`);
  if (stderr.length > 0) process.stderr.write(stderr);
  return { seconds, cpu };
}

const rate = ({ seconds, cpu }) =>
  `${(lines / seconds).toFixed(0).padStart(8)} lines/s wall (${seconds.toFixed(2)} s)` +
  (cpu !== undefined ? `, ${(lines / cpu).toFixed(0).padStart(8)} lines/CPU-s (${cpu.toFixed(2)} s)` : '');

try {
  const prepared = new Map();
  console.log(`${lines} lines per run`);
  for (const format of formats) {
    const kind = KIND[format];
    if (!kind) throw new Error(`no generated lines for ${format}`);
    if (!prepared.has(kind)) prepared.set(kind, prepare(kind));
    const events = prepared.get(kind);
    const floor = run(['cat', '-o', 'msgpack'], events);
    const parse = run(['parse', format, ...(ARGS[format] ?? [])], events);
    console.log(`parse ${format.padEnd(8)} ${rate(parse)}`);
    console.log(`  floor (cat)    ${rate(floor)}`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
