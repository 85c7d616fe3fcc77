import test from 'ava';
import { Decoder, ExtensionCodec } from '@msgpack/msgpack';
import { MAX_DEPTH, nestsDeeperThan } from '../../src/codec/depth-limit.js';
import { DecodeError } from '../../src/codec/decode-error.js';
import { MessageStreamDecoder } from '../../src/codec/msgpack-reader.js';
import { MsgpackWriter, encodeEntries } from '../../src/codec/msgpack-writer.js';
import { eventToJSON, jsonToEvent } from '../../src/codec/ndjson.js';
import { EventTime } from '../../src/event/event-time.js';
import type { LogEvent } from '../../src/event/event.js';

/** A record of maps and arrays in turn whose innermost map is at `levels` (the record itself is level 1). */
function nested(levels: number, leaf: unknown = 'bottom'): Record<string, unknown> {
  let value: unknown = { leaf };
  for (let i = 1; i < levels; i++) value = (levels - i) % 2 === 0 ? [value] : { x: value };
  return value as Record<string, unknown>;
}

/** How deep `value` nests (an array wrapping a map counts as a level of its own). */
function depthOf(value: unknown): number {
  if (typeof value !== 'object' || value === null || value instanceof Uint8Array) return 0;
  const children = Array.isArray(value) ? value : Object.values(value);
  return 1 + Math.max(0, ...children.map(depthOf));
}

const event = (record: Record<string, unknown>): LogEvent => ({ tag: 'deep', time: new EventTime(1700000000, 1), record });

/** @msgpack/msgpack, an independent decoder, reading EventTime (ext 0) as seconds. */
const oracle = (() => {
  const extensionCodec = new ExtensionCodec();
  extensionCodec.register({ type: 0, encode: () => null, decode: (data) => Buffer.from(data).readUInt32BE(0) });
  return new Decoder({ extensionCodec, useBigInt64: true });
})();

test('MAX_DEPTH levels pass both writers and both readers unchanged', (t) => {
  const record = nested(MAX_DEPTH, Buffer.from([1, 2, 3]));
  t.is(depthOf(record), MAX_DEPTH);
  t.false(nestsDeeperThan(record));
  const [back] = new MessageStreamDecoder().push(encodeEntries([event(record)]));
  t.deepEqual(back!.record, record);
  const fromJSON = jsonToEvent(eventToJSON(event(record)));
  t.not(typeof fromJSON, 'string', String(fromJSON));
  t.deepEqual((fromJSON as LogEvent).record, record, 'bytes at the deepest level ({"$base64"}) add no level');
});

for (const levels of [MAX_DEPTH + 1, 256, 300, 20_000]) {
  test(`a record nested ${levels} levels: the writers never throw, and never write what a reader refuses`, (t) => {
    const record = nested(levels);
    const bytes = encodeEntries([event(record)]);
    const [back] = new MessageStreamDecoder().push(bytes);
    t.false(nestsDeeperThan(back!.record));
    // the map that would lie below the limit is there as its JSON text: nothing of the record is lost
    let cursor: unknown = back!.record;
    for (let level = 1; level < MAX_DEPTH; level++) cursor = Array.isArray(cursor) ? cursor[0] : Object.values(cursor as object)[0];
    const below = Array.isArray(cursor) ? cursor[0] : Object.values(cursor as object)[0];
    t.is(typeof below, 'string');
    // no reader makes a value deeper than the limit; one built in memory past the stack's reach gets a note
    if (levels < 1000) t.is(depthOf(JSON.parse(below as string)), levels - MAX_DEPTH);
    else t.is(below, '"(a value nested too deep to write)"');
    t.notThrows(() => oracle.decode(bytes.subarray(0, bytes.length)), 'an independent decoder reads it too');
    const line = eventToJSON(event(record));
    const fromJSON = jsonToEvent(line);
    t.not(typeof fromJSON, 'string', String(fromJSON));
    t.deepEqual((fromJSON as LogEvent).record, back!.record, 'both formats flatten at the same level');
  });
}

test('a MessagePack entry deeper than the limit is a data error naming it, after every event before it', (t) => {
  const good = encodeEntries([event({ n: 1 })]);
  // written by hand (logkit's writer would flatten it): ["t", 1, {"k": {"k": … nil}}]
  const head = Buffer.from([0x93, 0xa1, 0x74, 0x01]);
  const mapsOf = (n: number) => Buffer.concat([head, ...Array.from({ length: n }, () => Buffer.from([0x81, 0xa1, 0x6b])), Buffer.from([0xc0])]);
  t.is(new MessageStreamDecoder().push(mapsOf(MAX_DEPTH)).length, 1, 'the limit itself is accepted');
  const keyed = mapsOf(MAX_DEPTH + 1);
  const error = t.throws(() => new MessageStreamDecoder().push(Buffer.concat([good, keyed])), { instanceOf: DecodeError })!;
  t.regex(error.message, /record nested deeper than 64 levels/);
  t.is(error.offset, good.length);
  t.is((error as DecodeError).decoded.length, 1);
  t.throws(() => new MessageStreamDecoder().push(mapsOf(100_000)), { instanceOf: DecodeError, message: /nested deeper than 64 levels/ });
});

test('an NDJSON line deeper than the limit is refused with a sentence, whatever its depth', (t) => {
  for (const levels of [MAX_DEPTH + 1, 1_000_000]) {
    const line = `{"tag":"t","record":${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}}`;
    t.is(jsonToEvent(line), "record nested deeper than 64 levels (the stream's limit)");
  }
});

test('NaN and ±Infinity are kept as the strings "NaN", "Infinity", "-Infinity" in JSON, and as doubles in MessagePack', (t) => {
  const record = { a: NaN, b: Infinity, c: -Infinity, d: [NaN], e: { f: -Infinity }, g: 1.5, h: null };
  const line = eventToJSON(event(record));
  t.true(line.includes('"record":{"a":"NaN","b":"Infinity","c":"-Infinity","d":["NaN"],"e":{"f":"-Infinity"},"g":1.5,"h":null}'), line);
  const [back] = new MessageStreamDecoder().push(encodeEntries([event(record)]));
  t.deepEqual(back!.record, record);
  const w = new MsgpackWriter();
  w.writeValue(NaN);
  t.deepEqual([...w.take()], [0xcb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0]);
});
