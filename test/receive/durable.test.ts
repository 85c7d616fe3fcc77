import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import test from 'ava';
import { EventTime } from '../../src/event/event-time.js';
import type { LogEvent } from '../../src/event/event.js';
import { encodeEntryStream, encodePackedForward } from '../../src/protocol/encode-request.js';
import { parseResponse } from '../../src/protocol/response.js';
import { tempDir } from '../helpers/logkit.js';
import { RawClient } from './raw-client.js';
import { startReceive } from '../helpers/receive.js';
import { waitFor } from '../helpers/wait.js';

const event = (i: number): LogEvent => ({ tag: 'app.durable', time: new EventTime(1700000000 + i, 0), record: { seq: i } });
const events = (from: number, count: number) => Array.from({ length: count }, (_, i) => event(from + i));

/** Sends one PackedForward chunk on a new connection and waits for its ack. */
async function sendChunk(port: number, id: string, batch: LogEvent[]): Promise<string> {
  const client = new RawClient(port);
  await client.ready;
  client.write(encodePackedForward('app.durable', encodeEntryStream(batch), { chunk: id, size: batch.length }));
  const [response] = await client.waitForResponses(1, 20_000);
  client.destroy();
  return response ? (parseResponse(response) as { ack: Buffer }).ack.toString() : 'no ack';
}

const chunkFiles = async (dir: string) => (await readdir(dir)).filter((n) => n.startsWith('chunk-'));
const seqs = (list: LogEvent[]) => list.map((e) => e.record.seq as number);
const offsets = (list: LogEvent[]) => list.map((e) => (e.options?.relay as { off: number }).off);
/** The identity receive gives an event of a chunk sent without identities: the chunk id (its raw MessagePack, base64) and the entry index. */
const chunkSrc = (id: string, index: number) => ({ id: `chunk:${Buffer.concat([Buffer.from([0xa0 | id.length]), Buffer.from(id)]).toString('base64')}`, off: index });

test('receive --buffer: a resent chunk is acked and dropped, also after a kill -9 and restart; events carry receive\'s relay offsets and a per-chunk identity', async (t) => {
  const dir = await tempDir(t);
  const buffer = join(dir, 'buf');
  const args = ['--buffer', buffer, '--checkpoint', join(dir, 'store.ckpt'), '--stats'];
  const first = await startReceive(t, args);
  t.is(await sendChunk(first.port, 'chunk-A', events(1, 3)), 'chunk-A');
  t.is(await sendChunk(first.port, 'chunk-A', events(1, 3)), 'chunk-A', 'the resend is acknowledged too');
  t.is(await sendChunk(first.port, 'chunk-B', events(4, 2)), 'chunk-B');
  // receive emits in the order chunks arrive: a resent A written again would come before B's events
  await first.waitForEvents(5);
  t.deepEqual(seqs(first.events), [1, 2, 3, 4, 5], 'the resent chunk was not written again');
  t.deepEqual(offsets(first.events), [1, 2, 3, 4, 5]);
  t.is((first.events[0]!.options?.relay as { id: string }).id, `receive:${resolve(buffer)}`);
  t.deepEqual(
    first.events.map((e) => e.options?.src),
    [chunkSrc('chunk-A', 0), chunkSrc('chunk-A', 1), chunkSrc('chunk-A', 2), chunkSrc('chunk-B', 0), chunkSrc('chunk-B', 1)],
    'events sent without identities get the chunk id and their index: the same for every resend',
  );
  first.child.kill('SIGKILL');
  await first.child;
  t.is((await chunkFiles(buffer)).length, 2, 'acked chunks stay on disk until the store checkpoint covers them');

  // restart: nothing committed by a store, so everything is replayed; the ids are remembered
  const second = await startReceive(t, args);
  await second.waitForEvents(5);
  t.is(await sendChunk(second.port, 'chunk-B', events(4, 2)), 'chunk-B');
  t.is(await sendChunk(second.port, 'chunk-C', events(6, 1)), 'chunk-C');
  await second.waitForEvents(6); // (a resent B written again would come before C)
  t.deepEqual(seqs(second.events), [1, 2, 3, 4, 5, 6], 'replayed, then only the new chunk');
  t.deepEqual(offsets(second.events), [1, 2, 3, 4, 5, 6], 'offsets keep increasing across the restart');
  t.is(await second.stop(), 0);
  t.regex(second.stderr(), /duplicate_chunks=1\b/);
  t.regex(second.stderr(), /replayed_chunks=2\b/);
});

