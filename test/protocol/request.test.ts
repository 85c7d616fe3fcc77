import { gzipSync } from 'node:zlib';
import test from 'ava';
import { EventTime } from '../../src/event/event-time.js';
import { FrameScanner, OversizeError, ProtocolError, countValues } from '../../src/protocol/frame.js';
import { createInnerUnpackr, decompressPayload, parseRequest, requestEvents, packedEvents } from '../../src/protocol/request.js';
import { encodeAck, parseResponse } from '../../src/protocol/response.js';
import { encodeEntryStream, encodePackedForward } from '../../src/protocol/encode-request.js';

const limits = { maxBytes: 1 << 20, maxDepth: 32, maxDecompressedBytes: 1 << 20 };
const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const str = (s: string) => Buffer.concat([Buffer.from([0xa0 | Buffer.byteLength(s)]), Buffer.from(s)]);
// EventTime 1441588984.123456789 as fixext8 type 0 and as ext8(len 8) type 0 — both are in the spec
const TIME_FIXEXT = hex('d7 00 55ec e6f8 075b cd15');
const TIME_EXT8 = hex('c7 08 00 55ec e6f8 075b cd15');
const RECORD = Buffer.concat([Buffer.from([0x81]), str('message'), str('bar')]); // {"message":"bar"}

function decode(frame: Buffer) {
  const unpackr = createInnerUnpackr();
  const request = parseRequest(frame, unpackr)!;
  return { request, events: request.mode === 'CompressedPackedForward' ? [] : requestEvents(request, unpackr, limits) };
}

test('Message mode: ["tag.name", 1441588984, {"message":"bar"}] (integer time)', (t) => {
  const frame = Buffer.concat([Buffer.from([0x93]), str('tag.name'), hex('ce 55ece6f8'), RECORD]);
  const { request, events } = decode(frame);
  t.is(request.mode, 'Message');
  t.deepEqual(events, [{ tag: 'tag.name', time: new EventTime(1441588984, 0), record: { message: 'bar' } }]);
});

test('Message mode with EventTime in both ext encodings, and an option map with chunk', (t) => {
  for (const time of [TIME_FIXEXT, TIME_EXT8]) {
    const frame = Buffer.concat([Buffer.from([0x94]), str('a'), time, RECORD, Buffer.from([0x81]), str('chunk'), str('id\n')]);
    const { request, events } = decode(frame);
    t.is(request.mode, 'Message');
    t.deepEqual(events[0]!.time, new EventTime(1441588984, 123456789));
    t.deepEqual(request.chunk, str('id\n'));
  }
});

test('Message mode with a v1.5 [EventTime, {metadata}] time keeps the metadata in options', (t) => {
  const frame = Buffer.concat([Buffer.from([0x93]), str('a'), Buffer.from([0x92]), TIME_FIXEXT, Buffer.from([0x81]), str('k'), str('v'), RECORD]);
  const { request, events } = decode(frame);
  t.is(request.mode, 'Message');
  t.deepEqual(events, [{ tag: 'a', time: new EventTime(1441588984, 123456789), record: { message: 'bar' }, options: { metadata: { k: 'v' } } }]);
});

test('Forward mode: [tag, [[time, record], [[time, {}], record]], {size: 2}]', (t) => {
  const frame = Buffer.concat([
    Buffer.from([0x93]), str('fw'),
    Buffer.from([0x92]),
    Buffer.from([0x92]), TIME_FIXEXT, RECORD,
    Buffer.from([0x92]), Buffer.from([0x92]), hex('ce 55ece6f9'), Buffer.from([0x80]), RECORD,
    Buffer.from([0x81]), str('size'), Buffer.from([0x02]),
  ]);
  const { request, events } = decode(frame);
  t.is(request.mode, 'Forward');
  t.is(request.size, 2);
  t.deepEqual(events.map((e) => [e.tag, e.time.sec, e.time.nsec]), [['fw', 1441588984, 123456789], ['fw', 1441588985, 0]]);
});

test('Forward mode with an empty entries array', (t) => {
  const { request, events } = decode(Buffer.concat([Buffer.from([0x92]), str('fw'), Buffer.from([0x90])]));
  t.is(request.mode, 'Forward');
  t.deepEqual(events, []);
});

test('PackedForward with entries as bin, and as str32 holding binary (Fluentd out_forward)', (t) => {
  const entries = Buffer.concat([Buffer.from([0x92]), TIME_FIXEXT, RECORD, Buffer.from([0x92]), hex('ce 55ece6f9'), Buffer.from([0x81]), str('b'), hex('c4 02 ff00')]);
  for (const header of [hex(`c4 ${entries.length.toString(16).padStart(2, '0')}`), hex(`db ${entries.length.toString(16).padStart(8, '0')}`)]) {
    const frame = Buffer.concat([Buffer.from([0x93]), str('pk'), header, entries, Buffer.from([0x82]), str('chunk'), str('c'), str('compressed'), str('text')]);
    const { request, events } = decode(frame);
    t.is(request.mode, 'PackedForward', 'compressed: "text" means uncompressed');
    t.is(events.length, 2);
    t.deepEqual(events[0], { tag: 'pk', time: new EventTime(1441588984, 123456789), record: { message: 'bar' } });
    t.deepEqual(events[1]!.record.b, Buffer.from([0xff, 0x00]), 'binary values stay bytes');
  }
});

