import test from 'ava';
import { execa } from 'execa';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ROOT, tempDir } from '../helpers/logkit.js';

interface W1Result {
  lines: number;
  stored: number;
  exact: boolean;
  cpuTotal: number;
  processes: Record<string, { wall?: number; cpu?: number; rssMB?: number }>;
}

// The benchmark harness must not rot: W1 (tail | parse json | forward -> receive | store file)
// on 50,000 lines, run exactly as `npm run bench -- W1 --lines 50000` runs it, with the count of
// stored events checked exactly and every process measured. Speed is not asserted here (the
// machine is shared); the figures are the benchmark's business.
test('bench W1 with 50,000 lines stores every event exactly once and measures every process', async (t) => {
  const dir = await tempDir(t);
  const json = join(dir, 'w1.json');
  const run = await execa(process.execPath, [join(ROOT, 'bench/run.mjs'), 'W1', '--lines', '50000', '--json', json], {
    reject: false,
    timeout: 150_000,
    cwd: ROOT,
  });
  t.is(run.exitCode, 0, `${run.stdout}\n${run.stderr}`);
  t.regex(run.stdout, /stored 50000\/50000 exact/);
  const results = JSON.parse(await readFile(json, 'utf8')) as { workloads: { W1: W1Result } };
  const w1 = results.workloads.W1;
  t.is(w1.lines, 50000);
  t.is(w1.stored, 50000);
  t.true(w1.exact);
  t.deepEqual(Object.keys(w1.processes).sort(), ['logkit forward', 'logkit parse', 'logkit receive', 'logkit store', 'logkit tail']);
  for (const [name, r] of Object.entries(w1.processes)) {
    t.true((r.cpu ?? 0) > 0, `${name} CPU measured`);
    t.true((r.rssMB ?? 0) > 0, `${name} peak RSS measured`);
  }
  t.true(w1.cpuTotal > 0);
});
