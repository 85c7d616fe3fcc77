import { existsSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { execa } from 'execa';
import { ROOT, tempDir } from '../helpers/logkit.js';

test('npm run install-completions installs bash, zsh and fish completions and the man pages for the user', async (t) => {
  const home = await tempDir(t);
  const env = { HOME: home, XDG_DATA_HOME: '', XDG_CONFIG_HOME: '' };
  const result = await execa('npm', ['run', '--silent', 'install-completions'], { cwd: ROOT, env, reject: false });
  t.is(result.exitCode, 0, result.stderr);
  const bash = join(home, '.local/share/bash-completion/completions/logkit');
  for (const file of [bash, join(home, '.zfunc/_logkit'), join(home, '.config/fish/completions/logkit.fish'), join(home, '.local/share/man/man1/logkit-forward.1')]) {
    t.true(existsSync(file), file);
  }
  // the installed bash completion registers itself for `logkit`
  const check = await execa('bash', ['-c', `source ${bash} && complete -p logkit`], { reject: false });
  t.is(check.exitCode, 0, check.stderr);
  t.regex(check.stdout, /logkit$/);
  // and man finds the installed pages
  const man = await execa('man', ['-w', 'logkit-forward'], { env: { ...env, MANPATH: join(home, '.local/share/man') }, reject: false });
  t.is(man.stdout.trim(), join(home, '.local/share/man/man1/logkit-forward.1'));
});
