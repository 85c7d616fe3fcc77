import test from 'ava';
import { loadAllCommands } from '../../commands/index.js';
import { plainArgs } from '../../src/cli/plain-args.js';
import { yargsStageArgs } from '../../src/cli/stage-args.js';
import type { CommandSpec, OptionSpec } from '../../src/cli/spec.js';
import { mulberry32 } from '../helpers/prng.js';

const specs = (await loadAllCommands()).map((m) => m.spec);

/** Keys sorted, so that two parses compare by content and not by the order yargs happens to set keys in. */
function sorted(args: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(args).sort(([a], [b]) => a.localeCompare(b)));
}

async function yargsOutcome(spec: CommandSpec, argv: string[]): Promise<Record<string, unknown> | Error> {
  try {
    return await yargsStageArgs(spec, argv);
  } catch (error) {
    return error as Error;
  }
}

function validValue(o: OptionSpec, random: () => number): string {
  if (o.choices) return o.choices[Math.floor(random() * o.choices.length)]!;
  return { string: 'x.log', number: '3', duration: '5s', size: '1k', boolean: 'true' }[o.type];
}

const ODD_TOKENS = ['-', '--', '-h', '--help', '--version', '-xyz', '--no-such', 'true', 'false', '', '-1', '5s', 'json', 'file', 'a.log', 'h:1', '--Tag', '--stats=false'];

/** A command line that is often well-formed and often subtly not: both sides of every rule of plainArgs. */
function randomArgv(spec: CommandSpec, random: () => number): string[] {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const argv: string[] = [];
  for (const p of spec.positionals) {
    if (random() < 0.85) argv.push(p.choices ? pick(p.choices) : pick(['a.log', 'h:1', '/tmp/dir', 'x']));
    if (p.variadic && random() < 0.3) argv.push('b.log');
  }
  const names = Object.keys(spec.options);
  for (let k = Math.floor(random() * 5); k > 0; k--) {
    const name = pick(names);
    const o = spec.options[name]!;
    const value = random() < 0.8 ? validValue(o, random) : pick(ODD_TOKENS);
    const form = random();
    const at = Math.floor(random() * (argv.length + 1));
    let tokens: string[];
    if (o.type === 'boolean') tokens = form < 0.6 ? [`--${name}`] : form < 0.8 ? [`--no-${name}`] : [`--${name}`, pick(ODD_TOKENS)];
    else if (o.alias && form < 0.3) tokens = [`-${o.alias}`, value];
    else if (form < 0.5) tokens = [`--${name}=${value}`];
    else tokens = [`--${name}`, value];
    argv.splice(at, 0, ...tokens);
  }
  if (random() < 0.15) argv.splice(Math.floor(random() * (argv.length + 1)), 0, pick(ODD_TOKENS));
  return argv;
}

test('a command line plainArgs accepts is one yargs accepts, with the same arguments', async (t) => {
  const random = mulberry32(11);
  let plain = 0;
  let total = 0;
  for (const spec of specs) {
    for (let i = 0; i < 150; i++) {
      const argv = randomArgv(spec, random);
      const fast = plainArgs(spec, argv);
      total++;
      if (fast === undefined) continue;
      plain++;
      const slow = await yargsOutcome(spec, argv);
      if (slow instanceof Error) t.fail(`${spec.name} ${JSON.stringify(argv)}: plainArgs accepted what yargs refuses (${slow.message})`);
      else t.deepEqual(sorted(fast), sorted(slow), `${spec.name} ${JSON.stringify(argv)}`);
    }
  }
  // both sides were exercised: many lines plain, many handed to yargs
  t.true(plain > total * 0.2 && plain < total * 0.8, `${plain} of ${total} plain`);
});

test('the usual command lines are plain, so that they start without yargs', (t) => {
  const byName = new Map(specs.map((s) => [s.name, s]));
  const lines: Array<[string, string[]]> = [
    ['cat', []],
    ['cat', ['-o', 'json', 'events.msgpack']],
    ['tail', ['app.log', '--tag', 'app', '--checkpoint', 'app.pos', '--from-head']],
    ['parse', ['json']],
    ['parse', ['apache2', '--stats']],
    ['forward', ['agg:24224', '--buffer', '/var/lib/logkit/buf', '--flush-interval=20ms', '--no-ack', '--standby', 'agg2:24224']],
    ['receive', ['--bind', '0.0.0.0:24224', '--metrics', '127.0.0.1:0', '--user', 'a:b', '--user', 'c:d']],
    ['store', ['file', 'out.ndjson', '--checkpoint', 'store.pos']],
    ['run', ['tail app.log | parse json | forward agg:24224']],
  ];
  for (const [name, argv] of lines) t.truthy(plainArgs(byName.get(name)!, argv), `${name} ${argv.join(' ')}`);
});
