import test from 'ava';
import { rendezvousScore } from '../../src/forward/balancer.js';
import { EventTime } from '../../src/event/event-time.js';
import type { LogEvent } from '../../src/event/event.js';
import { indexes, serverState, startForward } from './helpers.js';
import { type Receiver, startReceive } from '../helpers/receive.js';
import { waitFor } from '../helpers/wait.js';

// Real processes: logkit forward → several logkit receive, events from many sources (options.src
// as tail gives it). Each source must reach exactly one receiver while that one is up, so that a
// replay of its lines reaches the store that has seen them (docs/forward-peers.md, "Routing by source").

const FAST = ['--retry-max-interval', '0.5', '--heartbeat-interval', '0.2', '--chunk-bytes', '2000', '--flush-interval', '0.02'];

/** `perSource` lines of each of `sources` files, interleaved as a tail of many files emits them; record.i numbers them from `from`. */
function linesOf(sources: number, perSource: number, from: number, round = 0): LogEvent[] {
  const events: LogEvent[] = [];
  for (let k = 0; k < perSource; k++) {
    for (let s = 0; s < sources; s++) {
      const i = from + events.length;
      events.push({
        tag: 'app.routed',
        time: new EventTime(1_700_000_000 + i, 0),
        record: { i, s, msg: `line ${k} of file ${s}` },
        options: { src: { id: `2049:${100_000 + s}`, off: (round * perSource + k + 1) * 64 } },
      });
    }
  }
  return events;
}

/** Source number (record.s) → the receivers that got any of its events from `fromIndex` on. */
function placement(receivers: readonly Receiver[], fromIndex = 0): Map<number, Set<number>> {
  const where = new Map<number, Set<number>>();
  for (const receiver of receivers) {
    for (const event of receiver.events) {
      if (Number(event.record.i) < fromIndex) continue;
      const s = Number(event.record.s);
      if (!where.has(s)) where.set(s, new Set());
      where.get(s)!.add(receiver.port);
    }
  }
  return where;
}

async function sendAll(forward: ReturnType<typeof startForward>, events: readonly LogEvent[]): Promise<void> {
  for (let i = 0; i < events.length; i += 500) await forward.send(events.slice(i, i + 500));
}

test('events with identities: each source goes to exactly one receiver, and weights 1:3 hold over 200 sources', async (t) => {
  const a = await startReceive(t);
  const b = await startReceive(t);
  const forward = startForward(t, [`127.0.0.1:${a.port}@1`, `127.0.0.1:${b.port}@3`, ...FAST]);
  const sent = linesOf(200, 20, 0);
  await sendAll(forward, sent);
  const { exitCode } = await forward.end();
  t.is(exitCode, 0, forward.stderr());
  await waitFor(() => indexes([...a.events, ...b.events]).size === sent.length, 'every event');
  t.is(a.events.length + b.events.length, sent.length, 'no duplicates');
  const where = placement([a, b]);
  t.is(where.size, 200);
  const split = [...where].filter(([, ports]) => ports.size !== 1).map(([s]) => s);
  t.deepEqual(split, [], 'sources whose events went to both receivers');
  const atA = [...where.values()].filter((ports) => ports.has(a.port)).length;
  t.log(`sources at A (weight 1): ${atA}, at B (weight 3): ${200 - atA}`);
  // expected 50 (binomial, σ ≈ 6): a generous band
  t.true(atA >= 25 && atA <= 75, `A got ${atA} of 200 sources`);
  // and each source sits where its rendezvous order puts it: the order is the same for every forward
  const home = (s: number): number =>
    rendezvousScore(`2049:${100_000 + s}`, { label: `127.0.0.1:${a.port}`, weight: 1 }) >
    rendezvousScore(`2049:${100_000 + s}`, { label: `127.0.0.1:${b.port}`, weight: 3 })
      ? a.port
      : b.port;
  t.deepEqual([...where].filter(([s, ports]) => !ports.has(home(s))).map(([s]) => s), [], 'sources away from their rendezvous server');
});

