import test from 'ava';
import { gunzipSync } from 'node:zlib';
import { RendezvousRouter, WeightedRoundRobin } from '../../src/forward/balancer.js';
import { ChunkBatcher } from '../../src/forward/chunk-batcher.js';
import { buildChunk, newChunkId, type ChunkCarrier } from '../../src/forward/chunk.js';
import { bisectChunk } from '../../src/forward/chunk-split.js';
import { chunkIdOf } from '../../src/forward/input-run-sender.js';
import { encodeIdentities, readIdentities } from '../../src/protocol/identity-option.js';
import { encodeEntryStream } from '../../src/protocol/encode-request.js';
import { createInnerUnpackr, parseRequest } from '../../src/protocol/request.js';
import { ChunkLedger, type ChunkStore } from '../../src/forward/chunk-ledger.js';
import { parseServerAddress } from '../../src/forward/server-address.js';
import { createUnpackr } from '../../src/codec/msgpack-reader.js';
import { EventTime } from '../../src/event/event-time.js';
import type { LogEvent } from '../../src/event/event.js';

const event = (tag: string, i: number): LogEvent => ({ tag, time: new EventTime(1_700_000_000 + i, i), record: { i, msg: `event ${i}` } });

test('server addresses: host, port, weight, IPv6, defaults and errors', (t) => {
  t.like(parseServerAddress('agg1:24225@3'), { host: 'agg1', port: 24225, weight: 3, standby: false, label: 'agg1:24225' });
  t.like(parseServerAddress('agg1'), { host: 'agg1', port: 24224, weight: 1 });
  t.like(parseServerAddress('[::1]:9@2', true), { host: '::1', port: 9, weight: 2, standby: true, label: '[::1]:9' });
  t.throws(() => parseServerAddress('agg:0'), { message: /bad port/ });
  t.throws(() => parseServerAddress('agg:1@0'), { message: /bad weight/ });
  t.throws(() => parseServerAddress('a:b:c'), { message: /bad server address/ });
});

test('weighted round-robin gives exact shares, spread out, and skips the server to avoid', (t) => {
  const a = { weight: 1, name: 'a' };
  const b = { weight: 3, name: 'b' };
  const rr = new WeightedRoundRobin<typeof a>();
  const picks = Array.from({ length: 8 }, () => rr.pick([a, b])!.name).join('');
  t.is(picks, 'babbbabb');
  const counts = { a: 0, b: 0 };
  for (let i = 0; i < 4000; i++) counts[rr.pick([a, b])!.name as 'a' | 'b']++;
  t.deepEqual(counts, { a: 1000, b: 3000 });
  t.is(rr.pick([a, b], b), a);
  t.is(rr.pick([b], b), b, 'the only candidate is used even if it should be avoided');
  t.is(rr.pick([]), undefined);
});

test('the batcher groups by tag, seals at the size bound and packs [time, record] entries', (t) => {
  const batcher = new ChunkBatcher(200);
  const sealed = batcher.add([event('a', 1), event('b', 2), event('a', 3), ...Array.from({ length: 20 }, (_, i) => event('a', 10 + i))]);
  t.true(sealed.length >= 1);
  t.true(sealed.every((s) => s.tag === 'a'));
  for (const s of sealed) t.true(s.entries.length >= 200 && s.entries.length < 200 + 40);
  const rest = batcher.flush();
  t.true(batcher.isEmpty);
  t.is(batcher.bufferedBytes, 0);
  const all = [...sealed, ...rest];
  t.is(all.reduce((n, s) => n + s.events, 0), 23);
  const unpackr = createUnpackr();
  const entries = all.filter((s) => s.tag === 'b').flatMap((s) => unpackr.unpackMultiple(s.entries) as unknown[]);
  t.deepEqual(entries, [[new EventTime(1_700_000_002, 2), { i: 2, msg: 'event 2' }]]);
});

