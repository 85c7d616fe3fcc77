import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import { ROOT, logkit } from '../helpers/logkit.js';
import { COMMAND_NAMES } from '../../commands/index.js';

test('--version prints the package version', async (t) => {
  const { version } = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8'));
  const r = await logkit(['--version']);
  t.is(r.exitCode, 0);
  t.is(String(r.stdout).trim(), version);
});

test('an unknown option is a usage error (64)', async (t) => {
  const r = await logkit(['cat', '--no-such-option']);
  t.is(r.exitCode, 64);
  t.regex(String(r.stderr), /Unknown argument/);
});

test('an unknown command is a usage error (64)', async (t) => {
  const r = await logkit(['frobnicate']);
  t.is(r.exitCode, 64);
});

test('no command is a usage error (64) that points to --help', async (t) => {
  const r = await logkit([]);
  t.is(r.exitCode, 64);
  t.regex(String(r.stderr), /--help/);
});

test('a bad choice is a usage error (64)', async (t) => {
  const r = await logkit(['cat', '--output', 'xml']);
  t.is(r.exitCode, 64);
});

for (const name of COMMAND_NAMES) {
  test(`${name} --help shows usage and examples`, async (t) => {
    const r = await logkit([name, '--help']);
    t.is(r.exitCode, 0);
    t.regex(String(r.stdout), new RegExp(`logkit ${name}`));
    t.regex(String(r.stdout), /Examples:/);
  });
}

test('--help lists every command', async (t) => {
  const r = await logkit(['--help']);
  t.is(r.exitCode, 0);
  for (const name of COMMAND_NAMES) t.regex(String(r.stdout), new RegExp(`logkit ${name}`));
});
