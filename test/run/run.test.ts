import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import { splitChain } from '../../src/run/chain-syntax.js';
import { CliError } from '../../src/base/exit-codes.js';
import { logkit, tempDir } from '../helpers/logkit.js';
import { FORMS, runChain, startChain } from './chain-helpers.js';
import { StageProcess } from '../helpers/stage-process.js';
import { freePort } from '../helpers/net.js';
import { waitFor } from '../helpers/wait.js';

/** JSON lines with their own times (so both runs give the same events), one line that is not JSON. */
async function appLog(dir: string, count: number): Promise<string> {
  const path = join(dir, 'app.log');
  let text = '';
  for (let n = 1; n <= count; n++) {
    text += n === 7 ? 'not json at all\n' : `{"time":"2026-11-30T10:00:${String(n % 60).padStart(2, '0')}.${String(n).padStart(9, '0')}Z","n":${n},"level":"${n % 3 ? 'info' : 'warn'}","msg":"line ${n}"}\n`;
  }
  await writeFile(path, text);
  return path;
}

/** The line that did not parse keeps the time tail read it at: the one field that differs between two runs. */
const readTime = (text: string): string => text.replace(/^\{"time":"[^"]+"(?=.*"parse_error")/gm, '{"time":"READ"');

test('the chain is split as a shell splits a simple command, with nothing expanded', (t) => {
  t.deepEqual(splitChain('tail app.log|parse json | forward agg:24224'), [['tail', 'app.log'], ['parse', 'json'], ['forward', 'agg:24224']]);
  t.deepEqual(splitChain(`parse regexp -e '^(?<a>\\w+) | (?<b>.*)$' | tag --add "who=$USER \\"x\\"" | cat`), [
    ['parse', 'regexp', '-e', '^(?<a>\\w+) | (?<b>.*)$'],
    ['tag', '--add', 'who=$USER "x"'],
    ['cat'],
  ]);
  t.deepEqual(splitChain("tail /var/log/*.log a\\ b ''"), [['tail', '/var/log/*.log', 'a b', '']]);
  for (const bad of ['', '  ', 'cat |', '| cat', 'cat || cat', "cat 'open", 'cat "open', 'cat \\']) {
    const error = t.throws(() => splitChain(bad), { instanceOf: CliError }, bad);
    t.is(error?.exitCode, 64);
  }
});

test('tail | parse json | tag | cat: the same output either way, byte for byte', async (t) => {
  const dir = await tempDir(t);
  const log = await appLog(dir, 3000);
  const chain = [['tail', '--no-follow', '--from-head', log], ['parse', 'json'], ['tag', '--set-tag', 'app.${record.level}', '--remove', 'n'], ['cat', '-o', 'json']];
  const [piped, run] = await Promise.all(FORMS.map((form) => runChain(form, chain)));
  t.is(piped.exitCode, 0, String(piped.stderr));
  t.is(run.exitCode, 0, String(run.stderr));
  const lines = String(run.stdout).trimEnd().split('\n');
  t.is(lines.length, 3000);
  t.regex(lines[6]!, /"parse_error":/, 'the line that is not JSON is marked, not lost');
  t.regex(lines[0]!, /"tag":"app\.info".*"record":\{"level":"info","msg":"line 1"\}/);
  t.is(readTime(String(run.stdout)), readTime(String(piped.stdout)));
  // the failure count is said the same way (only the name of the process differs)
  t.regex(String(run.stderr), /1 of 3000 lines did not parse as json/);
});

test('exit statuses are those of the pipeline with pipefail: corrupt input 65 after the events before it, a bad option 64', async (t) => {
  const input = '{"time":"2026-11-30T10:00:00Z","tag":"a","record":{"message":"one"}}\n{"time":"2026-11-30T10:00:01Z","tag":"a","record":{"message":"two"}}\n{"time": broken\n';
  const corrupt = [['parse', 'none', '-i', 'json'], ['cat', '-o', 'json']];
  const results = await Promise.all(FORMS.map((form) => runChain(form, corrupt, { input })));
  for (const [i, r] of results.entries()) {
    t.is(r.exitCode, 65, `${FORMS[i]}: ${r.stderr}`);
    t.regex(String(r.stderr), /stdin: line 3/);
  }
  t.is(results[1]!.stdout, results[0]!.stdout);
  t.is(String(results[1]!.stdout).trimEnd().split('\n').length, 2);
  const usage = await Promise.all(FORMS.map((form) => runChain(form, [['parse', 'regexp'], ['cat']], { input: '' })));
  t.deepEqual(usage.map((r) => r.exitCode), [64, 64]);
  const unknown = await logkit(['run', 'parse json --bogus | cat']);
  t.is(unknown.exitCode, 64);
  t.regex(String(unknown.stderr), /parse: Unknown argument: bogus/);
  const notACommand = await logkit(['run', 'tail a.log | grep x']);
  t.is(notACommand.exitCode, 64);
  t.regex(String(notACommand.stderr), /stage 2: "grep" is not a command/);
});

/** Every file the store wrote under `dir`, name → content. */
async function storedFiles(dir: string): Promise<Map<string, string>> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  // (the store's own bookkeeping, .logkit-store/, is not stored events)
  const names = entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name).slice(dir.length + 1)).filter((name) => !name.startsWith('.logkit-store')).sort();
  return new Map(await Promise.all(names.map(async (name) => [name, readTime(await readFile(join(dir, name), 'utf8'))] as const)));
}