test('CompressedPackedForward: several concatenated gzip members', async (t) => {
  const a = Buffer.concat([Buffer.from([0x92]), TIME_FIXEXT, RECORD]);
  const b = Buffer.concat([Buffer.from([0x92]), hex('ce 55ece6f9'), RECORD]);
  const gz = Buffer.concat([gzipSync(a), gzipSync(b)]);
  const frame = Buffer.concat([Buffer.from([0x93]), str('gz'), hex(`c5 ${gz.length.toString(16).padStart(4, '0')}`), gz, Buffer.from([0x81]), str('compressed'), str('gzip')]);
  const unpackr = createInnerUnpackr();
  const request = parseRequest(frame, unpackr)!;
  t.is(request.mode, 'CompressedPackedForward');
  const events = packedEvents('gz', await decompressPayload(request.payload!, limits), unpackr, limits);
  t.deepEqual(events.map((e) => e.time.sec), [1441588984, 1441588985]);
});

test('decompression is capped', async (t) => {
  const bomb = gzipSync(Buffer.alloc(4 << 20));
  const error = await t.throwsAsync(decompressPayload(bomb, { ...limits, maxDecompressedBytes: 1 << 20 }));
  t.true(error instanceof ProtocolError);
  t.regex(error!.message, /expand beyond the limit/);
});

test('nil and non-array requests are ignored; malformed ones throw ProtocolError', (t) => {
  const unpackr = createInnerUnpackr();
  t.is(parseRequest(Buffer.from([0xc0]), unpackr), undefined);
  t.is(parseRequest(Buffer.from([0x05]), unpackr), undefined);
  t.throws(() => parseRequest(Buffer.concat([Buffer.from([0x93]), Buffer.from([0x01]), TIME_FIXEXT, RECORD]), unpackr), { instanceOf: ProtocolError });
  t.throws(() => decode(Buffer.concat([Buffer.from([0x93]), str('a'), str('not entries'), RECORD])), { instanceOf: ProtocolError });
  t.throws(() => decode(Buffer.concat([Buffer.from([0x93]), str('a'), TIME_FIXEXT, str('not a record')])), { instanceOf: ProtocolError });
  // milliseconds where seconds belong would wrap the 32-bit EventTime: refused, not corrupted
  t.throws(() => decode(Buffer.concat([Buffer.from([0x93]), str('a'), hex('cf 0000018bcfe56800'), RECORD])), { instanceOf: ProtocolError, message: /32-bit/ });
  // an EventTime extension of the wrong length, an unknown extension type in a record
  t.throws(() => decode(Buffer.concat([Buffer.from([0x93]), str('a'), hex('d6 00 01020304'), RECORD])), { instanceOf: ProtocolError });
  t.throws(() => decode(Buffer.concat([Buffer.from([0x93]), str('a'), TIME_FIXEXT, Buffer.from([0x81]), str('k'), hex('d4 05 01')])), { instanceOf: ProtocolError });
});

test('ack echoes the chunk value byte for byte (newline, non-UTF-8 bytes)', (t) => {
  const chunk = Buffer.concat([Buffer.from([0xa4]), Buffer.from('ab\n'), Buffer.from([0xff])]);
  const ack = encodeAck(chunk);
  // a logkit server marks its acks: it restores carried identities (other clients read only `ack`)
  t.deepEqual(ack, Buffer.concat([hex('82 a3 61636b'), chunk, hex('aa'), Buffer.from('logkit_src'), hex('c3')]));
  t.deepEqual(parseResponse(ack), { ack: Buffer.from([0x61, 0x62, 0x0a, 0xff]), identities: true });
  t.deepEqual(parseResponse(hex('81 a3 61636b a2 6964')), { ack: Buffer.from('id'), identities: false }, 'an ack from Fluentd or Fluent Bit');
});

test('FrameScanner finds request ends across any split, one byte at a time', (t) => {
  const entries = encodeEntryStream([{ tag: 'x', time: new EventTime(1, 2), record: { a: [1, { b: 'c' }] } }]);
  const one = encodePackedForward('x', entries, { chunk: 'abc', size: 1 });
  const stream = Buffer.concat([one, Buffer.from([0xc0]), one]);
  const scanner = new FrameScanner({ maxBytes: 1 << 16, maxDepth: 8 });
  const found: number[] = [];
  let start = 0;
  for (let end = 1; end <= stream.length; end++) {
    const n = scanner.scan(stream.subarray(start, end));
    if (n >= 0) {
      found.push(n);
      start += n;
    }
  }
  t.deepEqual(found, [one.length, 1, one.length]);
});

test('FrameScanner bounds: declared lengths, element counts and depth', (t) => {
  const scanner = () => new FrameScanner({ maxBytes: 1000, maxDepth: 4 });
  t.throws(() => scanner().scan(hex('db 7fffffff')), { instanceOf: OversizeError });
  t.throws(() => scanner().scan(hex('dd ffffffff')), { instanceOf: OversizeError });
  t.throws(() => scanner().scan(hex('df 0000ffff')), { instanceOf: OversizeError });
  t.throws(() => scanner().scan(Buffer.alloc(10, 0x91)), { instanceOf: ProtocolError, message: /nested deeper/ });
  t.throws(() => scanner().scan(hex('c1')), { instanceOf: ProtocolError });
  t.is(scanner().scan(hex('dc 0003 01 02')), -1, 'incomplete, not an error');
  t.throws(() => countValues(hex('92 01'), { maxBytes: 10, maxDepth: 4 }), { instanceOf: ProtocolError });
});
