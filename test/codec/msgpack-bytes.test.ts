import test from 'ava';
import { EventTime } from '../../src/event/event-time.js';
import { MsgpackWriter, encodeEntries } from '../../src/codec/msgpack-writer.js';
import { MessageStreamDecoder } from '../../src/codec/msgpack-reader.js';

// Bytes computed by hand from the Forward Protocol Specification v1:
// EventTime is "fixext 8" (0xd7), type 0, then 32-bit big-endian seconds and nanoseconds.

test('EventTime is fixext8 type 0 with big-endian seconds and nanoseconds', (t) => {
  const w = new MsgpackWriter();
  w.writeEventTime(new EventTime(1441588984, 123456789)); // 0x55ECE6F8, 0x075BCD15
  t.is(w.take().toString('hex'), 'd700' + '55ece6f8' + '075bcd15');
});

test('a Message-mode entry is [tag, time, record]', (t) => {
  const bytes = encodeEntries([{ tag: 'tag.name', time: new EventTime(1441588984, 0), record: { message: 'hi' } }]);
  const expected =
    '93' + // fixarray of 3
    'a8' + Buffer.from('tag.name').toString('hex') + // fixstr 8
    'd700' + '55ece6f8' + '00000000' + // EventTime
    '81' + 'a7' + Buffer.from('message').toString('hex') + 'a2' + Buffer.from('hi').toString('hex'); // {message: "hi"}
  t.is(bytes.toString('hex'), expected);
});

test('an entry with options is a fixarray of 4 ending in the options map', (t) => {
  const bytes = encodeEntries([{ tag: 'a', time: new EventTime(1, 2), record: {}, options: { chunk: 'x' } }]);
  t.is(bytes.toString('hex'), '94' + 'a161' + 'd700' + '00000001' + '00000002' + '80' + '81' + 'a5' + Buffer.from('chunk').toString('hex') + 'a178');
});

test('integers use the narrowest MessagePack integer type, including 64-bit ones', (t) => {
  const hex = (v: unknown) => {
    const w = new MsgpackWriter();
    w.writeValue(v);
    return w.take().toString('hex');
  };
  t.is(hex(0), '00');
  t.is(hex(127), '7f');
  t.is(hex(128), 'cc80');
  t.is(hex(65535), 'cdffff');
  t.is(hex(2 ** 32 - 1), 'ceffffffff');
  t.is(hex(2 ** 40), 'cf0000010000000000'); // an integer, never a float64
  t.is(hex(-1), 'ff');
  t.is(hex(-33), 'd0df');
  t.is(hex(-40000), 'd2ffff63c0');
  t.is(hex(-(2 ** 40)), 'd3ffffff0000000000');
  t.is(hex(2n ** 63n), 'cf8000000000000000');
  t.is(hex(1.5), 'cb3ff8000000000000');
  t.is(hex(null), 'c0');
  t.is(hex(true), 'c3');
  t.is(hex(Buffer.from([1, 2])), 'c4020102');
  t.is(hex('x'.repeat(31)), 'bf' + '78'.repeat(31));
  t.is(hex('x'.repeat(32)), 'd920' + '78'.repeat(32));
  t.is(hex('é'), 'a2c3a9');
  t.is(hex('😀'), 'a4f09f9880');
  t.is(hex('x'.repeat(300)), 'da012c' + '78'.repeat(300));
});

test('the decoder reads integer, float and EventTime times and keeps nanoseconds', (t) => {
  const d = new MessageStreamDecoder();
  const entries = Buffer.from(
    '93a161ce55ece6f880' + // integer seconds
      '93a161cb41d57b39be0fdf3b80' + // float 1441588984.248 seconds
      '93a161d70055ece6f8075bcd1580' + // EventTime
      '93a16192d70055ece6f80000000181c0c080', // v1.5: [EventTime, metadata]
    'hex',
  );
  const events = d.push(entries);
  t.is(events.length, 4);
  t.deepEqual(events.map((e) => [e.time.sec, e.time.nsec]), [
    [1441588984, 0],
    [1441588984, 248000000],
    [1441588984, 123456789],
    [1441588984, 1],
  ]);
});

test('the decoder joins entries split across chunks at every byte', (t) => {
  const bytes = encodeEntries([
    { tag: 'a.b', time: new EventTime(5, 6), record: { k: 'v', n: [1, 2, { x: null }] }, options: { size: 1 } },
    { tag: 'c', time: new EventTime(7, 8), record: { m: 'ü'.repeat(50) } },
  ]);
  for (let cut = 0; cut <= bytes.length; cut++) {
    const d = new MessageStreamDecoder();
    const events = [...d.push(bytes.subarray(0, cut)), ...d.push(bytes.subarray(cut))];
    d.end();
    t.is(events.length, 2, `cut at ${cut}`);
    t.deepEqual(events[0]!.options, { size: 1 });
  }
});
