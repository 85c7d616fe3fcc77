import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import { CheckpointTracker } from '../../src/checkpoint/checkpoint-tracker.js';
import { logkit, tempDir } from '../helpers/logkit.js';

test('the checkpoint keeps sources it does not see, takes the highest position per source, keeps other fields, and leaves no temp file', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'positions.json');
  await writeFile(path, JSON.stringify({ version: 1, sources: { other: { off: 7 }, 'file-1': { off: 10, path: '/var/log/a.log' } } }));
  const checkpoint = await CheckpointTracker.open(path, { create: true });
  checkpoint.commitPositions({ 'file-1': 500 });
  checkpoint.commitPositions({ 'file-1': 900, 'file-2': 30 });
  checkpoint.commitPositions({ 'file-1': 800 }); // never backwards
  await checkpoint.flush();
  t.deepEqual(JSON.parse(await readFile(path, 'utf8')), {
    version: 1,
    sources: { other: { off: 7 }, 'file-1': { off: 900, path: '/var/log/a.log' }, 'file-2': { off: 30 } },
  });
  t.deepEqual(await readdir(dir), ['positions.json']);
});

test('a checkpoint that cannot be written or read is a clear configuration error at start', async (t) => {
  const dir = await tempDir(t);
  const missing = await logkit(['buffer', join(dir, 'spool'), '--checkpoint', join(dir, 'no', 'such', 'dir', 'p.json')], { input: '' });
  t.is(missing.exitCode, 78);
  t.regex(String(missing.stderr), /logkit: buffer: --checkpoint .*p\.json: ENOENT/);
  await writeFile(join(dir, 'bad.json'), '{"version":2}');
  const bad = await logkit(['buffer', join(dir, 'spool'), '--checkpoint', join(dir, 'bad.json')], { input: '' });
  t.is(bad.exitCode, 78);
  t.regex(String(bad.stderr), /not a version 1 checkpoint file/);
});
