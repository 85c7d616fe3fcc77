#!/usr/bin/env node
// The benchmark suite: `npm run bench` runs every workload; `npm run bench -- W1` one of them;
// `--lines N` changes the input size (default 1,000,000). Each workload runs the real CLI
// processes on generated data, checks the count of events delivered is exact, prints a table and
// writes JSON results to bench/results/. Every figure is also given as a ratio to floors measured
// in the same run: `wc -l` and `cat` of the input, and a bare Node process (bench/node-floor.mjs).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { appendFile, mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { measureStartup } from './startup.mjs';
import { FLUENT_BIT, PIPED_TARGETS, TARGETS, targetLine } from './lib/targets.mjs';
import { LineCounter, LOGKIT, ROOT, freePort, readTime, runPipeline, sleep, startDaemon, timed, waitFor } from './lib/measure.mjs';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    lines: { type: 'string', default: '1000000' },
    // W5 runs W1 at --lines and at --w5-factor times as many (10M by default: minutes)
    'w5-factor': { type: 'string', default: '10' },
    keep: { type: 'boolean', default: false },
    json: { type: 'string' },
    // W1 and W4: one process per command joined by pipes, or each side in one `logkit run`
    // (W1: piped unless given; W4: both, each against its own targets, unless given)
    form: { type: 'string' },
  },
});
const FORM = values.form ?? 'piped';
if (!existsSync('/usr/bin/time')) {
  console.error('bench: GNU time (/usr/bin/time, Debian package "time") measures each process: install it first');
  process.exit(69);
}
const LINES = Number(values.lines);
const W5_FACTOR = Number(values['w5-factor']);
if (!(LINES > 0) || !(W5_FACTOR >= 1) || !['piped', 'run'].includes(FORM)) {
  console.error('usage: node bench/run.mjs [STARTUP|W1|W1D|W2|W3|W4|W5 ...] [--lines N] [--w5-factor F] [--form piped|run] [--json FILE] [--keep]');
  process.exit(64);
}
for (const w of positionals) {
  if (!['STARTUP', 'W1', 'W1D', 'W2', 'W3', 'W4', 'W5'].includes(w.toUpperCase())) {
    console.error(`unknown workload ${w}: STARTUP, W1, W1D (W1 durable), W2, W3, W4 or W5`);
    process.exit(64);
  }
}
const WANTED = positionals.length ? positionals.map((w) => w.toUpperCase()) : ['STARTUP', 'W1', 'W1D', 'W2', 'W3', 'W4', 'W5'];
const work = await mkdtemp(join(tmpdir(), 'logkit-bench-'));
const results = { lines: LINES, machine: machineInfo(), started: new Date().toISOString(), workloads: {} };
let failed = false;

function machineInfo() {
  const cpus = spawnSync('nproc').stdout.toString().trim();
  // the load average matters: on a shared machine wall times stretch, CPU-seconds much less
  return { node: process.version, cpus: Number(cpus), platform: `${process.platform} ${process.arch}`, loadavgAtStart: loadavg().map((l) => Number(l.toFixed(2))) };
}

async function generate(kind, lines) {
  const file = join(work, `${kind}-${lines}.log`);
  if (!existsSync(file)) await runPipeline(`${process.execPath} ${join(ROOT, 'bench/gen-logs.mjs')} ${kind} ${lines} > ${file}`);
  return file;
}

const floorsCache = new Map();
/** wc -l, cat and the bare Node process on the same file. */
async function floors(file) {
  if (floorsCache.has(file)) return floorsCache.get(file);
  const wc = await runPipeline(`wc -l ${file} > /dev/null`);
  const cat = await runPipeline(`cat ${file} > /dev/null`);
  const node = await runPipeline(`${process.execPath} ${join(ROOT, 'bench/node-floor.mjs')} ${file} 2>/dev/null`);
  const f = { wc, cat, node };
  floorsCache.set(file, f);
  return f;
}

const fmt = (n, d = 2) => (n === undefined || Number.isNaN(n) ? '-' : n.toFixed(d));

