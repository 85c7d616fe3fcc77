import { spawn, type ChildProcess } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import { LOGKIT_BIN, tempDir } from '../helpers/logkit.js';
import { freePort, numberedEvents, sleep, startForward, waitFor } from '../forward/helpers.js';

/** `logkit receive --buffer B --checkpoint C | logkit store file OUT --checkpoint C`, the two joined by an OS pipe. */
function startAggregator(port: number, dir: string): { receive: ChildProcess; store: ChildProcess; stderr: () => string; done: Promise<void> } {
  let stderr = '';
  const checkpoint = join(dir, 'store.ckpt');
  const store = spawn(process.execPath, [LOGKIT_BIN, 'store', 'file', join(dir, 'out', '${tag}.ndjson'), '--checkpoint', checkpoint, '--flush-interval', '100ms'], { stdio: ['pipe', 'ignore', 'pipe'] });
  const receive = spawn(process.execPath, [LOGKIT_BIN, 'receive', '--bind', `127.0.0.1:${port}`, '--buffer', join(dir, 'rbuf'), '--checkpoint', checkpoint, '--stats'], { stdio: ['ignore', store.stdin!, 'pipe'] });
  // the parent's copy of the pipe must go, or receive would not see the store's death (EPIPE)
  store.stdin!.destroy();
  for (const child of [receive, store]) child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = (child: ChildProcess) => new Promise<void>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));
  return { receive, store, stderr: () => stderr, done: Promise.all([exited(receive), exited(store)]).then(() => {}) };
}

async function storedSeqs(dir: string): Promise<number[]> {
  const out = join(dir, 'out');
  const seqs: number[] = [];
  for (const name of (await readdir(out).catch(() => [] as string[])).filter((n) => n.endsWith('.ndjson'))) {
    for (const line of (await readFile(join(out, name), 'utf8')).split('\n')) {
      const m = /"record":\{"i":(\d+)/.exec(line) ?? /"i":(\d+)/.exec(line);
      if (m) seqs.push(Number(m[1]));
    }
  }
  return seqs;
}

test('kill -9 of receive --buffer mid-stream: forward --buffer resends, the restarted aggregator stores every event', async (t) => {
  const dir = await tempDir(t);
  const port = await freePort();
  const aggregators: ReturnType<typeof startAggregator>[] = [];
  t.teardown(() => aggregators.forEach((a) => [a.receive, a.store].forEach((c) => c.kill('SIGKILL'))));
  const start = async () => {
    const a = startAggregator(port, dir);
    aggregators.push(a);
    await waitFor(() => a.stderr().includes('listening on'), 'receive listening', 20_000);
    return a;
  };
  let aggregator = await start();
  const forward = startForward(t, [`127.0.0.1:${port}`, '--buffer', join(dir, 'fbuf'), '--flush-interval', '50']);
  const total = 30_000;
  for (let round = 0; round < 3; round++) {
    for (let k = 0; k < 5; k++) await forward.send(numberedEvents(round * 10_000 + k * 2000, 2000, 'app.kill'));
    // kill receive while events are flowing
    await waitFor(async () => (await storedSeqs(dir)).length > round * 10_000 + 1000, 'events stored before the kill', 30_000);
    if (round < 2) {
      aggregator.receive.kill('SIGKILL');
      await aggregator.done; // the store sees end of input, commits, exits
      await sleep(200);
      aggregator = await start();
    }
  }
  const forwarded = await forward.end();
  t.is(forwarded.exitCode, 0, forward.stderr());
  await waitFor(async () => new Set(await storedSeqs(dir)).size >= total, 'every event stored', 60_000).catch(() => {});
  aggregator.receive.kill('SIGTERM');
  await aggregator.done;
  const seqs = await storedSeqs(dir);
  const distinct = new Set(seqs);
  const missing = [];
  for (let i = 0; i < total; i++) if (!distinct.has(i)) missing.push(i);
  t.deepEqual(missing.slice(0, 10), [], `${missing.length} missing`);
  t.log(`stored ${seqs.length} lines, ${distinct.size} distinct, duplicates ${seqs.length - distinct.size}`);
  t.true(seqs.length - distinct.size < 10_000, 'duplicates are bounded');
});