test('a receiver killed: its sources move, each to the next server of its own order, and every other source stays', async (t) => {
  const receivers = [await startReceive(t), await startReceive(t), await startReceive(t)];
  const forward = startForward(t, [...receivers.map((r) => `127.0.0.1:${r.port}`), ...FAST, '--failover-delay', '1']);
  const sources = 60;
  const phase1 = linesOf(sources, 10, 0);
  await sendAll(forward, phase1);
  await waitFor(() => indexes(receivers.flatMap((r) => r.events)).size === phase1.length, 'phase 1 delivered');
  const before = placement(receivers);
  t.is(before.size, sources);
  t.true([...before.values()].every((ports) => ports.size === 1), 'one receiver per source');
  const homeOf = (s: number): number => [...before.get(s)!][0]!;
  const victim = receivers[0]!;
  const victimSources = [...before.keys()].filter((s) => homeOf(s) === victim.port);
  t.true(victimSources.length > 0 && victimSources.length < sources, `the victim had ${victimSources.length} sources`);

  await victim.stop('SIGKILL');
  await waitFor(async () => serverState(await forward.stats(), victim.port) !== 'up', 'forward to see the receiver down');
  const phase2 = linesOf(sources, 10, phase1.length, 1);
  await sendAll(forward, phase2);
  const survivors = receivers.slice(1);
  await waitFor(() => indexes(survivors.flatMap((r) => r.events).filter((e) => Number(e.record.i) >= phase1.length)).size === phase2.length, 'phase 2 delivered');
  const { exitCode } = await forward.end();
  t.is(exitCode, 0, forward.stderr());

  const after = placement(survivors, phase1.length);
  t.is(after.size, sources);
  t.true([...after.values()].every((ports) => ports.size === 1), 'still one receiver per source after the failover');
  const stayed = [...before.keys()].filter((s) => homeOf(s) !== victim.port);
  t.deepEqual(stayed.filter((s) => !after.get(s)!.has(homeOf(s))), [], 'sources of a live receiver that moved');
  // the victim's sources go to the server their own rendezvous order ranks next
  const next = (s: number): number =>
    survivors
      .map((r) => ({ port: r.port, score: rendezvousScore(`2049:${100_000 + s}`, { label: `127.0.0.1:${r.port}`, weight: 1 }) }))
      .sort((x, y) => y.score - x.score)[0]!.port;
  t.deepEqual(victimSources.filter((s) => !after.get(s)!.has(next(s))), [], 'moved sources not at their next server');
  t.log(`victim's ${victimSources.length} sources moved to ${new Set(victimSources.map(next)).size} receivers`);
});

test('events without identity are still balanced chunk by chunk over the servers', async (t) => {
  const a = await startReceive(t);
  const b = await startReceive(t);
  const forward = startForward(t, [`127.0.0.1:${a.port}`, `127.0.0.1:${b.port}`, '--chunk-bytes', '1']);
  const sent = linesOf(1, 1000, 0).map(({ options: _, ...event }) => event);
  await sendAll(forward, sent);
  const { exitCode } = await forward.end();
  t.is(exitCode, 0, forward.stderr());
  await waitFor(() => a.events.length + b.events.length >= 1000, 'every event');
  t.is(a.events.length, 500);
  t.is(b.events.length, 500);
});

test('a receiver restarted within --failover-delay keeps its sources: their chunks wait for it, the others flow on', async (t) => {
  const a = await startReceive(t);
  const b = await startReceive(t);
  const forward = startForward(t, [`127.0.0.1:${a.port}`, `127.0.0.1:${b.port}`, ...FAST, '--failover-delay', '60']);
  const sources = 40;
  const phase1 = linesOf(sources, 10, 0);
  await sendAll(forward, phase1);
  await waitFor(() => indexes([...a.events, ...b.events]).size === phase1.length, 'phase 1 delivered');
  const before = placement([a, b]);
  const atA = [...before].filter(([, ports]) => ports.has(a.port)).map(([s]) => s);
  t.true(atA.length > 0 && atA.length < sources, `A had ${atA.length} sources`);

  await a.stop('SIGKILL');
  await waitFor(async () => serverState(await forward.stats(), a.port) !== 'up', 'forward to see A down');
  const phase2 = linesOf(sources, 10, phase1.length, 1);
  await sendAll(forward, phase2);
  // B's sources flow on: once all of them arrived, forward has handled A's (interleaved with them) too
  const ofB = phase2.filter((e) => !atA.includes(Number(e.record.s)));
  await waitFor(() => indexes(b.events.filter((e) => Number(e.record.i) >= phase1.length)).size === ofB.length, "B's sources of phase 2");
  t.deepEqual([...placement([b], phase1.length).keys()].filter((s) => atA.includes(s)), [], "A's sources did not move to B");

  const again = await startReceive(t, [], { port: a.port });
  await waitFor(() => indexes(again.events).size === phase2.length - ofB.length, "A's sources of phase 2 at the restarted A");
  const { exitCode } = await forward.end();
  t.is(exitCode, 0, forward.stderr());
  t.deepEqual([...placement([again]).keys()].sort((x, y) => x - y), [...atA].sort((x, y) => x - y), 'the restarted A got exactly its own sources');
  t.is(a.events.length + b.events.length + again.events.length, phase1.length + phase2.length, 'no duplicates');
});
