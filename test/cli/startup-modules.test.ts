import { join } from 'node:path';
import test from 'ava';
import { execa } from 'execa';
import { LOGKIT_BIN, ROOT } from '../helpers/logkit.js';

/**
 * `logkit --version` and `--help` start fast: they load the option schemas and the tiny modules
 * that declare choice lists and defaults, never parser, codec or driver code. The installed bin
 * runs the build's bundle (tools/bundle.mjs), which keeps this module graph and its laziness, so
 * the graph is traced on the modules tsc wrote, through the same entry point.
 */
const ENTRY = join(ROOT, 'dist', 'src', 'app', 'main.js');
const ALLOWED = /^src\/(cli\/[a-z-]+|app\/(main|broken-pipe)|base\/[a-z-]+|stream\/shutdown|log\/logger|codec\/(stream-formats|decode-error|depth-limit)|buffer\/(defaults|buffer-options|buffer-error)|parse\/parse-formats|tail\/(tail-choices|symlink-policy)|store\/store-choices|forward\/forward-choices)$/;

async function modulesLoadedBy(args: string[]): Promise<string[]> {
  const r = await execa(process.execPath, ['--no-warnings', '--loader', join(ROOT, 'test', 'fixtures', 'trace-modules.mjs'), ENTRY, ...args], { reject: false });
  return String(r.stderr).split('\n').filter((line) => line.startsWith('loaded ')).map((line) => line.slice('loaded '.length));
}

for (const args of [['--version'], ['--help'], ['parse', '--help'], ['store', '--help'], ['tail', '--help'], ['forward', '--help']]) {
  test(`logkit ${args.join(' ')} loads no implementation code`, async (t) => {
    const loaded = await modulesLoadedBy(args);
    t.true(loaded.includes('src/app/main'), loaded.join(' '));
    t.deepEqual(loaded.filter((name) => !ALLOWED.test(name)), []);
  });
}

/** The packages a command line loads through require() (yargs, chalk and lossless-json load so, on demand), and its exit status. */
async function packagesRequiredBy(args: string[], input = '', env: Record<string, string> = {}): Promise<{ packages: string[]; exitCode?: number }> {
  const r = await execa(process.execPath, ['--require', join(ROOT, 'test', 'fixtures', 'trace-requires.cjs'), LOGKIT_BIN, ...args], { reject: false, input, env });
  const packages = String(r.stderr).split('\n').filter((line) => line.startsWith('required ')).map((line) => line.slice('required '.length));
  return { packages, exitCode: r.exitCode };
}

const EVENT = '{"time":1,"tag":"app","record":{"message":"hi","level":"warn"}}\n';

test('a plain command line runs without yargs', async (t) => {
  t.deepEqual(await packagesRequiredBy(['cat']), { packages: [], exitCode: 0 });
  t.deepEqual(await packagesRequiredBy(['cat', '--output', 'json', '-i=auto'], EVENT), { packages: [], exitCode: 0 });
  // help, and any line that is not plain, are yargs' work
  t.deepEqual(await packagesRequiredBy(['cat', '--help']), { packages: ['yargs'], exitCode: 0 });
  t.deepEqual(await packagesRequiredBy(['cat', '--no-such-option']), { packages: ['yargs'], exitCode: 64 });
});

test('the human format loads chalk only for color', async (t) => {
  t.deepEqual(await packagesRequiredBy(['cat'], EVENT, { NO_COLOR: '1' }), { packages: [], exitCode: 0 });
  t.deepEqual(await packagesRequiredBy(['cat'], EVENT, { FORCE_COLOR: '1' }), { packages: ['chalk'], exitCode: 0 });
});

test('the bin runs the bundle from the code cache the build wrote: V8 accepts it', async (t) => {
  const script = `const bin = require(${JSON.stringify(LOGKIT_BIN)}); process.stdout.write(String(bin.compileBundle(bin.readCodeCache()).cachedDataRejected))`;
  const r = await execa(process.execPath, ['-e', script]);
  t.is(r.stdout, 'false');
});