function printTable(title, rows, floor) {
  console.log(`\n${title}`);
  console.log(`${'process'.padEnd(34)} ${'wall s'.padStart(8)} ${'cpu s'.padStart(8)} ${'rss MB'.padStart(8)}`);
  for (const [name, r] of Object.entries(rows)) console.log(`${name.padEnd(34)} ${fmt(r.wall).padStart(8)} ${fmt(r.cpu).padStart(8)} ${fmt(r.rssMB, 0).padStart(8)}`);
  if (floor) console.log(`floors on the same file: wc -l ${fmt(floor.wc)} s, cat ${fmt(floor.cat)} s, node ${fmt(floor.node)} s`);
}

/**
 * A chain of logkit stages (each `command args…`) as the shell command for --form: a pipeline of
 * one process per stage, or one `logkit run` process; with `time`, each process under GNU time
 * (named by `time(stage names)`). Returns the command and the names of its processes.
 */
function chain(stages, time, form = FORM) {
  const names = stages.map((stage) => stage.split(' ')[0]);
  if (form === 'run') {
    const name = names.join('+');
    const command = `${LOGKIT} run '${stages.join(' | ').replaceAll("'", "'\\''")}'`;
    return { command: time ? timed(time(name), command) : command, names: [name] };
  }
  return { command: stages.map((stage, i) => (time ? timed(time(names[i]), `${LOGKIT} ${stage}`) : `${LOGKIT} ${stage}`)).join(' | '), names };
}

// ------------------------------------------------------------------------------------------ W1
/** Collector → aggregator: tail | parse json | forward  →  receive | store file; until the last event is stored. */
async function w1(lines = LINES, label = 'W1', { durable = false } = {}) {
  const file = await generate('json', lines);
  const dir = await mkdtemp(join(work, 'w1-'));
  const out = join(dir, 'store');
  const port = await freePort();
  const t = (name) => join(dir, `${name}.time`);
  // durable: every stage that can commits (checkpoints and disk buffers), as issue 11 measures it
  const d = (option) => (durable ? ` ${option}` : '');
  const aggregatorChain = chain([`receive --bind 127.0.0.1:${port}${d(`--buffer ${dir}/receive-buffer --checkpoint ${dir}/receive.ckpt`)}`, `store file '${out}/\${tag}.ndjson'${d(`--checkpoint ${dir}/store.ckpt`)}`], t);
  const aggregator = startDaemon(aggregatorChain.command);
  await waitFor(async () => spawnSync('bash', ['-c', `exec 3<>/dev/tcp/127.0.0.1/${port}`]).status === 0, { timeoutMs: 30_000, intervalMs: 50 });
  const counter = new LineCounter(out);
  const start = process.hrtime.bigint();
  // a loaded machine's aggregator can take longer than forward's default 10 s to take the rest: the count must be exact
  const collectorChain = chain(
    [
      `tail --no-follow --from-head ${file} --tag bench${d(`--checkpoint ${dir}/collector.ckpt`)}`,
      'parse json',
      `forward 127.0.0.1:${port} --drain-timeout 600${d(`--buffer ${dir}/forward-buffer --checkpoint ${dir}/collector.ckpt`)}`,
    ],
    t,
  );
  const collector = runPipeline(collectorChain.command);
  let collectorError;
  collector.catch((e) => (collectorError = e));
  const done = await waitFor(async () => collectorError || (await counter.count()) >= lines, { intervalMs: 10 });
  const wall = Number(process.hrtime.bigint() - start) / 1e9;
  await collector.catch(() => {});
  await aggregator.stop();
  const stored = await counter.count();
  const rows = {};
  for (const name of [...collectorChain.names, ...aggregatorChain.names]) rows[`logkit ${name}`] = await readTime(t(name)).catch(() => ({}));
  const cpu = Object.values(rows).reduce((s, r) => s + (r.cpu ?? 0), 0);
  const floor = await floors(file);
  const size = (await stat(file)).size;
  const result = {
    lines, stored, exact: stored === lines && done && !collectorError, wall, eventsPerSec: lines / wall, mbPerSec: size / 1e6 / wall,
    cpuTotal: cpu, cpuPerMillion: (cpu / lines) * 1e6, vsNodeFloor: wall / floor.node, vsCat: wall / floor.cat, vsWc: wall / floor.wc,
    maxRssMB: Math.max(...Object.values(rows).map((r) => r.rssMB ?? 0)), processes: rows, floors: floor,
  };
  printTable(`${label}: ${lines} json lines, collector → aggregator → file store (${FORM === 'run' ? 'each side one logkit run process' : 'one process per command'}; load ${loadavg().map((l) => l.toFixed(2)).join(' ')})`, rows, floor);
  console.log(`wall ${fmt(wall)} s (${fmt(result.vsNodeFloor)}× node floor, ${fmt(result.vsCat, 0)}× cat), ${fmt(result.eventsPerSec / 1000, 0)}k events/s, ${fmt(result.mbPerSec, 1)} MB/s, ` +
    `cpu ${fmt(cpu)} s in all (${fmt(result.cpuPerMillion)} per million events); stored ${stored}/${lines} ${result.exact ? 'exact' : 'MISMATCH'}`);
  const perMillion = (x) => (x / lines) * 1e6; // the targets are for 1,000,000 lines
  if (!durable && label === 'W1') {
    if (FORM === 'run') {
      // the targets are for this form: each side one process
      const [collectorRss, aggregatorRss] = [collectorChain, aggregatorChain].map((c) => rows[`logkit ${c.names[0]}`]?.rssMB);
      console.log(targetLine('W1 wall (one-process form)', perMillion(wall), TARGETS.w1WallS, 's', FLUENT_BIT.w1WallS));
      console.log(targetLine('W1 CPU (one-process form)', perMillion(cpu), TARGETS.w1CpuS, 'CPU-s', FLUENT_BIT.w1CpuS));
      console.log(targetLine('W1 collector peak RSS (tail+parse+forward, one process)', collectorRss, TARGETS.collectorRssMB, 'MB'));
      console.log(targetLine('W1 aggregator peak RSS (receive+store, one process)', aggregatorRss, TARGETS.aggregatorRssMB, 'MB', FLUENT_BIT.w1RssMB));
    } else {
      console.log(targetLine('W1 wall (piped form; the target is for the one-process form, --form run)', perMillion(wall), TARGETS.w1WallS, 's', FLUENT_BIT.w1WallS));
      console.log(targetLine('W1 CPU (piped form; its own bar)', perMillion(cpu), PIPED_TARGETS.w1CpuS, 'CPU-s', FLUENT_BIT.w1CpuS));
      console.log(targetLine('W1 largest process RSS (piped form; its own bar)', result.maxRssMB, PIPED_TARGETS.processRssMB, 'MB', FLUENT_BIT.w1RssMB));
    }
  }
  if (!result.exact) failed = true;
  if (!values.keep) await rm(dir, { recursive: true, force: true });
  return result;
}

