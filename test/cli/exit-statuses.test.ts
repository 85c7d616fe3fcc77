import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import test from 'ava';
import { loadAllCommands } from '../../commands/index.js';
import { COMMON_EXIT_STATUSES, ExitCode } from '../../src/base/exit-codes.js';
import { ROOT, logkit, tempDir } from '../helpers/logkit.js';

/** Statuses a thrown typed error becomes at the edge (src/cli/exit-status-of.ts). */
const BUFFER_REASON_STATUS: Record<string, number> = { open: 73, io: 74, full: 75, locked: 75 };

/**
 * The statuses a command's code can return: every ExitCode.X named in the modules its command
 * module imports (statically or on demand), a DiskBuffer's errors by reason, and 65 where the
 * codec reads a stream.
 */
function statusesReachableFrom(entry: string): Set<number> {
  const statuses = new Set<number>();
  const seen = new Set<string>();
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    for (const match of text.matchAll(/(?:from\s+|import\()\s*'(\.[^']+)\.js'/g)) queue.push(resolve(dirname(file), `${match[1]}.ts`));
    if (file === entry) continue; // the command's own declaration names the statuses it claims
    for (const match of text.matchAll(/ExitCode\.([A-Z_]+)/g)) statuses.add(ExitCode[match[1] as keyof typeof ExitCode]);
    for (const match of text.matchAll(/new BufferError\([^;]*?'(open|io|full|locked)'\)/gs)) statuses.add(BUFFER_REASON_STATUS[match[1]!]!);
    if (relative(ROOT, file) === join('src', 'codec', 'read-events.ts')) statuses.add(ExitCode.DATA_ERROR);
  }
  return statuses;
}

for (const { spec } of await loadAllCommands()) {
  test(`logkit ${spec.name}: the EXIT STATUS of its man page lists exactly the statuses its code can return`, (t) => {
    const reachable = statusesReachableFrom(join(ROOT, 'commands', `${spec.name}.ts`));
    const declared = new Set<number>([...COMMON_EXIT_STATUSES, ...spec.exitStatuses]);
    for (const status of COMMON_EXIT_STATUSES) reachable.add(status);
    t.deepEqual([...declared].sort(), [...reachable].sort());
  });
}

test('a buffer directory that cannot be created is exit status 73 in every command that has one', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'a-file');
  await writeFile(file, '');
  const unusable = join(file, 'spool'); // under a regular file: ENOTDIR, even for root
  const runs: Array<[string, string[]]> = [
    ['buffer', ['buffer', unusable]],
    ['forward', ['forward', '--buffer', unusable, '127.0.0.1:1']],
    ['store', ['store', '--buffer', unusable, 'file', join(dir, 'out.ndjson')]],
    ['receive', ['receive', '--bind', '127.0.0.1:0', '--buffer', unusable, '--checkpoint', join(dir, 'store.ckpt')]],
  ];
  for (const [name, args] of runs) {
    const r = await logkit(args, { input: '' });
    t.is(r.exitCode, 73, `${name}: ${String(r.stderr)}`);
    t.regex(String(r.stderr), /spool/, name);
  }
});
