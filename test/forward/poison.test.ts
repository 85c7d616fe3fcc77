import test from 'ava';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MessageStreamDecoder } from '../../src/codec/msgpack-reader.js';
import type { LogEvent } from '../../src/event/event.js';
import { logkit, tempDir } from '../helpers/logkit.js';
import { encode, indexes, numberedEvents } from './helpers.js';
import { startReceive } from '../helpers/receive.js';
import { waitFor } from '../helpers/wait.js';

// One event the server refuses (nested deeper than receive --max-depth allows) among many: it must
// not block the others, and it must be kept, reported and replayable, never dropped in silence.

const DEPTH_LIMIT = '16';
const POISON_AT = 500;

function nested(depth: number): Record<string, unknown> {
  let value: Record<string, unknown> = { bottom: true };
  for (let i = 0; i < depth; i++) value = { down: value };
  return value;
}

function eventsWithPoison(): LogEvent[] {
  const events = numberedEvents(0, 1000);
  events[POISON_AT]!.record.deep = nested(30);
  return events;
}

function decode(bytes: Buffer): LogEvent[] {
  return new MessageStreamDecoder().push(bytes);
}

test('one poison event among 1,000: the rest all delivered, the poison one in --dead-letter, counted; the file replays', async (t) => {
  const dir = await tempDir(t);
  const deadLetter = join(dir, 'refused.msgpack');
  const receiver = await startReceive(t, ['--max-depth', DEPTH_LIMIT]);
  const result = await logkit(
    ['forward', `127.0.0.1:${receiver.port}`, '--dead-letter', deadLetter, '--chunk-bytes', '2000', '--retry-max-interval', '0.1', '--drain-timeout', '60', '--stats'],
    { input: encode(eventsWithPoison()) },
  );
  const stderr = String(result.stderr);
  t.is(result.exitCode, 0, stderr);
  await waitFor(() => indexes(receiver.events).size === 999, 'the 999 good events');
  const delivered = indexes(receiver.events);
  t.false(delivered.has(POISON_AT));
  t.log(`duplicates at the receiver (resends of chunks it took but did not acknowledge): ${receiver.events.length - 999}`);

  const kept = decode(await readFile(deadLetter));
  t.is(kept.length, 1);
  t.is(kept[0]!.tag, 'app.phase');
  t.is(kept[0]!.record.i, POISON_AT);
  t.deepEqual(kept[0]!.record.deep, nested(30));
  t.regex(stderr, new RegExp(`refused an event \\(tag app\\.phase\\) 2 times as bad data .*; kept in ${deadLetter.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  t.regex(stderr, /stats \(exit\) events=1000 .* acked_events=999 .* rejected_events=1 pending_chunks=0 pending_events=0 /);

  // replay, once the server accepts it (here: a receive with the default depth limit)
  const lenient = await startReceive(t);
  const replay = await logkit(['forward', `127.0.0.1:${lenient.port}`], { input: await readFile(deadLetter) });
  t.is(replay.exitCode, 0, String(replay.stderr));
  await waitFor(() => lenient.events.length === 1, 'the replayed event');
  t.deepEqual(lenient.events[0]!.record.deep, nested(30));
});

test('without --dead-letter the poison event is held and reported, the rest still delivered; exit 69 naming it', async (t) => {
  const receiver = await startReceive(t, ['--max-depth', DEPTH_LIMIT]);
  const result = await logkit(['forward', `127.0.0.1:${receiver.port}`, '--chunk-bytes', '2000', '--retry-max-interval', '0.1', '--drain-timeout', '60', '--stats'], {
    input: encode(eventsWithPoison()),
  });
  const stderr = String(result.stderr);
  t.is(result.exitCode, 69, stderr);
  t.regex(stderr, /1 events in 1 chunks could not be delivered, of which 1 refused by the server as bad data \(give --dead-letter FILE to keep such events\)/);
  t.regex(stderr, /not sent again and not delivered \(1 events so far\): give --dead-letter FILE/);
  t.regex(stderr, /rejected_events=1 /);
  await waitFor(() => indexes(receiver.events).size === 999, 'the 999 good events');
  t.false(indexes(receiver.events).has(POISON_AT));
});

test('with --buffer: the dead-lettered event is released from the disk buffer like a delivered one; nothing is kept for the next start', async (t) => {
  const dir = await tempDir(t);
  const deadLetter = join(dir, 'refused.msgpack');
  const receiver = await startReceive(t, ['--max-depth', DEPTH_LIMIT]);
  const result = await logkit(
    ['forward', `127.0.0.1:${receiver.port}`, '--buffer', join(dir, 'buffer'), '--dead-letter', deadLetter, '--chunk-bytes', '2000', '--retry-max-interval', '0.1', '--drain-timeout', '60'],
    { input: encode(eventsWithPoison()) },
  );
  // exit 75 would mean events kept in the buffer for the next start
  t.is(result.exitCode, 0, String(result.stderr));
  await waitFor(() => indexes(receiver.events).size === 999, 'the 999 good events');
  const kept = decode(await readFile(deadLetter));
  t.deepEqual(kept.map((e) => e.record.i), [POISON_AT]);
});

test('the halves of a cut chunk carry their events\' identities (options.src) as the chunk did, and the dead-letter file keeps the refused event\'s', async (t) => {
  const dir = await tempDir(t);
  const deadLetter = join(dir, 'refused.msgpack');
  const receiver = await startReceive(t, ['--max-depth', DEPTH_LIMIT]);
  // lines of one file as tail reads them: each event's identity is its position there
  const identityOf = (i: number) => ({ id: 'dev:ino:poison', off: 100 + i * 40 });
  const events = eventsWithPoison().map((event, i) => ({ ...event, options: { src: identityOf(i) } }));
  const result = await logkit(
    ['forward', `127.0.0.1:${receiver.port}`, '--dead-letter', deadLetter, '--chunk-bytes', '2000', '--retry-max-interval', '0.1', '--drain-timeout', '60'],
    { input: encode(events) },
  );
  t.is(result.exitCode, 0, String(result.stderr));
  t.regex(String(result.stderr), /sending it in halves/);
  await waitFor(() => indexes(receiver.events).size === 999, 'the 999 good events');
  const wrong = receiver.events.filter((event) => JSON.stringify(event.options?.src) !== JSON.stringify(identityOf(Number(event.record.i))));
  t.deepEqual(wrong.map((event) => ({ i: event.record.i, src: event.options?.src })).slice(0, 5), [], `${wrong.length} events arrived with another identity than their own`);
  const kept = decode(await readFile(deadLetter));
  t.deepEqual(kept.map((event) => event.options?.src), [identityOf(POISON_AT)]);
});
