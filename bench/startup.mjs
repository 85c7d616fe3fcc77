#!/usr/bin/env node
// Start-up time of the CLI: `logkit --version` and `logkit cat < /dev/null`, against the floor of
// a bare `node -e 0` on the same machine, in wall and CPU ms. Target (issue 11): `logkit cat </dev/null`
// at most 100 ms CPU.
import { spawnSync } from 'node:child_process';
import { openSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../bin/logkit.js', import.meta.url));
const RUNS = Number(process.env.RUNS ?? 20);

/** Wall ms (median, p90, min) and CPU ms (user + sys of the child, median) over RUNS runs. */
function time(args, stdin = 'ignore') {
  const samples = [];
  const cpu = [];
  for (let i = 0; i < RUNS; i++) {
    const before = process.resourceUsage ? childCpuMs() : 0;
    const start = process.hrtime.bigint();
    const r = spawnSync(process.execPath, args, { stdio: [stdin, 'ignore', 'inherit'] });
    if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}`);
    samples.push(Number(process.hrtime.bigint() - start) / 1e6);
    cpu.push(childCpuMs() - before);
  }
  samples.sort((a, b) => a - b);
  cpu.sort((a, b) => a - b);
  return { median: samples[Math.floor(RUNS / 2)], p90: samples[Math.floor(RUNS * 0.9)], min: samples[0], cpuMedian: cpu[Math.floor(RUNS / 2)] };
}

/** CPU ms used by this process's finished children (getrusage RUSAGE_CHILDREN, via /proc/self/stat cutime + cstime). */
function childCpuMs() {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = 100; // USER_HZ on Linux
  return ((Number(f[13]) + Number(f[14])) * 1000) / ticks;
}

export function measureStartup() {
  const floor = time(['-e', '0']);
  const version = time([BIN, '--version']);
  const cat = time([BIN, 'cat'], openSync('/dev/null', 'r'));
  return { floor, version, cat };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const r = measureStartup();
  const row = (name, s) => `${name.padEnd(26)} ${s.median.toFixed(1).padStart(7)} ${s.p90.toFixed(1).padStart(7)} ${(s.median / r.floor.median).toFixed(2).padStart(8)}x ${s.cpuMedian.toFixed(0).padStart(8)}`;
  console.log(`start-up, ${RUNS} runs each (ms)      median     p90  vs node  cpu ms`);
  console.log(row('node -e 0 (floor)', r.floor));
  console.log(row('logkit --version', r.version));
  console.log(row('logkit cat < /dev/null', r.cat));
  console.log(`target: logkit cat < /dev/null ≤ 100 ms CPU: ${r.cat.cpuMedian <= 100 ? 'met' : `missed by ${(r.cat.cpuMedian - 100).toFixed(0)} ms`}`);
}