const lineCount = (files: Map<string, string>): number => [...files.values()].reduce((sum, text) => sum + text.split('\n').length - 1, 0);

test('W1 either way: tail | parse json | forward → receive | store file stores the same files, and both stop cleanly on SIGTERM', async (t) => {
  const dir = await tempDir(t);
  const log = await appLog(dir, 20_000);
  const stored: Array<Map<string, string>> = [];
  for (const form of FORMS) {
    const port = await freePort();
    const out = join(dir, `store-${form}`);
    const aggregator = startChain(t, form, [['receive', '--bind', `127.0.0.1:${port}`], ['store', 'file', join(out, '${tag}.ndjson'), '--flush-interval', '50ms']]);
    await waitFor(() => /listening on/.test(aggregator.stderr()), `${form}: receive listening`);
    const collector = await runChain(form, [['tail', '--no-follow', '--from-head', log], ['parse', 'json'], ['forward', `127.0.0.1:${port}`]]);
    t.is(collector.exitCode, 0, `${form} collector: ${collector.stderr}`);
    await waitFor(async () => lineCount(await storedFiles(out)) === 20_000, `${form}: every event stored`, 60_000).catch(() => {});
    for (const stage of aggregator.stages) stage.kill('SIGTERM');
    const exits = await Promise.all(aggregator.stages);
    t.deepEqual(exits.map((e) => e.exitCode), exits.map(() => 0), `${form} aggregator: ${aggregator.stderr()}`);
    stored.push(await storedFiles(out));
  }
  t.is(lineCount(stored[0]!), 20_000);
  t.deepEqual([...stored[1]!.keys()], [...stored[0]!.keys()]);
  t.deepEqual(stored[1], stored[0], 'the same events, in the same order, in the same files');
});

test('a second SIGTERM ends the process at once, while the first is still draining (either way)', async (t) => {
  const port = await freePort(); // nobody listens: after the first SIGTERM forward drains for --drain-timeout
  for (const form of FORMS) {
    const forward = ['forward', '--drain-timeout', '600', '--metrics', '127.0.0.1:0', `127.0.0.1:${port}`];
    const child = new StageProcess(t, form === 'run' ? ['run', `parse none | ${forward.join(' ')}`] : forward);
    child.child.stdin!.write('{"time":"2026-11-30T10:00:00Z","tag":"a","record":{"message":"held"}}\n');
    const url = await child.metricsUrl(); // up, its shutdown listening
    child.child.kill('SIGTERM');
    // still there, draining (the event cannot be delivered): the endpoint answers after the first signal
    t.true((await fetch(url)).ok, form);
    const started = Date.now();
    child.child.kill('SIGTERM');
    await child.exited;
    t.is(child.child.signalCode, 'SIGTERM', `${form}: ended by the signal, not by a status (${child.child.exitCode}) ${child.stderr}`);
    t.true(Date.now() - started < 10_000, `${form}: at once, not after --drain-timeout`);
  }
});