test('receive --buffer replays from the store checkpoint and deletes the chunks it covers', async (t) => {
  const dir = await tempDir(t);
  const buffer = join(dir, 'buf');
  const checkpoint = join(dir, 'store.ckpt');
  const args = ['--buffer', buffer, '--checkpoint', checkpoint, '--stats'];
  const id = `receive:${resolve(buffer)}`;
  const first = await startReceive(t, args);
  for (let c = 0; c < 10; c++) t.is(await sendChunk(first.port, `c${c}`, events(c * 10 + 1, 10)), `c${c}`);
  await first.waitForEvents(100);
  first.child.kill('SIGKILL');
  await first.child;

  // the store committed up to offset 45: the restart emits 46..100 only
  await writeFile(checkpoint, JSON.stringify({ version: 1, sources: { [id]: { off: 45 } } }));
  const second = await startReceive(t, args);
  // replayed in order: events the checkpoint covers would come first
  const replayed = await second.waitForEvents(55);
  t.deepEqual(seqs(replayed), events(46, 55).map((e) => e.record.seq as number));
  t.true((await chunkFiles(buffer)).length <= 6, 'chunks wholly covered were deleted at start');

  // the store commits everything: receive deletes the rest
  await writeFile(checkpoint, JSON.stringify({ version: 1, sources: { [id]: { off: 100 } } }));
  await waitFor(async () => (await chunkFiles(buffer)).length === 0, 'the committed chunks deleted', 10_000).catch(() => {});
  t.deepEqual(await chunkFiles(buffer), []);
  // new events continue after 100; the duplicate memory outlived the deleted chunks
  t.is(await sendChunk(second.port, 'c9', events(91, 10)), 'c9');
  t.is(await sendChunk(second.port, 'new', events(101, 1)), 'new');
  await second.waitForEvents(56); // (a resent c9 written again would come before the new event)
  t.deepEqual(offsets(second.events.slice(55)), [101]);
  t.is(await second.stop(), 0);
  t.regex(second.stderr(), /duplicate_chunks=1\b/);
});

test('receive --buffer: a corrupt chunk is moved aside and the rest replays', async (t) => {
  const dir = await tempDir(t);
  const buffer = join(dir, 'buf');
  const args = ['--buffer', buffer, '--checkpoint', join(dir, 'store.ckpt')];
  const first = await startReceive(t, args);
  for (let c = 0; c < 3; c++) await sendChunk(first.port, `k${c}`, events(c * 10 + 1, 10));
  await first.waitForEvents(30);
  first.child.kill('SIGKILL');
  await first.child;
  const files = (await chunkFiles(buffer)).sort();
  t.is(files.length, 3);
  const middle = join(buffer, files[1]!);
  const bytes = await readFile(middle);
  bytes[bytes.length - 3] ^= 0xff;
  await writeFile(middle, bytes);

  const second = await startReceive(t, args);
  await second.waitForEvents(20); // (replayed in order: the corrupt chunk's events would come before k2's)
  t.deepEqual(seqs(second.events), [...events(1, 10), ...events(21, 10)].map((e) => e.record.seq as number));
  t.regex(second.stderr(), /unusable \(checksum mismatch\); moved it to .*corrupt/);
  t.is((await readdir(join(buffer, 'corrupt'))).length, 1);
  t.is(await second.stop(), 0);
});

test('receive --buffer needs --checkpoint and MessagePack output', async (t) => {
  const dir = await tempDir(t);
  const { logkit } = await import('../helpers/logkit.js');
  const a = await logkit(['receive', '--bind', '127.0.0.1:0', '--buffer', join(dir, 'b')]);
  t.is(a.exitCode, 64);
  t.regex(String(a.stderr), /--buffer and --checkpoint go together/);
  const b = await logkit(['receive', '--bind', '127.0.0.1:0', '--buffer', join(dir, 'b'), '--checkpoint', join(dir, 'c'), '-o', 'json']);
  t.is(b.exitCode, 64);
  t.regex(String(b.stderr), /MessagePack/);
});

test('receive --buffer: resends out of order (after a restart, interleaved with new chunks) are dropped, the new chunks kept, each event keeps its chunk identity', async (t) => {
  const dir = await tempDir(t);
  const buffer = join(dir, 'buf');
  const args = ['--buffer', buffer, '--checkpoint', join(dir, 'store.ckpt')];
  const first = await startReceive(t, args);
  for (const [id, from] of [['A', 1], ['B', 4], ['C', 7]] as const) t.is(await sendChunk(first.port, id, events(from, 3)), id);
  await first.waitForEvents(9);
  first.child.kill('SIGKILL');
  await first.child;

  const second = await startReceive(t, args);
  await second.waitForEvents(9); // the replay
  // C, then a new chunk D, then A and B: newest first, old ones after a new one
  t.is(await sendChunk(second.port, 'C', events(7, 3)), 'C');
  t.is(await sendChunk(second.port, 'D', events(10, 2)), 'D');
  t.is(await sendChunk(second.port, 'A', events(1, 3)), 'A');
  t.is(await sendChunk(second.port, 'B', events(4, 3)), 'B');
  await second.waitForEvents(11);
  t.is(await second.stop(), 0);
  t.deepEqual(seqs(second.events), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], 'each event once: the replay, then only D');
  t.deepEqual(second.events.slice(9).map((e) => e.options?.src), [chunkSrc('D', 0), chunkSrc('D', 1)]);
  t.deepEqual(second.events[3]!.options?.src, chunkSrc('B', 0), 'the replayed events keep their identity');
});