test('the batcher keeps one route per batch: events of two files interleaved make two batches, events without identity a third; sources of one route share one', (t) => {
  const batcher = new ChunkBatcher(1 << 20);
  const withSource = (i: number, id: string): LogEvent => ({ ...event('a', i), options: { src: { id, off: i * 10 } } });
  batcher.add([withSource(1, 'f1'), withSource(2, 'f2'), event('a', 3), withSource(4, 'f1'), event('b', 5), withSource(6, 'f2')]);
  const sealed = batcher.flush();
  const unpackr = createUnpackr();
  const summary = sealed.map((s) => `${s.tag}/${s.source ?? '-'}:${(unpackr.unpackMultiple(s.entries) as Array<[unknown, { i: number }]>).map((e) => e[1].i).join(',')}`);
  t.deepEqual(summary.sort(), ['a/-:3', 'a/f1:1,4', 'a/f2:2,6', 'b/-:5']);
  t.is(sealed.find((s) => s.source === 'f1')!.events, 2);
  t.is(sealed.find((s) => s.source === undefined && s.tag === 'a')!.identities, undefined);
  // with a route per source (forward's: the servers' order), sources of one route share a batch
  const routed = new ChunkBatcher(1 << 20, (source) => (source === 'f3' ? 'other' : 'same'));
  routed.add([withSource(1, 'f1'), withSource(2, 'f3'), withSource(3, 'f2'), withSource(4, 'f1')]);
  const byRoute = routed.flush().map((s) => `${s.source}:${(unpackr.unpackMultiple(s.entries) as Array<[unknown, { i: number }]>).map((e) => e[1].i).join(',')}`);
  t.deepEqual(byRoute.sort(), ['f1:1,3,4', 'f3:2']);
});

// forward --buffer names a replayed run's chunks by their index in it (input-run-sender.ts), so a
// receiver that saw a chunk drops its replay. The order of a flush's batches was the order in
// which the batcher had first seen their tag and route, ever: a busy batch kept its place across
// flushes. A run replayed by a restarted forward (a fresh batcher) was then cut in another order:
// chunk 0 held the other file's events, the receiver dropped them as seen, and they were lost
// (chaos into PostgreSQL with failover: 557 and 629 lines at the head of a rotated file).
test('the order of the batches of a flush depends only on what was added since the last flush, as in a fresh batcher', (t) => {
  const withSource = (i: number, id: string): LogEvent => ({ ...event('a', i), options: { src: { id, off: i * 10 } } });
  const routeOf = (source: string) => (source === 'new' ? 'route-1' : 'route-2');
  const run = [withSource(1, 'old'), withSource(2, 'old'), withSource(3, 'new'), withSource(4, 'new')]; // a rotation: the old file's end, the new one's head
  const order = (sealed: readonly { source?: string; events: number }[]) => sealed.map((s) => `${s.source}:${s.events}`);
  const fresh = new ChunkBatcher(1 << 20, routeOf);
  fresh.add(run);
  const expected = order(fresh.flush());
  t.deepEqual(expected, ['old:2', 'new:2']);
  // the same run after a flush of the new file's events only (its batch busy, so kept)
  const used = new ChunkBatcher(1 << 20, routeOf);
  used.add([withSource(0, 'new')]);
  used.flush();
  used.add(run);
  t.deepEqual(order(used.flush()), expected);
});

