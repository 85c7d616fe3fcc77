import { join } from 'node:path';
import test from 'ava';
import { tempDir } from '../helpers/logkit.js';
import { numberedEvents, startForward } from '../forward/helpers.js';
import { aggregatorStarter, storedSeqs } from './helpers.js';
import { FORMS } from '../run/chain-helpers.js';
import { freePort } from '../helpers/net.js';
import { waitFor } from '../helpers/wait.js';

// piped: receive killed -9 (the store sees the end of its input); run: the one process killed -9
for (const form of FORMS) test(`${form}: kill -9 of receive --buffer mid-stream: forward --buffer resends, the restarted aggregator stores every event`, async (t) => {
  const dir = await tempDir(t);
  const port = await freePort();
  const start = aggregatorStarter(t, port, dir, form);
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
  // piped, the store outlives receive's kill and commits all it got; in one process a kill -9
  // takes the store too, and each of the 2 kills repeats at most what it had written and not yet
  // committed: one batch (--batch-events 10,000) and what was on its way from receive
  const bound = form === 'piped' ? 10_000 : 2 * 10_000 + 10_000;
  t.true(seqs.length - distinct.size < bound, `duplicates are bounded: ${seqs.length - distinct.size}`);
});
