import test from 'ava';
import { loadAllCommands } from '../../commands/index.js';
import { logkit } from '../helpers/logkit.js';
import { StageProcess } from '../helpers/stage-process.js';
import type { CommandSpec } from '../../src/cli/spec.js';
import { waitFor } from '../helpers/wait.js';

/** Arguments that satisfy a command's required positionals, so that only the option under test can fail. */
const POSITIONALS: Record<string, string[]> = {
  buffer: ['/nonexistent/logkit-dir'],
  forward: ['127.0.0.1:1'],
  parse: ['json'],
  store: ['file', '/nonexistent/logkit-out.ndjson'],
  tail: ['/nonexistent/logkit.log'],
};

const specs = (await loadAllCommands()).map((m) => m.spec);

function optionsOfType(spec: CommandSpec, type: 'duration' | 'size'): string[] {
  return Object.entries(spec.options).filter(([, o]) => o.type === type).map(([name]) => name);
}

test('every duration and size option of every command refuses a value without a valid unit: exit 64 naming the option', async (t) => {
  let checked = 0;
  for (const spec of specs) {
    for (const type of ['duration', 'size'] as const) {
      for (const name of optionsOfType(spec, type)) {
        const r = await logkit([spec.name, ...(POSITIONALS[spec.name] ?? []), `--${name}`, '5parsecs'], { input: '' });
        t.is(r.exitCode, 64, `${spec.name} --${name}`);
        t.regex(String(r.stderr), new RegExp(`--${name}: expected a ${type} \\(.*\\), got "5parsecs"`), `${spec.name} --${name}`);
        checked++;
      }
    }
  }
  // the durations and sizes of forward, store, tail, receive and buffer at least
  t.true(checked >= 40, `${checked} options checked`);
});

test('ranges are enforced at parse time with the range in the message', async (t) => {
  const cases: Array<[string[], RegExp]> = [
    [['buffer', '/nonexistent/d', '--chunk-bytes', '512'], /--chunk-bytes: expected from 1k to 256m, got 512/],
    [['buffer', '/nonexistent/d', '--chunk-events', '1.5'], /--chunk-events: expected a whole number at least 1, got 1\.5/],
    [['forward', '127.0.0.1:1', '--flush-interval', '0'], /--flush-interval: expected from 1ms to 1d, got 0/],
    [['store', 'file', '/nonexistent/x', '--gzip-level', '10'], /--gzip-level: expected a whole number from 1 to 9, got 10/],
    [['receive', '--max-connections', '0'], /--max-connections: expected a whole number at least 1, got 0/],
    [['tail', '--max-open-files', 'many', 'x.log'], /--max-open-files: expected a whole number, got "many"/],
    [['tag', '--stats-interval', '2d'], /--stats-interval: expected from 0 to 1d, got 2d/],
  ];
  for (const [args, message] of cases) {
    const r = await logkit(args, { input: '' });
    t.is(r.exitCode, 64, args.join(' '));
    t.regex(String(r.stderr), message, args.join(' '));
  }
});

test('an option removed by a rename is a usage error that names the new one', async (t) => {
  let checked = 0;
  for (const spec of specs) {
    for (const [old, now] of Object.entries(spec.renamed ?? {})) {
      t.truthy(spec.options[now], `${spec.name} --${now} exists`);
      const r = await logkit([spec.name, ...(POSITIONALS[spec.name] ?? []), `--${old}`, '1'], { input: '' });
      t.is(r.exitCode, 64, `${spec.name} --${old}`);
      t.regex(String(r.stderr), new RegExp(`--${old} was renamed --${now}`), `${spec.name} --${old}`);
      checked++;
    }
  }
  t.is(checked, 6);
});

test('the same option has the same name, type and placeholder in every command that has it', (t) => {
  const seen = new Map<string, { type: string; command: string }>();
  for (const spec of specs) {
    for (const [name, o] of Object.entries(spec.options)) {
      const before = seen.get(name);
      if (before) t.is(String(o.type), before.type, `--${name} of ${spec.name} and ${before.command}`);
      else seen.set(name, { type: o.type, command: spec.name });
    }
  }
  // one name for the buffer limit and for our host name
  for (const spec of specs) {
    t.falsy(spec.options['buffer-max-bytes'], spec.name);
    t.falsy(spec.options.hostname, spec.name);
  }
  t.truthy(specs.find((s) => s.name === 'receive')!.options['total-limit']);
  t.truthy(specs.find((s) => s.name === 'forward')!.options['self-hostname']);
});

test('an unknown command with --help is a usage error (64), like one without', async (t) => {
  for (const args of [['nosuch', '--help'], ['nosuch'], ['nosuch', '-h']]) {
    const r = await logkit(args);
    t.is(r.exitCode, 64, args.join(' '));
    t.regex(String(r.stderr), /unknown command "nosuch"/);
    t.is(String(r.stdout), '', 'no help printed');
  }
});

test('--help shows durations and sizes with their placeholder, range and unit default', async (t) => {
  const r = await logkit(['forward', '--help']);
  t.is(r.exitCode, 0);
  const help = String(r.stdout).replace(/\s+/g, ' ');
  t.regex(help, /--flush-interval How long after its first event .* \(from 1ms to 1d\) \[DURATION\] \[default: 50ms\]/);
  t.regex(help, /--max-pending-bytes .* \[SIZE\] ?\[default: 8m\]/);
  t.regex(help, /DURATION is a number with ms, s, m, h or d, like 250ms, 5s, 2m or 1h; a bare number is seconds/);
  t.regex(help, /SIZE is a number with k, m, g or t/);
});

test('a duration reaches the command in milliseconds: --stats-interval 200ms prints the line periodically', async (t) => {
  const tag = new StageProcess(t, ['tag', '--stats', '--stats-interval', '200ms'], 'pipe');
  tag.child.stdout!.resume();
  tag.child.stdin!.write('{"tag":"a","time":"2024-01-01T00:00:00Z","record":{}}\n');
  await waitFor(() => (tag.stderr.match(/stats \(interval\)/g) ?? []).length >= 2, 'two interval stats lines', 20_000);
  tag.child.stdin!.end();
  t.is(await tag.exited, 0);
  t.regex(tag.stderr, /logkit tag: stats \(interval\) events_in=1/);
});