// ------------------------------------------------------------------------------------------ W2
/** The aggregator alone: pre-encoded PackedForward chunks replayed at full speed into receive | store file. */
async function w2() {
  const file = await generate('json', LINES);
  const dir = await mkdtemp(join(work, 'w2-'));
  const chunks = join(dir, 'chunks.bin');
  await runPipeline(`${process.execPath} ${join(ROOT, 'bench/lib/packed-forward.mjs')} encode ${file} ${chunks}`);
  const out = join(dir, 'store');
  const port = await freePort();
  const t = (name) => join(dir, `${name}.time`);
  const aggregator = startDaemon(`${timed(t('receive'), `${LOGKIT} receive --bind 127.0.0.1:${port}`)} | ${timed(t('store'), `${LOGKIT} store file '${out}/\${tag}.ndjson'`)}`);
  await waitFor(async () => spawnSync('bash', ['-c', `exec 3<>/dev/tcp/127.0.0.1/${port}`]).status === 0, { timeoutMs: 30_000, intervalMs: 50 });
  const counter = new LineCounter(out);
  const start = process.hrtime.bigint();
  await runPipeline(`${process.execPath} ${join(ROOT, 'bench/lib/packed-forward.mjs')} send ${chunks} 127.0.0.1 ${port}`);
  const done = await waitFor(async () => (await counter.count()) >= LINES, { intervalMs: 10 });
  const wall = Number(process.hrtime.bigint() - start) / 1e9;
  await aggregator.stop();
  const rows = { 'logkit receive': await readTime(t('receive')).catch(() => ({})), 'logkit store file': await readTime(t('store')).catch(() => ({})) };
  const stored = await counter.count();
  const floor = await floors(file);
  const result = { lines: LINES, stored, exact: done && stored === LINES, wall, eventsPerSec: LINES / wall, processes: rows, vsNodeFloor: wall / floor.node };
  printTable(`W2: ${LINES} events as PackedForward chunks into receive | store file`, rows, floor);
  console.log(`wall ${fmt(wall)} s, ${fmt(result.eventsPerSec / 1000, 0)}k events/s; stored ${stored}/${LINES} ${result.exact ? 'exact' : 'MISMATCH'}`);
  if (!result.exact) failed = true;
  if (!values.keep) await rm(dir, { recursive: true, force: true });
  return result;
}

