import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import { execa } from 'execa';
import { loadAllCommands } from '../../commands/index.js';
import { generatedDocs } from '../../src/app/docs/generate-docs.js';
import { ROOT } from '../helpers/logkit.js';

test('man pages and completions are up to date with the specs (run `npm run docs`)', async (t) => {
  for (const [path, content] of await generatedDocs()) {
    const committed = await readFile(join(ROOT, path), 'utf8').catch(() => '(missing)');
    t.is(committed, content, `${path} is stale: run \`npm run docs\``);
  }
});

test('every command and option appears in its man page and in every completion', async (t) => {
  const bash = await readFile(join(ROOT, 'completions/logkit.bash'), 'utf8');
  const zsh = await readFile(join(ROOT, 'completions/_logkit'), 'utf8');
  const fish = await readFile(join(ROOT, 'completions/logkit.fish'), 'utf8');
  const overview = await readFile(join(ROOT, 'man/logkit.1'), 'utf8');
  for (const { spec } of await loadAllCommands()) {
    const page = await readFile(join(ROOT, `man/logkit-${spec.name}.1`), 'utf8');
    t.true(overview.includes(`logkit\\-${spec.name.replace(/-/g, '\\-')}`), `${spec.name} in logkit(1)`);
    t.regex(bash, new RegExp(`\\b${spec.name}\\)`), `${spec.name} in bash`);
    t.regex(zsh, new RegExp(`'${spec.name}:`), `${spec.name} in zsh`);
    t.regex(fish, new RegExp(`-a ${spec.name} `), `${spec.name} in fish`);
    for (const name of Object.keys(spec.options)) {
      const roffName = `\\-\\-${name.replace(/-/g, '\\-')}`;
      t.true(page.includes(roffName), `--${name} in man/logkit-${spec.name}.1`);
      t.true(bash.includes(`--${name}`), `--${name} of ${spec.name} in bash`);
      t.true(zsh.includes(`--${name}`), `--${name} of ${spec.name} in zsh`);
      t.true(fish.includes(`-l ${name}`), `--${name} of ${spec.name} in fish`);
    }
  }
});

test('every man page renders without warnings', async (t) => {
  const { stdout } = await execa('bash', ['-c', 'ls man/*.1'], { cwd: ROOT });
  for (const page of stdout.split('\n')) {
    const r = await execa('man', ['--warnings', '-l', page], { cwd: ROOT, env: { MANWIDTH: '80' }, reject: false });
    t.is(r.exitCode, 0, page);
    t.is(r.stderr, '', `${page} renders without warnings`);
    t.true(r.stdout.length > 200);
  }
});

test('the completion scripts are valid for their shells', async (t) => {
  const bash = await execa('bash', ['-n', 'completions/logkit.bash'], { cwd: ROOT, reject: false });
  t.is(bash.exitCode, 0, bash.stderr);
  // bash: load it and ask for completions of a partial option
  const r = await execa('bash', ['-c', 'source completions/logkit.bash; COMP_WORDS=(logkit cat --ou); COMP_CWORD=2; _logkit; echo "${COMPREPLY[@]}"'], { cwd: ROOT });
  t.is(r.stdout.trim(), '--output');
});