test('rendezvous routing: shares follow the weights over many sources, an order is stable, and removing a server moves only its sources', (t) => {
  const servers = [
    { label: 'a:1', weight: 1 },
    { label: 'b:1', weight: 3 },
    { label: 'c:1', weight: 4 },
  ];
  const router = new RendezvousRouter(servers);
  const sources = Array.from({ length: 8000 }, (_, i) => `dev:${i}`);
  const home = new Map(sources.map((s) => [s, router.pick(s, () => true)!]));
  const share = (server: (typeof servers)[number]): number => [...home.values()].filter((h) => h === server).length / sources.length;
  t.true(Math.abs(share(servers[0]!) - 1 / 8) < 0.02, `a: ${share(servers[0]!)}`);
  t.true(Math.abs(share(servers[1]!) - 3 / 8) < 0.03, `b: ${share(servers[1]!)}`);
  t.true(Math.abs(share(servers[2]!) - 4 / 8) < 0.03, `c: ${share(servers[2]!)}`);
  t.deepEqual(new RendezvousRouter(servers).order('dev:7'), router.order('dev:7'), 'the same order from a fresh router');
  const withoutB = (s: string) => router.pick(s, (server) => server !== servers[1]);
  const stayed = sources.filter((s) => home.get(s) !== servers[1]);
  const moved = sources.filter((s) => home.get(s) === servers[1]);
  t.deepEqual(stayed.filter((s) => withoutB(s) !== home.get(s)), [], 'sources of the other servers stay');
  t.deepEqual(moved.filter((s) => withoutB(s) !== router.order(s)[1]), [], 'b\'s sources go to the next server of their own order');
  t.is(router.pick('dev:1', () => false), undefined);
});

test('a chunk is [tag, bin(entries), {size, chunk, compressed}] and ids are 16 random bytes in base64', async (t) => {
  const entries = Buffer.from('92d7000000000100000002800', 'hex');
  const chunk = await buildChunk('app.web', entries, 1, { ack: true, compress: 'none' });
  const [tag, payload, options] = createUnpackr().unpack(chunk.frame) as [string, Buffer, Record<string, unknown>];
  t.is(tag, 'app.web');
  t.deepEqual(Buffer.from(payload), entries);
  t.deepEqual(options, { size: 1, chunk: chunk.id });
  t.is(Buffer.from(chunk.id, 'base64').length, 16);
  t.is(chunk.frame[0], 0x93);
  t.is(chunk.frame[1 + 8], 0xc4, 'entries are a bin, not a str');
  const zipped = await buildChunk('x', entries, 1, { ack: false, compress: 'gzip' });
  const [, zpayload, zoptions] = createUnpackr().unpack(zipped.frame) as [string, Buffer, Record<string, unknown>];
  t.deepEqual(gunzipSync(zpayload), entries);
  t.deepEqual(zoptions, { size: 1, compressed: 'gzip' });
  const ids = new Set(Array.from({ length: 1000 }, newChunkId));
  t.is(ids.size, 1000);
});

test('the ledger: created → sent → acked, requeue to the front, timeouts, store hooks', async (t) => {
  const calls: string[] = [];
  const store: ChunkStore = {
    persist: async (c) => void calls.push(`persist ${c.tag}`),
    release: async (c) => void calls.push(`release ${c.tag}`),
    replace: (c, parts) => void calls.push(`replace ${c.tag} by ${parts.length}`),
  };
  const ledger = new ChunkLedger(store);
  const one = await buildChunk('one', Buffer.from([0x90]), 1, { ack: true, compress: 'none' });
  const two = await buildChunk('two', Buffer.from([0x90]), 2, { ack: true, compress: 'none' });
  await ledger.add(one);
  await ledger.add(two);
  t.is(ledger.heldChunks, 2);
  t.is(ledger.pendingEvents, 3);
  const server: ChunkCarrier = { label: 's1' };
  t.is(ledger.next(), one);
  ledger.markSent(one, server, 1000);
  t.is(one.state, 'sent');
  t.deepEqual(ledger.expired(1500, 1000), []);
  t.deepEqual(ledger.expired(2000, 1000), [one]);
  ledger.requeue(one);
  t.is(one.lastFailedOn, server);
  t.is(ledger.next(), one, 'a requeued chunk goes before newer ones');
  ledger.markSent(one, server, 3000);
  t.is(ledger.totals.resent, 1);
  t.is(ledger.ack(one.id), one);
  t.is(ledger.ack(one.id), undefined, 'a repeated ack is ignored');
  t.is(one.state, 'acked');
  t.is(ledger.next(), two);
  t.is(ledger.next(), undefined);
  t.is(ledger.heldBytes, two.bytes);
  t.deepEqual(calls, ['persist one', 'persist two', 'release one']);
});

