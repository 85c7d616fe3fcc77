import { join } from 'node:path';
import test from 'ava';
import { execa } from 'execa';
import { LOGKIT_BIN, ROOT } from '../helpers/logkit.js';

/**
 * `logkit --version` and `--help` start fast: they load the option schemas and the tiny modules
 * that declare choice lists and defaults, never parser, codec or driver code.
 */
const ALLOWED = /^src\/(cli\/[a-z-]+|app\/(main|broken-pipe)|base\/[a-z-]+|stream\/shutdown|log\/logger|codec\/(stream-formats|decode-error|depth-limit)|buffer\/(defaults|buffer-options|buffer-error)|parse\/parse-formats|tail\/(tail-choices|symlink-policy)|store\/store-choices|forward\/forward-choices)$/;

async function modulesLoadedBy(args: string[]): Promise<string[]> {
  const r = await execa(process.execPath, ['--no-warnings', '--loader', join(ROOT, 'test', 'fixtures', 'trace-modules.mjs'), LOGKIT_BIN, ...args], { reject: false });
  return String(r.stderr).split('\n').filter((line) => line.startsWith('loaded ')).map((line) => line.slice('loaded '.length));
}

for (const args of [['--version'], ['--help'], ['parse', '--help'], ['store', '--help'], ['tail', '--help'], ['forward', '--help']]) {
  test(`logkit ${args.join(' ')} loads no implementation code`, async (t) => {
    const loaded = await modulesLoadedBy(args);
    t.true(loaded.includes('src/app/main'), loaded.join(' '));
    t.deepEqual(loaded.filter((name) => !ALLOWED.test(name)), []);
  });
}
