import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { execa } from 'execa';
import { ROOT } from '../helpers/logkit.js';

interface StoreResult {
  stored: number;
  distinct: number;
  lost?: number;
  duplicates: number;
  wrongIdentity: number;
}
interface Summary extends StoreResult {
  lines: number;
  kills: number;
  lost: number;
  failover: boolean;
  stores: Record<string, StoreResult>;
}

/** Runs bench/chaos.mjs (see its header) and returns its JSON summary. */
async function chaos(t: ExecutionContext, args: readonly string[]): Promise<{ summary: Summary; exitCode: number | undefined }> {
  const run = await execa(process.execPath, [join(ROOT, 'bench', 'chaos.mjs'), ...args, '--json'], { reject: false, timeout: 260_000, env: { NO_COLOR: '' } });
  t.log(run.stdout);
  if (run.exitCode !== 0) t.log(run.stderr.split('\n').slice(-40).join('\n'));
  return { summary: JSON.parse(run.stdout.trim().split('\n').at(-1)!) as Summary, exitCode: run.exitCode };
}

// The issue-5 "done when", reduced: the whole topology (tail | parse | forward --buffer → two
// receive --buffer | store --checkpoint aggregators), 20,000 numbered lines with rotations, 20 kill -9
// of random logkit processes over ~30 s, units restarted like systemd Restart=always. Every number
// must be stored, and every stored event must carry its identity (the inode and offset of its line:
// what the stores de-duplicate on). The full run is `node bench/chaos.mjs` (see its header).
// Nothing twice either, in the union of both aggregators' files: forward routes each file (source)
// to one aggregator, which keeps it across its own restarts (--failover-delay), so every replay
// reaches the file store that has seen it, and that store drops it.
test('chaos: 20,000 lines, 20 random kill -9 across the topology, nothing lost, nothing twice, every identity exact', async (t) => {
  const { summary, exitCode } = await chaos(t, ['--lines', '20000', '--kills', '20', '--seconds', '30', '--seed', '1', '--drain-timeout', '120']);
  t.true(summary.kills >= 20, `${summary.kills} kills`);
  t.is(summary.lost, 0, 'no number is missing from the stores');
  t.is(summary.distinct, 20000);
  t.is(summary.wrongIdentity, 0, 'every stored event names the file and offset of its line');
  t.is(summary.duplicates, 0, 'no line stored twice in the union of both aggregators\' files');
  t.is(summary.stores.out1!.duplicates + summary.stores.out2!.duplicates, 0);
  t.is(summary.stored, 20000);
  t.is(exitCode, 0);
});

// One aggregator killed -9 for good mid-run: forward fails its chunks over to the other one; its
// buffer is drained at the end (its disk recovered). Identities survive the failover: events that
// went through either aggregator name the file and offset of their line.
test('chaos with failover: aggregator 2 killed for good mid-run, nothing lost, every identity exact after the failover', async (t) => {
  const { summary, exitCode } = await chaos(t, ['--lines', '10000', '--kills', '10', '--seconds', '20', '--seed', '2', '--failover-at', '8', '--failover-delay', '2', '--drain-timeout', '120', '--allow-duplicates']);
  t.true(summary.failover);
  t.is(summary.lost, 0, 'no number is missing from the stores');
  t.is(summary.wrongIdentity, 0, 'every stored event names the file and offset of its line');
  t.is(summary.stores.out1!.wrongIdentity + summary.stores.out2!.wrongIdentity, 0);
  // (whether aggregator 2 stored anything before it died depends on the load: forward may still be
  // backing off from one of its restarts; the full run's numbers are in docs/delivery.md)
  t.log(`aggregator 1 stored ${summary.stores.out1!.stored}, aggregator 2 ${summary.stores.out2!.stored}`);
  t.is(exitCode, 0);
});