// ------------------------------------------------------------------------------------------ W3
/** Parsing alone: LINES lines of each format through `logkit parse`, from a pre-encoded event stream. */
async function w3() {
  const result = {};
  const formats = { apache: 'apache2', json: 'json', syslog: 'syslog', logfmt: 'logfmt' };
  console.log(`\nW3: ${LINES} lines through logkit parse (input pre-encoded as events)`);
  // lines per CPU-second too: on a loaded machine the wall-clock rate says more about the load
  console.log(`${'format'.padEnd(12)} ${'wall s'.padStart(8)} ${'cpu s'.padStart(8)} ${'rss MB'.padStart(8)} ${'lines/s'.padStart(10)} ${'per cpu-s'.padStart(10)} ${'unparsed'.padStart(9)}`);
  for (const [kind, parser] of Object.entries(formats)) {
    const file = await generate(kind, LINES);
    const events = `${file}.msgpack`;
    if (!existsSync(events)) await runPipeline(`${LOGKIT} cat -i text -o msgpack ${file} > ${events}`);
    const timeFile = join(work, `w3-${kind}.time`);
    const outFile = join(work, `w3-${kind}.out`);
    await runPipeline(`${timed(timeFile, `${LOGKIT} parse ${parser}`)} < ${events} > ${outFile}`);
    const r = await readTime(timeFile);
    const count = spawnSync('bash', ['-c', `${LOGKIT} cat -o json ${outFile} | grep -c '"parse_error"' || true`]).stdout.toString().trim();
    const total = spawnSync('bash', ['-c', `${LOGKIT} cat -o json ${outFile} | wc -l`]).stdout.toString().trim();
    result[parser] = { ...r, linesPerSec: LINES / r.wall, linesPerCpuSec: LINES / r.cpu, unparsed: Number(count), events: Number(total), exact: Number(total) === LINES };
    if (Number(total) !== LINES) failed = true;
    console.log(`${parser.padEnd(12)} ${fmt(r.wall).padStart(8)} ${fmt(r.cpu).padStart(8)} ${fmt(r.rssMB, 0).padStart(8)} ${fmt(LINES / r.wall / 1000, 0).padStart(9)}k ${fmt(LINES / r.cpu / 1000, 0).padStart(9)}k ${String(count).padStart(9)}`);
    await rm(outFile, { force: true });
  }
  // the targets are for the whole chain, as Fluent Bit was measured: tail → parse apache2 → file
  const chainResult = await w3Chain();
  result.chain = chainResult;
  const m = 1e6 / LINES;
  console.log(targetLine(`W3 tail → parse apache2 → store file wall (${FORM === 'run' ? 'one process' : 'piped'})`, chainResult.wall * m, TARGETS.w3WallS, 's', FLUENT_BIT.w3WallS));
  console.log(targetLine(`W3 tail → parse apache2 → store file CPU (${FORM === 'run' ? 'one process' : 'piped'})`, chainResult.cpu * m, TARGETS.w3CpuS, 'CPU-s', FLUENT_BIT.w3CpuS));
  return result;
}

/** W3 as issue 11 measures it: `tail --no-follow | parse apache2 | store file` on the apache log, in --form. */
async function w3Chain() {
  const file = await generate('apache', LINES);
  const dir = await mkdtemp(join(work, 'w3-chain-'));
  const out = join(dir, 'store');
  const t = (name) => join(dir, `${name}.time`);
  const c = chain([`tail --no-follow --from-head ${file} --tag web`, 'parse apache2', `store file '${out}/\${tag}.ndjson'`], t);
  await runPipeline(c.command);
  const rows = {};
  for (const name of c.names) rows[`logkit ${name}`] = await readTime(t(name));
  const stored = await new LineCounter(out).count();
  const wall = Math.max(...Object.values(rows).map((r) => r.wall));
  const cpu = Object.values(rows).reduce((sum, r) => sum + r.cpu, 0);
  printTable(`W3 chain: ${LINES} apache lines, tail → parse apache2 → store file (${FORM === 'run' ? 'one logkit run process' : 'one process per command'})`, rows);
  console.log(`stored ${stored}/${LINES} ${stored === LINES ? 'exact' : 'MISMATCH'}`);
  if (stored !== LINES) failed = true;
  if (!values.keep) await rm(dir, { recursive: true, force: true });
  return { wall, cpu, stored, processes: rows, maxRssMB: Math.max(...Object.values(rows).map((r) => r.rssMB)) };
}

