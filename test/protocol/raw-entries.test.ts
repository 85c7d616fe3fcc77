/**
 * The PackedForward fast path (records copied, not decoded) must produce exactly what the
 * decoding path produces, and its output must always be a stream the next stage can decode —
 * checked on hand-made cases and on 50,000 mutated payloads.
 */
import test from 'ava';
import { EventTime } from '../../src/event/event-time.js';
import type { LogEvent } from '../../src/event/event.js';
import { MessageStreamDecoder } from '../../src/codec/msgpack-reader.js';
import { MsgpackWriter } from '../../src/codec/msgpack-writer.js';
import { ProtocolError } from '../../src/protocol/frame.js';
import { transcodeEntries } from '../../src/protocol/raw-entries.js';
import { createInnerUnpackr, packedEvents } from '../../src/protocol/request.js';

const limits = { maxBytes: 1 << 20, maxDepth: 16 };
const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

function viaRaw(payload: Buffer, tag = 't'): LogEvent[] {
  const w = new MsgpackWriter();
  w.writeString(tag);
  const encodedTag = w.take();
  const count = transcodeEntries(payload, encodedTag, limits, w);
  const events = new MessageStreamDecoder().push(w.take());
  if (events.length !== count) throw new Error(`count ${count} but ${events.length} decoded`);
  return events;
}

const viaDecode = (payload: Buffer, tag = 't') => packedEvents(tag, payload, createInnerUnpackr(), limits);

test('integer, float, EventTime (both ext forms) and v1.5 times; binary, nested and EventTime values in records', (t) => {
  const payload = Buffer.concat([
    hex('92 ce 55ece6f8 81 a1 61 01'), // [1441588984, {a: 1}]
    hex('92 cb 41d57b39be07e6d1 81 a1 62 c4 02 ff00'), // float time, binary value
    hex('92 d7 00 55ece6f8 075bcd15 82 a1 63 92 01 81 a1 64 c0 a1 65 d7 00 00000001 00000002'), // nested, EventTime value
    hex('92 c7 08 00 55ece6f8 00000001 80'), // ext8 EventTime, empty record
    hex('92 92 d7 00 55ece6f8 00000005 81 a1 6b a1 76 81 a1 66 c3'), // v1.5 with metadata
    hex('92 92 ce 55ece6f8 80 81 a1 66 c2'), // v1.5 with empty metadata
    hex('92 01 81 05 a1 6e'), // integer key
  ]);
  const raw = viaRaw(payload);
  t.deepEqual(raw, viaDecode(payload));
  t.is(raw.length, 7);
  t.deepEqual(raw[2]!.record, { c: [1, { d: null }], e: new EventTime(1, 2) });
  t.deepEqual(raw[4]!.options, { metadata: { k: 'v' } });
  t.is(raw[5]!.options, undefined);
  t.is(raw[1]!.time.sec, 1441588984);
});

test('refused: non-EventTime extensions, container or binary map keys, times beyond 32 bits, wrong shapes, truncation', (t) => {
  for (const bad of [
    '92 01 81 a1 61 d4 05 01', // fixext1 type 5 in a record
    '92 01 81 a1 61 c7 04 00 00000001', // ext8 type 0 but 4 bytes
    '92 01 81 c4 01 61 01', // binary key
    '92 01 81 90 01', // array key
    '92 cf 0000018bcfe56800 80', // milliseconds as seconds
    '93 01 80 80', // 3-element entry
    '92 01 90', // record not a map
    '92 01 82 a1 61', // truncated
    '92 a1 78 80', // time as a string
  ]) {
    t.throws(() => viaRaw(hex(bad)), { instanceOf: ProtocolError }, bad);
  }
});

test('50,000 mutated payloads: the fast path output always decodes, and agrees with the decoding path', (t) => {
  let seed = 99;
  const random = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x80000000;
  };
  const int = (n: number) => Math.floor(random() * n);
  const w = new MsgpackWriter();
  for (let i = 0; i < 5; i++) {
    w.writeArrayHeader(2);
    if (i === 3) {
      w.writeArrayHeader(2);
      w.writeEventTime(new EventTime(1700000000, i));
      w.writeValue({ m: i });
    } else if (i === 4) {
      w.writeValue(1700000000 + i);
    } else w.writeEventTime(new EventTime(1700000000 + i, i));
    w.writeValue({ i, s: 'text', b: Buffer.from([1, 2, 3]), n: [1, { x: null, y: -5, z: 1.5 }], t: new EventTime(5, 6) });
  }
  const seedPayload = w.take();
  let agreed = 0;
  let refusedByBoth = 0;
  for (let n = 0; n < 50_000; n++) {
    const payload = Buffer.from(seedPayload);
    for (let k = 1 + int(3); k > 0; k--) payload[int(payload.length)] = int(256);
    let raw: LogEvent[] | Error;
    let decoded: LogEvent[] | Error;
    try {
      raw = viaRaw(payload);
    } catch (error) {
      if (!(error instanceof ProtocolError)) {
        t.fail(`mutation ${n}: the fast path produced an undecodable stream or crashed: ${String(error)} ${payload.toString('hex')}`);
        return;
      }
      raw = error;
    }
    try {
      decoded = viaDecode(payload);
    } catch (error) {
      decoded = error as Error;
    }
    if (raw instanceof Error && decoded instanceof Error) refusedByBoth++;
    else if (!(raw instanceof Error) && !(decoded instanceof Error)) {
      t.deepEqual(raw, decoded, payload.toString('hex'));
      agreed++;
    } else if (!(raw instanceof Error)) {
      t.fail(`mutation ${n}: accepted by the fast path only (${(decoded as Error).message}) ${payload.toString('hex')}`);
      return;
    }
    // refused by the fast path only is allowed (it is stricter where decoding would be lossy)
  }
  t.log({ agreed, refusedByBoth });
  t.true(agreed > 5_000);
});

test('receive --buffer: relay positions stamped while copying are what the durable sink stamps on decoded events', (t) => {
  const payload = Buffer.concat([
    hex('92 ce 55ece6f8 81 a1 61 01'), // [t, {a: 1}]: carried identity
    hex('92 ce 55ece6f8 81 a1 61 02'), // no identity: its relay position is its identity too
    hex('92 92 d7 00 55ece6f8 00000005 81 a1 6b a1 76 81 a1 66 c3'), // v1.5 metadata, then the positions
  ]);
  const w = new MsgpackWriter();
  w.writeString('t');
  const encodedTag = w.take();
  const identities = [{ id: 'file:1', off: 120 }, undefined, { id: 'file:1', off: 240 }];
  const count = transcodeEntries(payload, encodedTag, limits, w, (i) => identities[i], { id: 'receive:/b', firstOff: 41 });
  t.is(count, 3);
  const events = new MessageStreamDecoder().push(w.take());
  t.deepEqual(events.map((e) => e.options), [
    { src: { id: 'file:1', off: 120 }, relay: { id: 'receive:/b', off: 41 } },
    { src: { id: 'receive:/b', off: 42 }, relay: { id: 'receive:/b', off: 42 } },
    { metadata: { k: 'v' }, src: { id: 'file:1', off: 240 }, relay: { id: 'receive:/b', off: 43 } },
  ]);
});
