import { copyFile, readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import { execa } from 'execa';
import { ROOT, tempDir } from '../helpers/logkit.js';

const UNITS = join(ROOT, 'examples', 'systemd');

test('examples/systemd: systemd-analyze verify accepts every unit without a warning (the template instantiated)', async (t) => {
  const dir = await tempDir(t);
  const files = (await readdir(UNITS)).filter((name) => name.endsWith('.service'));
  t.deepEqual(files.sort(), ['logkit-aggregator.service', 'logkit-collector.service', 'logkit-tail@.service']);
  for (const name of files) await copyFile(join(UNITS, name), join(dir, name));
  await copyFile(join(UNITS, 'logkit-tail@.service'), join(dir, 'logkit-tail@nginx.service'));
  const units = ['logkit-collector.service', 'logkit-aggregator.service', 'logkit-tail@nginx.service'].map((name) => join(dir, name));
  // systemd-analyze is part of systemd (Debian package systemd): missing, this test fails
  const result = await execa('systemd-analyze', ['verify', '--man=no', ...units], { reject: false, cwd: dir });
  t.is(result.exitCode, 0, result.stderr);
  // verify exits 0 on unknown keys and unparsable values: its warnings are the check
  t.is(result.stderr.trim(), '', 'systemd-analyze verify printed warnings');
});

test('examples/systemd: each unit restarts always, keeps state in StateDirectory, is hardened and logs to journald', async (t) => {
  for (const name of ['logkit-aggregator.service', 'logkit-collector.service', 'logkit-tail@.service']) {
    const text = await readFile(join(UNITS, name), 'utf8');
    for (const line of ['Restart=always', 'DynamicUser=yes', 'ProtectSystem=strict', 'NoNewPrivileges=yes', 'StandardError=journal', 'CapabilityBoundingSet=']) {
      t.true(text.split('\n').includes(line), `${name}: ${line}`);
    }
    t.regex(text, /^StateDirectory=logkit\//m, name);
    // every path the pipeline writes is under the state (or logs) directory
    const exec = /^ExecStart=([^]*?[^\\])\n/m.exec(text)![1]!;
    t.regex(exec, /\$\$STATE_DIRECTORY\/(buffer|checkpoint\.json)/, name);
    t.notRegex(exec.replace(/\$\$(STATE|LOGS)_DIRECTORY\/[^"' ]+/g, ''), /--(buffer|checkpoint|pos) +"?\//, `${name}: a path outside the state directory`);
  }
});

test('examples/systemd: every logkit option the units use exists in that command\'s spec', async (t) => {
  const { loadCommand } = await import('../../commands/index.js');
  for (const name of ['logkit-aggregator.service', 'logkit-collector.service', 'logkit-tail@.service']) {
    const text = await readFile(join(UNITS, name), 'utf8');
    const exec = /^ExecStart=([^]*?[^\\])\n/m.exec(text)![1]!.replace(/\\\n/g, ' ');
    // `logkit run "tail … | forward …"` (one process) or `logkit tail … | logkit forward …` (a pipeline)
    const chain = /logkit run "([^"]*)"/.exec(exec)?.[1];
    const stages = chain ? [...chain.matchAll(/(?:^|\|)\s*(\w+)([^|]*)/g)] : [...exec.matchAll(/logkit (\w+)([^|']*)/g)];
    t.true(stages.length >= 2, name);
    for (const [, command, rest] of stages) {
      const { spec } = await loadCommand(command!);
      for (const [, option] of rest!.matchAll(/(?:^| )--([a-z-]+)/g)) {
        if (option! in spec.options) continue;
        t.fail(`${name}: logkit ${command} has no --${option}`);
      }
    }
  }
});

test('examples/systemd: the aggregator, reachable beyond loopback, sets the limits one client could push (docs/limits.md)', async (t) => {
  const text = await readFile(join(UNITS, 'logkit-aggregator.service'), 'utf8');
  t.regex(text, /^Environment=LOGKIT_BIND=0\.0\.0\.0:/m);
  const exec = /^ExecStart=([^]*?[^\\])\n/m.exec(text)![1]!.replace(/\\\n/g, ' ');
  // the chain runs in one process (logkit run "receive … | store …") or as a shell pipeline
  const receive = /(?:logkit |")receive([^|]*)/.exec(exec)![1]!;
  for (const option of ['max-connections', 'max-connections-per-ip', 'handshake-timeout', 'request-timeout', 'max-auth-backoff', 'max-chunk-bytes', 'max-decompressed-bytes', 'max-buffered-bytes']) {
    t.regex(receive, new RegExp(`--${option} \\S+`), `--${option}`);
  }
  const perIp = Number(/--max-connections-per-ip (\d+)/.exec(receive)![1]);
  const total = Number(/--max-connections (\d+)/.exec(receive)![1]);
  t.true(perIp < total, 'one address cannot take every connection');
  t.true(total < Number(/^LimitNOFILE=(\d+)/m.exec(text)![1]), 'connections below the file descriptor limit');
  t.regex(text, /^MemoryMax=/m);
});