// ------------------------------------------------------------------------------------------ W4
/** Delay: W1's processes following a file at default settings; 1,000 lines/s for 10 s; write → stored. */
async function w4(form, rate = 1000, seconds = 10) {
  const dir = await mkdtemp(join(work, 'w4-'));
  const log = join(dir, 'app.log');
  await writeFile(log, '');
  const out = join(dir, 'store');
  const port = await freePort();
  // every process under GNU time: the CPU-seconds of the trickle are the second figure of W4
  const t = (name) => join(dir, `${name}.time`);
  const aggregator = startDaemon(chain([`receive --bind 127.0.0.1:${port}`, `store file '${out}/\${tag}.ndjson'`], t, form).command);
  await waitFor(async () => spawnSync('bash', ['-c', `exec 3<>/dev/tcp/127.0.0.1/${port}`]).status === 0, { timeoutMs: 30_000, intervalMs: 50 });
  // --from-head: nothing is lost however late tail starts (it would start at the end of the file)
  const collector = startDaemon(chain([`tail ${log} --from-head --tag delay`, 'parse json', `forward 127.0.0.1:${port}`], t, form).command);
  // warm up: probe lines (seq -1, which the reader ignores) until one is stored, so start-up
  // under load is not counted as delay
  const warm = new LineCounter(out);
  const warmed = await waitFor(async () => {
    await appendFile(log, JSON.stringify({ seq: -1, msg: 'warm-up probe' }) + '\n');
    return (await warm.count()) > 0;
  }, { timeoutMs: 60_000, intervalMs: 200 });
  if (!warmed) throw new Error('W4: nothing reached the store within 60 s of starting');
  const written = new Map();
  const seen = new Map();
  const total = rate * seconds;
  // CPU spent during the trickle alone: each process's CPU clock read before and after it
  const cpuBefore = await processCpu(dir);
  const startWall = Date.now();
  // the reader: every millisecond, look for new stored lines and note when each seq arrived
  let reading = true;
  const reader = (async () => {
    const { open } = await import('node:fs/promises');
    const offsets = new Map();
    while (reading || seen.size < total) {
      const now = performance.now();
      for (const f of await listStore(out)) {
        const from = offsets.get(f) ?? 0;
        const size = (await stat(f)).size;
        if (size <= from) continue;
        const h = await open(f, 'r');
        const buf = Buffer.allocUnsafe(size - from);
        await h.read(buf, 0, buf.length, from);
        await h.close();
        const text = buf.toString('utf8');
        const end = text.lastIndexOf('\n') + 1;
        offsets.set(f, from + Buffer.byteLength(text.slice(0, end)));
        for (const m of text.slice(0, end).matchAll(/"seq":(\d+)/g)) if (!seen.has(Number(m[1]))) seen.set(Number(m[1]), now);
      }
      if (!reading && performance.now() - lastWrite > 30_000) break;
      await sleep(1);
    }
  })();
  let lastWrite = performance.now();
  for (let i = 0; i < total; i++) {
    const due = startWall + (i * 1000) / rate;
    const wait = due - Date.now();
    if (wait > 0) await sleep(wait);
    lastWrite = performance.now();
    written.set(i, lastWrite);
    await appendFile(log, JSON.stringify({ seq: i, msg: 'delay probe', level: 'info' }) + '\n');
  }
  await waitFor(async () => seen.size >= total, { timeoutMs: 30_000, intervalMs: 20 });
  const cpuAfter = await processCpu(dir);
  reading = false;
  await reader;
  await collector.stop();
  await aggregator.stop();
  const delays = [...written].filter(([i]) => seen.has(i)).map(([i, w]) => seen.get(i) - w).sort((a, b) => a - b);
  const q = (p) => delays[Math.min(delays.length - 1, Math.floor(p * delays.length))];
  const cpu = {};
  for (const name of Object.keys(cpuAfter)) cpu[`logkit ${name}`] = cpuAfter[name] - (cpuBefore[name] ?? 0);
  const cpuTotal = Object.values(cpu).reduce((a, b) => a + b, 0);
  const result = { form, rate, seconds, written: total, arrived: seen.size, exact: seen.size === total, p50ms: q(0.5), p99ms: q(0.99), maxMs: delays[delays.length - 1], cpuTotal, cpu, loadavg: loadavg().map((l) => Number(l.toFixed(2))) };
  const formName = form === 'run' ? 'each side one logkit run process' : 'one process per command';
  console.log(`\nW4: ${rate} lines/s for ${seconds} s through tail | parse | forward → receive | store file (default settings; ${formName}; load ${result.loadavg.join(' ')})`);
  console.log(`delay write → stored: p50 ${fmt(result.p50ms, 1)} ms, p99 ${fmt(result.p99ms, 1)} ms, max ${fmt(result.maxMs, 1)} ms; arrived ${seen.size}/${total}`);
  console.log(`cpu during the ${seconds} s: ${fmt(cpuTotal)} s in all (${Object.entries(cpu).map(([n, c]) => `${n.replace('logkit ', '')} ${fmt(c)}`).join(', ')})`);
  // each form against its own bars: the targets are the one-process form's, the piped form has looser ones
  const bars = form === 'run' ? TARGETS : PIPED_TARGETS;
  console.log(targetLine(`W4 p99 write → stored (${form === 'run' ? 'one-process form' : 'piped form'})`, result.p99ms, bars.w4P99Ms, 'ms', FLUENT_BIT.w4P99Ms));
  console.log(targetLine(`W4 trickle CPU (${form === 'run' ? 'one-process form' : 'piped form'})`, cpuTotal, bars.w4TrickleCpuS, 'CPU-s', FLUENT_BIT.w4TrickleCpuS));
  if (!result.exact) failed = true;
  if (!values.keep) await rm(dir, { recursive: true, force: true });
  return result;
}

