import test from 'ava';
import { indexes, numberedEvents, serverState, startForward, type ForwardProcess } from './helpers.js';
import { startReceive } from '../helpers/receive.js';
import { sleep, waitFor } from '../helpers/wait.js';

// Real processes: logkit forward → two or three logkit receive, receivers killed with SIGKILL
// and restarted mid-stream.

const FAST_RECOVERY = ['--retry-max-interval', '0.5', '--heartbeat-interval', '0.2', '--chunk-bytes', '400', '--flush-interval', '0.02'];

/** Sends `count` events from `from` in small batches, spread over time so they make many chunks. */
async function sendSpread(forward: ForwardProcess, from: number, count: number, batch = 50): Promise<void> {
  for (let i = 0; i < count; i += batch) {
    await forward.send(numberedEvents(from + i, Math.min(batch, count - i)));
    await sleep(5); // the producer's pace, not a synchronization
  }
}

async function waitUntilState(forward: ForwardProcess, port: number, state: string): Promise<void> {
  await waitFor(async () => serverState(await forward.stats(), port) === state, `server ${port} ${state}`);
}

test('a receiver killed with SIGKILL mid-stream: nothing lost, traffic moves over and returns after a restart', async (t) => {
  const a = await startReceive(t);
  const b = await startReceive(t);
  const forward = startForward(t, [`127.0.0.1:${a.port}`, `127.0.0.1:${b.port}`, ...FAST_RECOVERY]);

  await sendSpread(forward, 0, 2000);
  await waitFor(() => a.events.length > 0 && b.events.length > 0, 'both receivers to get traffic');
  // Kill A while chunks are in flight to it: those without an ack must be resent to B.
  await sendSpread(forward, 2000, 500);
  await a.stop('SIGKILL');
  await sendSpread(forward, 2500, 1500);
  const killedA = a.events.length;
  await waitFor(() => indexes([...a.events, ...b.events]).size === 4000, 'all of phases 1 and 2 delivered');
  t.is(a.events.length, killedA, 'A was dead');

  // Restart A on the same port: the heartbeat finds it, forward reconnects, traffic returns.
  const a2 = await startReceive(t, [], { port: a.port });
  await waitUntilState(forward, a.port, 'up');
  await sendSpread(forward, 4000, 2000);
  const { exitCode } = await forward.end();
  t.is(exitCode, 0, forward.stderr());

  const all = [...a.events, ...b.events, ...a2.events];
  const seen = indexes(all);
  t.is(seen.size, 6000, 'every event delivered at least once');
  t.log(`A before kill: ${killedA}, B: ${b.events.length}, A after restart: ${a2.events.length}, duplicates: ${all.length - 6000}`);
  t.true(a2.events.length > 500, 'traffic returned to the restarted receiver');
  t.true(a2.events.every((e) => Number(e.record.i) >= 4000), 'the restarted receiver only got events sent after it came back');
  t.regex(forward.stderr(), new RegExp(`127\\.0\\.0\\.1:${a.port} down`));
  t.regex(forward.stderr(), new RegExp(`127\\.0\\.0\\.1:${a.port} is up again`));
  // Duplicates are possible (A may have written events whose ack never left), but bounded by what was in flight.
  t.true(all.length - 6000 < 1000);
});

test('weights 1:3 hold within 10% over 10,000 chunks', async (t) => {
  const a = await startReceive(t);
  const b = await startReceive(t);
  const forward = startForward(t, [`127.0.0.1:${a.port}@1`, `127.0.0.1:${b.port}@3`, '--chunk-bytes', '1', '--stats']);
  // --chunk-bytes 1: every event is a chunk of its own.
  for (let i = 0; i < 10_000; i += 1000) await forward.send(numberedEvents(i, 1000));
  const { exitCode } = await forward.end();
  t.is(exitCode, 0, forward.stderr());
  await waitFor(() => a.events.length + b.events.length >= 10_000, 'all chunks delivered');
  t.regex(forward.stderr(), /chunks=10000 acked_chunks=10000/);
  t.log(`A (weight 1): ${a.events.length}, B (weight 3): ${b.events.length}`);
  t.true(Math.abs(a.events.length - 2500) <= 250, `A got ${a.events.length}`);
  t.true(Math.abs(b.events.length - 7500) <= 750, `B got ${b.events.length}`);
  t.is(indexes([...a.events, ...b.events]).size, 10_000);
});

test('a standby gets traffic only while every primary is down', async (t) => {
  const p1 = await startReceive(t);
  const p2 = await startReceive(t);
  const standby = await startReceive(t);
  const forward = startForward(t, [`127.0.0.1:${p1.port}`, `127.0.0.1:${p2.port}`, '--standby', `127.0.0.1:${standby.port}`, ...FAST_RECOVERY]);

  await sendSpread(forward, 0, 1000);
  await waitFor(() => p1.events.length + p2.events.length >= 1000, 'phase 1 at the primaries');
  t.is(standby.events.length, 0, 'no traffic to the standby while primaries are up');

  await p1.stop('SIGKILL');
  await sendSpread(forward, 1000, 500);
  await waitFor(() => indexes([...p1.events, ...p2.events]).size >= 1500, 'phase 2 at the remaining primary');
  t.is(standby.events.length, 0, 'one primary down: still no traffic to the standby');

  await p2.stop('SIGKILL');
  await sendSpread(forward, 1500, 1000);
  await waitFor(() => indexes([...p1.events, ...p2.events, ...standby.events]).size >= 2500, 'phase 3 at the standby');
  t.true(standby.events.length > 0, 'the standby took over');

  const p1again = await startReceive(t, [], { port: p1.port });
  await waitUntilState(forward, p1.port, 'up');
  const standbyBefore = standby.events.length;
  await sendSpread(forward, 2500, 1000);
  const { exitCode } = await forward.end();
  t.is(exitCode, 0, forward.stderr());
  t.is(standby.events.length, standbyBefore, 'a primary is back: the standby gets nothing more');
  t.is(indexes(p1again.events).size, 1000, 'the returned primary took all of phase 4');
  t.is(indexes([...p1.events, ...p2.events, ...standby.events, ...p1again.events]).size, 3500, 'nothing lost');
});
