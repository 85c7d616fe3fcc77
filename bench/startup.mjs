#!/usr/bin/env node
// Start-up time of the CLI: `logkit --version` and `logkit cat < /dev/null`, against the floor of
// a bare `node -e 0` on the same machine. Target: `logkit --version` under 100 ms wall.
import { spawnSync } from 'node:child_process';
import { openSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../bin/logkit.js', import.meta.url));
const RUNS = Number(process.env.RUNS ?? 20);

function time(args, stdin = 'ignore') {
  const samples = [];
  for (let i = 0; i < RUNS; i++) {
    const start = process.hrtime.bigint();
    const r = spawnSync(process.execPath, args, { stdio: [stdin, 'ignore', 'inherit'] });
    if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}`);
    samples.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  samples.sort((a, b) => a - b);
  return { median: samples[Math.floor(RUNS / 2)], p90: samples[Math.floor(RUNS * 0.9)], min: samples[0] };
}

export function measureStartup() {
  const floor = time(['-e', '0']);
  const version = time([BIN, '--version']);
  const cat = time([BIN, 'cat'], openSync('/dev/null', 'r'));
  return { floor, version, cat };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const r = measureStartup();
  const row = (name, s) => `${name.padEnd(26)} ${s.median.toFixed(1).padStart(7)} ${s.p90.toFixed(1).padStart(7)} ${(s.median / r.floor.median).toFixed(2).padStart(8)}x`;
  console.log(`start-up, ${RUNS} runs each (ms)      median     p90  vs node`);
  console.log(row('node -e 0 (floor)', r.floor));
  console.log(row('logkit --version', r.version));
  console.log(row('logkit cat < /dev/null', r.cat));
  console.log(`target: logkit --version median < 100 ms: ${r.version.median < 100 ? 'met' : 'MISSED'}`);
}