/**
 * CPU-seconds (user + sys) used so far by each logkit process of a W4 run, read from /proc: the
 * processes are found by the GNU time report file named on their time's command line.
 */
async function processCpu(dir) {
  const { readdir, readFile } = await import('node:fs/promises');
  const ticks = Number(spawnSync('getconf', ['CLK_TCK']).stdout.toString().trim()) || 100;
  const parents = new Map();
  const byPid = new Map();
  for (const pid of await readdir('/proc').catch(() => [])) {
    if (!/^\d+$/.test(pid)) continue;
    const cmd = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    if (!stat) continue;
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    byPid.set(pid, { cmd, ppid: fields[1], cpu: (Number(fields[11]) + Number(fields[12])) / ticks });
    parents.set(pid, fields[1]);
  }
  const out = {};
  for (const [pid, p] of byPid) {
    const m = p.cmd.includes(dir) && /-o\0([^\0]*)\/([\w+]+)\.time\0/.exec(p.cmd);
    if (!m || !m[1].startsWith(dir)) continue;
    // the node process is GNU time's child
    for (const [child, c] of byPid) if (c.ppid === pid) out[m[2]] = (out[m[2]] ?? 0) + c.cpu;
  }
  return out;
}

async function listStore(dir) {
  const { readdir } = await import('node:fs/promises');
  const out = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true }).catch(() => [])) {
    const parent = e.parentPath ?? e.path;
    // .logkit-store/ holds the store's own state (open files, committed positions), not events
    if (e.isFile() && !e.name.startsWith('.') && !e.name.endsWith('.gz') && !parent.includes('.logkit-store')) out.push(join(parent, e.name));
  }
  return out;
}