test('the raw entry scanner copies [time, record] bytes exactly, across any split of the input', async (t) => {
  const { RawEntryScanner } = await import('../../src/forward/raw-entry-scanner.js');
  const { encodeEntries } = await import('../../src/codec/msgpack-writer.js');
  const events = Array.from({ length: 50 }, (_, i) => ({ ...event(i % 3 === 0 ? 'x' : 'y', i), options: { src: { id: 'f', off: i } } }));
  const input = encodeEntries(events);
  for (const step of [1, 3, 7, 64, input.length]) {
    const scanner = new RawEntryScanner();
    const batcher = new ChunkBatcher(1 << 20);
    for (let i = 0; i < input.length; i += step) scanner.push(input.subarray(i, i + step), batcher);
    scanner.end();
    t.is(scanner.entries, 50);
    const unpackr = createUnpackr();
    const got = batcher.flush().flatMap((s) => (unpackr.unpackMultiple(s.entries) as unknown[]).map((e) => [s.tag, e]));
    const expected = ['x', 'y'].flatMap((tag) => events.filter((e) => e.tag === tag).map((e) => [tag, [e.time, e.record]]));
    t.deepEqual(got, expected, `split every ${step} bytes`);
  }
});

test('bisectChunk: each half carries the identities of its own events, cut in the middle of a run, with or without gzip', async (t) => {
  const identities = Array.from({ length: 9 }, (_, i) => (i === 6 ? undefined : { id: i < 3 ? 'file-a' : 'file-b', off: 100 + i * 10 }));
  const unpackr = createInnerUnpackr();
  const carried = (frame: Buffer) => {
    const request = parseRequest(frame, unpackr)!;
    return request.identities && readIdentities(unpackr.unpack(request.identities));
  };
  for (const compress of ['none', 'gzip'] as const) {
    const events = identities.map((_, i) => event('t', i));
    const options = { ack: true, compress };
    const parent = await buildChunk('t', encodeEntryStream(events), events.length, options, newChunkId(), encodeIdentities(identities));
    const halves = await bisectChunk(parent, options);
    t.deepEqual(halves.map((half) => half.events), [5, 4]);
    t.deepEqual(carried(halves[0].frame), identities.slice(0, 5), compress);
    t.deepEqual(carried(halves[1].frame), identities.slice(5), compress);
    t.is(carried(halves[1].frameFor(false)), undefined, 'a half still goes without them to a server that keeps none');
  }
  const bare = await buildChunk('t', encodeEntryStream([event('t', 1), event('t', 2)]), 2, { ack: true, compress: 'none' });
  t.true((await bisectChunk(bare, { ack: true, compress: 'none' })).every((half) => carried(half.frame) === undefined), 'no identities, none invented');
});

test('forward --buffer chunk ids: a replay cut the same way gets the same ids; cut another way (another --chunk-bytes) no id names other events', (t) => {
  const withSource = (i: number): LogEvent => ({ ...event('a', i), options: { src: { id: 'f1', off: i * 10 } } });
  const events = Array.from({ length: 40 }, (_, i) => withSource(i));
  const cut = (chunkBytes: number) => {
    const batcher = new ChunkBatcher(chunkBytes);
    const batches = [...batcher.add(events), ...batcher.flush()];
    return batches.map((batch, index) => ({ id: chunkIdOf('run-7', index, batch), events: batch.events, entries: batch.entries.toString('base64') }));
  };
  const small = cut(300);
  const large = cut(1 << 20);
  t.true(small.length > 2);
  t.is(large.length, 1);
  t.deepEqual(cut(300), small, 'the same cut, the same ids');
  // what each id names must be one content: an id the receiver saw for the small cut's first chunk
  // must not come back naming the large cut's chunk (it would drop its other events as a resend)
  const contentOf = new Map(small.map((c) => [c.id, c.entries]));
  for (const c of large) t.true(!contentOf.has(c.id) || contentOf.get(c.id) === c.entries, 'an id reused for other events');
});
