import test from 'ava';
import { ExtData, decodeMulti, encode, ExtensionCodec } from '@msgpack/msgpack';
import { encodeEntries } from '../../src/codec/msgpack-writer.js';
import { readEvents } from '../../src/codec/read-events.js';
import { EventTime } from '../../src/event/event-time.js';
import type { LogEvent } from '../../src/event/event.js';
import { SEED, randomEvent } from '../helpers/random-events.js';

// An independent oracle for logkit's MessagePack codec: @msgpack/msgpack must read exactly what
// logkit writes, and logkit must read exactly what @msgpack/msgpack writes. (The round-trip
// property test only checks logkit against itself, which a symmetric bug would pass.)

const COUNT = 3000;
const EVENT_TIME = 0; // the Forward protocol's EventTime extension type

/** EventTime as the oracle sees it: ext type 0, 32-bit seconds and nanoseconds, big-endian. */
const codec = new ExtensionCodec();
codec.register({
  type: EVENT_TIME,
  encode: (value: unknown) => {
    if (!(value instanceof EventTime)) return null;
    const bytes = new Uint8Array(8);
    const view = new DataView(bytes.buffer);
    view.setUint32(0, value.sec);
    view.setUint32(4, value.nsec);
    return bytes;
  },
  decode: (data: Uint8Array) => {
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    return new EventTime(view.getUint32(0), view.getUint32(4));
  },
});

/**
 * One comparable form for both sides: integers (number or bigint, whichever width a codec chose)
 * become bigint, binary becomes a Buffer, EventTime a plain pair; everything else as it is.
 */
function normal(value: unknown): unknown {
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number') return Number.isInteger(value) && !Object.is(value, -0) ? BigInt(value) : value;
  if (value instanceof EventTime) return { sec: value.sec, nsec: value.nsec };
  if (value instanceof Uint8Array) return Buffer.from(value);
  if (Array.isArray(value)) return value.map(normal);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, normal(v)]));
  return value;
}

const asEntry = (e: LogEvent): unknown[] => (e.options ? [e.tag, e.time, e.record, e.options] : [e.tag, e.time, e.record]);

test(`@msgpack/msgpack reads exactly what logkit writes (${COUNT} random events, seed ${SEED})`, (t) => {
  const events = Array.from({ length: COUNT }, randomEvent);
  const bytes = encodeEntries(events);
  const decoded = [...decodeMulti(bytes, { extensionCodec: codec, useBigInt64: true })];
  t.is(decoded.length, events.length);
  for (let i = 0; i < events.length; i++) t.deepEqual(normal(decoded[i]), normal(asEntry(events[i]!)), `event ${i}`);
});

test(`logkit reads exactly what @msgpack/msgpack writes (${COUNT} random events, seed ${SEED})`, async (t) => {
  const events = Array.from({ length: COUNT }, randomEvent);
  const bytes = Buffer.concat(events.map((e) => encode(asEntry(e), { extensionCodec: codec, useBigInt64: true })));
  // fed in odd-sized pieces, so entries straddle reads as they do on a pipe
  async function* pieces(): AsyncGenerator<Buffer> {
    for (let at = 0; at < bytes.length; at += 4093) yield bytes.subarray(at, at + 4093);
  }
  const read: LogEvent[] = [];
  for await (const batch of readEvents(pieces(), { format: 'msgpack' })) read.push(...batch);
  t.is(read.length, events.length);
  for (let i = 0; i < events.length; i++) t.deepEqual(normal(asEntry(read[i]!)), normal(asEntry(events[i]!)), `event ${i}`);
});

test('the oracle sees an EventTime as ext type 0 with big-endian seconds and nanoseconds', (t) => {
  const bytes = encodeEntries([{ tag: 'a', time: new EventTime(0x01020304, 0x05060708), record: {} }]);
  const [entry] = [...decodeMulti(bytes)] as unknown[][];
  const ext = entry![1] as ExtData;
  t.is(ext.type, EVENT_TIME);
  t.deepEqual([...(ext.data as Uint8Array)], [1, 2, 3, 4, 5, 6, 7, 8]);
});