// ------------------------------------------------------------------------------------------ W5
/** Memory: peak RSS of each W1 process at LINES and at 10×LINES; it must not grow with input size. */
async function w5() {
  const big = Math.round(LINES * W5_FACTOR);
  const small = await w1(LINES, `W5 (${LINES} lines)`);
  const large = await w1(big, `W5 (${big} lines)`);
  console.log(`\nW5: peak RSS per process, ${LINES} vs ${big} lines`);
  const result = {};
  for (const name of Object.keys(small.processes)) {
    const a = small.processes[name].rssMB, b = large.processes[name].rssMB;
    result[name] = { small: a, large: b };
    console.log(`${name.padEnd(20)} ${fmt(a, 0).padStart(6)} MB ${fmt(b, 0).padStart(6)} MB ${b > 100 ? '(over 100 MB)' : ''}`);
  }
  const worst = Math.max(...Object.values(result).map((r) => Math.max(r.small, r.large)));
  if (FORM === 'run') {
    // each side one process: the collector and the aggregator have their own bars
    const [collector, aggregator] = Object.values(result);
    console.log(targetLine('W5 collector peak RSS (one process), worst at both sizes', Math.max(collector.small, collector.large), TARGETS.collectorRssMB, 'MB'));
    console.log(targetLine('W5 aggregator peak RSS (one process), worst at both sizes', Math.max(aggregator.small, aggregator.large), TARGETS.aggregatorRssMB, 'MB'));
  } else {
    console.log(targetLine('W5 peak RSS per process (piped form), worst at both sizes', worst, PIPED_TARGETS.processRssMB, 'MB', FLUENT_BIT.w1RssMB));
  }
  return { lines: LINES, largeLines: big, exact: small.exact && large.exact, processes: result, worstMB: worst };
}

// ------------------------------------------------------------------------------------------ main
try {
  if (WANTED.includes('STARTUP')) {
    const r = measureStartup();
    results.workloads.startup = r;
    console.log(`\nstart-up (median of 20): node -e 0 ${fmt(r.floor.median, 1)} ms, logkit --version ${fmt(r.version.median, 1)} ms, logkit cat < /dev/null ${fmt(r.cat.median, 1)} ms` +
      `; CPU: node -e 0 ${fmt(r.floor.cpuMedian, 0)} ms, logkit cat < /dev/null ${fmt(r.cat.cpuMedian, 0)} ms`);
    console.log(targetLine('start-up CPU, logkit cat < /dev/null', r.cat.cpuMedian, TARGETS.startupCpuMs, 'ms'));
  }
  if (WANTED.includes('W1') || WANTED.includes('W1D')) results.workloads.W1 = await w1();
  if (WANTED.includes('W1D')) {
    const durable = (results.workloads.W1durable = await w1(LINES, 'W1 durable', { durable: true }));
    const base = results.workloads.W1;
    console.log(`W1 durable / W1: wall ${fmt(durable.wall / base.wall)}×, CPU ${fmt(durable.cpuTotal / base.cpuTotal)}× (Fluent Bit's durable setup: ${FLUENT_BIT.w1DurableWallS} s, ${FLUENT_BIT.w1DurableCpuS} CPU-s)`);
    console.log(targetLine('W1 durable / W1 default, wall', durable.wall / base.wall, TARGETS.durableRatio, '×'));
    console.log(targetLine('W1 durable / W1 default, CPU', durable.cpuTotal / base.cpuTotal, TARGETS.durableRatio, '×'));
  }
  if (WANTED.includes('W2')) results.workloads.W2 = await w2();
  if (WANTED.includes('W3')) results.workloads.W3 = await w3();
  if (WANTED.includes('W4')) {
    // both forms unless --form names one: the one-process form has the targets, the piped form its own bars
    const forms = values.form ? [values.form] : ['run', 'piped'];
    results.workloads.W4 = {};
    for (const form of forms) results.workloads.W4[form] = await w4(form);
  }
  if (WANTED.includes('W5')) results.workloads.W5 = await w5();
} finally {
  results.machine.loadavgAtEnd = loadavg().map((l) => Number(l.toFixed(2)));
  results.finished = new Date().toISOString();
  console.log(`\nload average at start ${results.machine.loadavgAtStart.join(' ')}, at end ${results.machine.loadavgAtEnd.join(' ')} (${results.machine.cpus} CPUs)`);
  await mkdir(join(ROOT, 'bench/results'), { recursive: true });
  const jsonFile = values.json ?? join(ROOT, 'bench/results', `bench-${results.started.replace(/[:.]/g, '-')}.json`);
  await writeFile(jsonFile, JSON.stringify(results, null, 2) + '\n');
  // a run told where to write (the smoke test) leaves the latest full results alone
  if (!values.json) await writeFile(join(ROOT, 'bench/results/latest.json'), JSON.stringify(results, null, 2) + '\n');
  console.log(`\nresults: ${jsonFile}`);
  if (!values.keep) await rm(work, { recursive: true, force: true });
}
process.exitCode = failed ? 1 : 0;
