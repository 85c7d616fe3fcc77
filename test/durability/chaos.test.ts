import { join } from 'node:path';
import test from 'ava';
import { execa } from 'execa';
import { ROOT } from '../helpers/logkit.js';

// The issue-5 "done when", reduced: the whole topology (tail | parse | forward --buffer → two
// receive --buffer | store --checkpoint aggregators), 20,000 numbered lines with rotations, 20 kill -9
// of random logkit processes over ~30 s, units restarted like systemd Restart=always. Every number
// must be stored; duplicates are reported. The full run is `node bench/chaos.mjs` (see its header).
test('chaos: 20,000 lines, 20 random kill -9 across the topology, nothing lost', async (t) => {
  const run = await execa(process.execPath, [join(ROOT, 'bench', 'chaos.mjs'), '--lines', '20000', '--kills', '20', '--seconds', '30', '--seed', '1', '--drain-timeout', '60', '--json'], {
    reject: false,
    timeout: 150_000,
    env: { NO_COLOR: '' },
  });
  t.log(run.stdout);
  if (run.exitCode !== 0) t.log(run.stderr.split('\n').slice(-40).join('\n'));
  const summary = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as { lines: number; kills: number; distinct: number; lost: number; duplicates: number; stored: number };
  t.true(summary.kills >= 20, `${summary.kills} kills`);
  t.is(summary.lost, 0, 'no number is missing from the stores');
  t.is(summary.distinct, 20000);
  t.is(summary.stored, summary.distinct + summary.duplicates);
  // bounded: a replay after a kill re-sends at most what was in flight (chunks and pipes), far below this
  t.true(summary.duplicates < 20000 * 0.1, `duplicates ${summary.duplicates}`);
  t.is(run.exitCode, 0);
});
