/**
 * The README's quick start and recipes, run end to end exactly as a reader runs them (shortened):
 * real logkit processes, real fluent-logger clients, real sockets and files. Each script checks
 * what arrived itself; these tests check its summary line too.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { execa } from 'execa';
import { ROOT } from '../helpers/logkit.js';

const run = (command: string, args: string[], env: Record<string, string> = {}) =>
  execa(command, args, { cwd: ROOT, reject: false, timeout: 100_000, env: { LOGKIT_RECIPE_TIMEOUT: '60', LOGKIT_DEMO_TIMEOUT: '60', ...env } });

test('quick start: `npm run demo` (shortened by LOGKIT_DEMO_LINES) stores every generated line across two aggregators', async (t) => {
  const result = await run('npm', ['run', '--silent', 'demo'], { LOGKIT_DEMO_LINES: '6000' });
  t.is(result.exitCode, 0, `${result.stdout}\n${result.stderr}`);
  const summary = /^demo: generated=(\d+) aggregator1=(\d+) aggregator2=(\d+) total=(\d+) missing=(\d+) duplicates=(\d+) seconds=[\d.]+$/m.exec(result.stdout);
  t.truthy(summary, result.stdout);
  const [, generated, one, two, total, missing, duplicates] = summary!.map(Number);
  t.is(generated, 6000);
  t.is(missing, 0);
  t.is(duplicates, 0);
  t.is(total, 6000);
  t.is(one! + two!, 6000);
  // the 16 files spread over both aggregators (each file to one: rendezvous hashing of its identity)
  t.true(one! > 0 && two! > 0, `aggregator1=${one} aggregator2=${two}`);
  t.regex(result.stdout, /demo: OK: every generated line was stored/);
  // it cleaned up after itself
  const dir = /generated 6000 lines in \d+ files (\S+)\/app-\*\.log/.exec(result.stdout)![1]!;
  t.false(existsSync(dir), `${dir} left behind`);
});

test('recipe 1, simple forwarding: fluent-logger app → logkit receive | logkit store file', async (t) => {
  const result = await run('bash', [join('examples', 'recipe-simple.sh'), '400']);
  t.is(result.exitCode, 0, `${result.stdout}\n${result.stderr}`);
  t.regex(result.stdout, /^recipe-simple: sent=400 stored=400 missing=0$/m);
  t.regex(result.stdout, /^recipe-simple: OK$/m);
});

test('recipe 2, source-side aggregation: three Docker-driver-shaped senders → local collector → aggregator', async (t) => {
  const result = await run('bash', [join('examples', 'recipe-source-aggregation.sh'), '300']);
  t.is(result.exitCode, 0, `${result.stdout}\n${result.stderr}`);
  t.regex(result.stdout, /^recipe-source-aggregation: sent=900 docker\.web=300 docker\.api=300 docker\.db=300 stored=900 missing=0$/m);
});

test('recipe 3, both sides: two collectors → weighted round-robin over two aggregators, then failover to the standby', async (t) => {
  const result = await run('bash', [join('examples', 'recipe-both-sides.sh'), '300']);
  t.is(result.exitCode, 0, `${result.stdout}\n${result.stderr}`);
  const phase1 = /phase 1 \(primaries up\): agg-a=(\d+) agg-b=(\d+) agg-c=0$/m.exec(result.stdout);
  t.truthy(phase1, result.stdout);
  t.true(Number(phase1![1]) > 0 && Number(phase1![2]) > 0, 'both primaries take a share');
  const final = /sent=1200 agg-a=(\d+) agg-b=(\d+) agg-c=(\d+) \(standby\) missing=0 duplicates=(\d+)$/m.exec(result.stdout);
  t.truthy(final, result.stdout);
  t.true(Number(final![3]) > 0, 'the standby took over');
});
