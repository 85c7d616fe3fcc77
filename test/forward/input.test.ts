import test from 'ava';
import { MsgpackWriter } from '../../src/codec/msgpack-writer.js';
import { EventTime } from '../../src/event/event-time.js';
import { logkit } from '../helpers/logkit.js';
import { encode, indexes, numberedEvents } from './helpers.js';
import { startReceive } from '../helpers/receive.js';
import { waitFor } from '../helpers/wait.js';

test('NDJSON and raw text input go through the decoding path', async (t) => {
  const receiver = await startReceive(t);
  const ndjson = Array.from({ length: 200 }, (_, i) => JSON.stringify({ time: '2026-11-21T19:43:40.123456789Z', tag: 'json.in', record: { i } })).join('\n');
  const json = await logkit(['forward', `127.0.0.1:${receiver.port}`], { input: ndjson + '\n' });
  t.is(json.exitCode, 0, String(json.stderr));
  const text = await logkit(['forward', `127.0.0.1:${receiver.port}`], { input: 'plain line one\nplain line two\n' });
  t.is(text.exitCode, 0, String(text.stderr));
  await waitFor(() => receiver.events.length >= 202, 'all events');
  const fromJson = receiver.events.filter((e) => e.tag === 'json.in');
  t.is(indexes(fromJson).size, 200);
  t.deepEqual([fromJson[0]!.time.sec, fromJson[0]!.time.nsec], [EventTime.fromISO('2026-11-21T19:43:40Z')!.sec, 123456789]);
  t.deepEqual(
    receiver.events.filter((e) => e.tag === 'stdin').map((e) => e.record.message),
    ['plain line one', 'plain line two'],
  );
});

test('MessagePack input with integer, float and v1.5 [EventTime, metadata] times', async (t) => {
  const receiver = await startReceive(t);
  const w = new MsgpackWriter();
  const entry = (writeTime: () => void, i: number): void => {
    w.writeArrayHeader(3);
    w.writeString('times');
    writeTime();
    w.writeMap({ i }, 1);
  };
  entry(() => w.writeNumber(1_700_000_000), 0);
  entry(() => w.writeNumber(1_700_000_000.25), 1);
  entry(() => {
    w.writeArrayHeader(2);
    w.writeEventTime(new EventTime(1_700_000_001, 42));
    w.writeMap({ meta: true }, 1);
  }, 2);
  entry(() => w.writeEventTime(new EventTime(1_700_000_002, 7)), 3);
  const result = await logkit(['forward', `127.0.0.1:${receiver.port}`], { input: w.take() });
  t.is(result.exitCode, 0, String(result.stderr));
  await waitFor(() => receiver.events.length >= 4, 'all events');
  const times = [...receiver.events].sort((a, b) => Number(a.record.i) - Number(b.record.i)).map((e) => [e.time.sec, e.time.nsec]);
  t.deepEqual(times, [
    [1_700_000_000, 0],
    [1_700_000_000, 250_000_000],
    [1_700_000_001, 42],
    [1_700_000_002, 7],
  ]);
});

test('corrupt MessagePack: the events before the fault are delivered, then exit 65 naming the byte', async (t) => {
  const receiver = await startReceive(t);
  const good = encode(numberedEvents(0, 100));
  const result = await logkit(['forward', `127.0.0.1:${receiver.port}`], { input: Buffer.concat([good, Buffer.from([0x93, 0xc1, 0x00])]) });
  t.is(result.exitCode, 65);
  t.regex(String(result.stderr), new RegExp(`stdin: byte ${good.length}: invalid MessagePack`));
  await waitFor(() => receiver.events.length >= 100, 'the good events');
  t.is(indexes(receiver.events).size, 100);

  const wrongShape = await logkit(['forward', `127.0.0.1:${receiver.port}`], { input: Buffer.concat([good, encodeValue(['tag', 1, 'not a map'])]) });
  t.is(wrongShape.exitCode, 65);
  t.regex(String(wrongShape.stderr), /expected a record \(map\) as the third element, got the string "not a map"/);

  const truncated = await logkit(['forward', `127.0.0.1:${receiver.port}`], { input: good.subarray(0, good.length - 3) });
  t.is(truncated.exitCode, 65);
  t.regex(String(truncated.stderr), /truncated MessagePack/);
  await waitFor(() => receiver.events.length >= 299, 'the good events of the other runs');
  t.is(receiver.events.length, 299);
});

function encodeValue(value: unknown[]): Buffer {
  const w = new MsgpackWriter();
  w.writeValue(value);
  return w.take();
}
