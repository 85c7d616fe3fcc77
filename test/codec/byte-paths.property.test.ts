import test from 'ava';
import type { LogEvent } from '../../src/event/event.js';
import { DecodeError } from '../../src/codec/decode-error.js';
import { MessageStreamDecoder } from '../../src/codec/msgpack-reader.js';
import { eventToJSON } from '../../src/codec/ndjson.js';
import { EventWithLine } from '../../src/codec/ndjson-line-events.js';
import { MsgpackWriter } from '../../src/codec/msgpack-writer.js';
import { RawEntryEvent } from '../../src/codec/raw-entry-event.js';
import { EventTime } from '../../src/event/event-time.js';
import { MAX_DEPTH } from '../../src/codec/depth-limit.js';
import { FileEncoder } from '../../src/store/file/file-format.js';
import { randomEvents } from '../helpers/random-events.js';
import { scannedPosition } from '../../src/codec/scanned-position.js';
import { recordPositions, relayPositionOf, sourcePositionOf } from '../../src/event/source-position.js';

// Property: the NDJSON that `store file` writes from MessagePack transcoded byte to byte (the fast
// path) is exactly the NDJSON of the decoded objects (the object path), for random events written
// in every MessagePack form a peer may choose (wide integers, float32, str8/16/32, map16/32), with
// the cases the fast path hands to the object path mixed in (extension values, integer-like,
// duplicate and __proto__ keys, invalid UTF-8, float times, deep nesting), cut into random chunks.

const SEED = Number(process.env.LOGKIT_PROPERTY_SEED ?? 20261130);
const gen = randomEvents(SEED);
const { int, random } = gen;

/** A MessagePack encoder choosing a random valid form for each value (not logkit's writer). */
class VariantEncoder {
  private parts: number[] = [];

  take(): Buffer {
    const out = Buffer.from(this.parts);
    this.parts = [];
    return out;
  }

  bytes(...values: number[]): void {
    for (const v of values) this.parts.push(v);
  }

  raw(buf: Uint8Array): void {
    for (const v of buf) this.parts.push(v);
  }

  uint(n: number, width: 1 | 2 | 4 | 8): void {
    const b = Buffer.alloc(width);
    if (width === 1) b.writeUInt8(n);
    else if (width === 2) b.writeUInt16BE(n);
    else if (width === 4) b.writeUInt32BE(n);
    else b.writeBigUInt64BE(BigInt(n));
    this.raw(b);
  }

  header(kind: 'str' | 'bin' | 'array' | 'map', length: number): void {
    const fix = { str: length < 32 ? 0xa0 : -1, bin: -1, array: length < 16 ? 0x90 : -1, map: length < 16 ? 0x80 : -1 }[kind];
    const wide = { str: [0xd9, 0xda, 0xdb], bin: [0xc4, 0xc5, 0xc6], array: [-1, 0xdc, 0xdd], map: [-1, 0xde, 0xdf] }[kind];
    const choices: Array<() => void> = [];
    if (fix >= 0) choices.push(() => this.bytes(fix | length));
    if (wide[0]! >= 0 && length < 256) choices.push(() => (this.bytes(wide[0]!), this.uint(length, 1)));
    if (length < 65536) choices.push(() => (this.bytes(wide[1]!), this.uint(length, 2)));
    choices.push(() => (this.bytes(wide[2]!), this.uint(length, 4)));
    gen.pick(choices)();
  }

  string(s: string | Buffer): void {
    const b = typeof s === 'string' ? Buffer.from(s) : s;
    this.header('str', b.length);
    this.raw(b);
  }

  number(n: number | bigint): void {
    if (typeof n === 'bigint') {
      const b = Buffer.alloc(9);
      if (n < 0n) (b[0] = 0xd3), b.writeBigInt64BE(n, 1);
      else (b[0] = 0xcf), b.writeBigUInt64BE(n, 1);
      return this.raw(b);
    }
    if (!Number.isInteger(n) || !Number.isSafeInteger(n)) {
      const b = Buffer.alloc(random() < 0.3 ? 5 : 9);
      if (b.length === 5) (b[0] = 0xca), b.writeFloatBE(n, 1);
      else (b[0] = 0xcb), b.writeDoubleBE(n, 1);
      return this.raw(b);
    }
    const forms: Array<() => void> = [() => this.wideInt(n)];
    if (n >= 0 && n < 128) forms.push(() => this.bytes(n));
    if (n < 0 && n >= -32) forms.push(() => this.bytes(n + 0x100));
    gen.pick(forms)();
  }

  private wideInt(n: number): void {
    const b = Buffer.alloc(9);
    const forms: Array<() => number> = [];
    if (n >= 0 && n < 256) forms.push(() => ((b[0] = 0xcc), b.writeUInt8(n, 1)));
    if (n >= 0 && n < 65536) forms.push(() => ((b[0] = 0xcd), b.writeUInt16BE(n, 1)));
    if (n >= 0 && n < 2 ** 32) forms.push(() => ((b[0] = 0xce), b.writeUInt32BE(n, 1)));
    if (n >= 0) forms.push(() => ((b[0] = 0xcf), b.writeBigUInt64BE(BigInt(n), 1)));
    if (n >= -128 && n < 128) forms.push(() => ((b[0] = 0xd0), b.writeInt8(n, 1)));
    if (n >= -32768 && n < 32768) forms.push(() => ((b[0] = 0xd1), b.writeInt16BE(n, 1)));
    if (n >= -(2 ** 31) && n < 2 ** 31) forms.push(() => ((b[0] = 0xd2), b.writeInt32BE(n, 1)));
    forms.push(() => ((b[0] = 0xd3), b.writeBigInt64BE(BigInt(n), 1)));
    this.raw(b.subarray(0, gen.pick(forms)()));
  }

  value(v: unknown, depth = 0): void {
    if (v === null) return this.bytes(0xc0);
    if (v === true || v === false) return this.bytes(v ? 0xc3 : 0xc2);
    if (typeof v === 'number' || typeof v === 'bigint') return this.number(v);
    if (typeof v === 'string') return this.string(v);
    if (Buffer.isBuffer(v)) return this.header('bin', v.length), this.raw(v);
    if (Array.isArray(v)) {
      this.header('array', v.length);
      for (const item of v) this.value(item, depth + 1);
      return;
    }
    const entries = Object.entries(v as Record<string, unknown>);
    const unusual = random() < 0.03 ? int(6) : -1;
    this.header('map', entries.length + (unusual >= 0 ? 1 : 0));
    if (unusual === 0) (this.string(String(int(100))), this.value('integer-like key')); // JS puts it first
    if (unusual === 1) (this.number(int(100)), this.value('number key'));
    if (unusual === 2) (this.string('__proto__'), this.value({ a: 1 }));
    if (unusual === 3) (this.string(Buffer.from([0x61, 0xff, 0xc3])), this.value('invalid UTF-8 key'));
    if (unusual === 4) (this.string('t'), this.bytes(0xd7, 0x00), this.uint(int(2 ** 32), 4), this.uint(int(1e9), 4)); // an EventTime inside
    for (const [key, item] of entries) (this.string(key), this.value(item, depth + 1));
    if (unusual === 5 && entries.length > 0) (this.string(entries[0]![0]), this.value('the same key again')); // header counted it
    else if (unusual === 5) (this.string('k'), this.value(1));
  }

  entry(event: LogEvent): void {
    const withOptions = event.options !== undefined || random() < 0.1;
    this.bytes(withOptions ? 0x94 : 0x93);
    // a tag with invalid UTF-8 now and then: both paths must keep its bytes apart (escaped) alike
    this.string(random() < 0.02 ? Buffer.concat([Buffer.from(event.tag), Buffer.from([0xff, 0xc3])]) : event.tag);
    const form = int(10);
    if (form === 0) this.bytes(0xce), this.uint(event.time.sec, 4);
    else if (form === 1) this.bytes(0xcb), this.raw(Buffer.from(new Float64Array([event.time.sec + 0.25]).buffer).reverse());
    else this.bytes(0xd7, 0x00), this.uint(event.time.sec, 4), this.uint(event.time.nsec, 4);
    this.value(event.record);
    if (withOptions) this.value(event.options ?? null);
  }
}

function deep(depth: number): unknown {
  return depth === 0 ? 'bottom' : { d: deep(depth - 1) };
}

function tooDeepEntry(): Buffer {
  const encoder = new VariantEncoder();
  encoder.entry({ tag: 'a', time: new EventTime(1, 0), record: { deep: deep(MAX_DEPTH + 5) } });
  return encoder.take();
}

function randomStream(count: number): Buffer {
  const encoder = new VariantEncoder();
  for (let i = 0; i < count; i++) {
    const event = gen.randomEvent();
    // past the byte paths' 32 levels, within the stream's limit (MAX_DEPTH, the record being level 1)
    if (random() < 0.02) event.record.deep = deep(20 + int(MAX_DEPTH - 20));
    if (random() < 0.01) event.record.odd = gen.pick([Number.NaN, Infinity, -Infinity]);
    if (random() < 0.02) event.record.invalid = Buffer.from([0xe2, 0x28, 0xa1]).toString('latin1');
    encoder.entry(event);
  }
  return encoder.take();
}

function chunks(buf: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < buf.length; ) {
    const size = random() < 0.5 ? 1 + int(64) : 1 + int(64 * 1024);
    out.push(buf.subarray(at, at + size));
    at += size;
  }
  return out;
}

function decodeAll(decoder: MessageStreamDecoder, parts: Buffer[]): { events: LogEvent[]; error?: DecodeError } {
  const events: LogEvent[] = [];
  try {
    for (const part of parts) events.push(...decoder.push(part));
    decoder.end();
  } catch (error) {
    if (!(error instanceof DecodeError)) throw error;
    events.push(...error.decoded);
    return { events, error };
  }
  return { events };
}

test(`random events: the transcoded NDJSON is byte-identical to the object path's (seed ${SEED})`, (t) => {
  let fast = 0;
  let total = 0;
  for (let round = 0; round < 20; round++) {
    const stream = randomStream(500);
    const parts = chunks(stream);
    const viaBytes = decodeAll(new MessageStreamDecoder(undefined, 'ndjson-lines'), parts);
    const viaObjects = decodeAll(new MessageStreamDecoder(), parts);
    t.is(viaBytes.error?.message, undefined);
    t.is(viaObjects.error?.message, undefined);
    t.is(viaBytes.events.length, 500);
    const lines = new FileEncoder('ndjson', 'message').encode(viaBytes.events);
    const expected = Buffer.from(viaObjects.events.map((e) => eventToJSON(e) + '\n').join(''));
    t.true(lines.equals(expected), `round ${round}: the NDJSON differs`);
    for (let i = 0; i < viaBytes.events.length; i++) {
      const [a, b] = [viaBytes.events[i]!, viaObjects.events[i]!];
      if (!(a instanceof EventWithLine)) continue;
      fast++;
      t.deepEqual([a.tag, a.time, a.record, a.options], [b.tag, b.time, b.record, b.options], `round ${round} event ${i}`);
    }
    total += viaBytes.events.length;
  }
  // most entries take the fast path, and a share of them the object path: both are exercised
  t.true(fast > total * 0.5, `${fast} of ${total} transcoded`);
  t.true(fast < total * 0.95, `${fast} of ${total} transcoded`);
});

test('bad entries: the same error at the same offset, and the same events before it, either way', (t) => {
  const good = randomStream(20);
  const bad: Array<[string, Buffer]> = [
    ['an array as a map key', Buffer.from([0x93, 0xa1, 0x61, 0x01, 0x81, 0x91, 0x01, 0x01])],
    ['a reserved byte in a record (msgpackr reads it as a value)', Buffer.from([0x93, 0xa1, 0x61, 0x01, 0x81, 0xa1, 0x6b, 0xc1])],
    ['an array of 2', Buffer.from([0x92, 0xa1, 0x61, 0x01])],
    ['a number tag', Buffer.from([0x93, 0x01, 0x01, 0x80])],
    ['a string time', Buffer.from([0x93, 0xa1, 0x61, 0xa1, 0x78, 0x80])],
    ['an array record', Buffer.from([0x93, 0xa1, 0x61, 0x01, 0x90])],
    ['a string as options', Buffer.from([0x94, 0xa1, 0x61, 0x01, 0x80, 0xa1, 0x78])],
    ['an EventTime of 4 bytes in a record', Buffer.from([0x93, 0xa1, 0x61, 0x01, 0x81, 0xa1, 0x6b, 0xd6, 0x00, 1, 2, 3, 4])],
    ['a record nested past the stream\'s limit', tooDeepEntry()],
    ['a truncated stream', Buffer.from([0x93, 0xa1, 0x61, 0x01, 0x82, 0xa1, 0x6b])],
  ];
  for (const [what, entry] of bad) {
    const stream = Buffer.concat([good, entry, good]);
    const parts = chunks(stream);
    const viaBytes = decodeAll(new MessageStreamDecoder(undefined, 'ndjson-lines'), parts);
    const viaObjects = decodeAll(new MessageStreamDecoder(), parts);
    if (!what.startsWith('a reserved')) t.truthy(viaObjects.error, what);
    t.is(viaBytes.error?.message, viaObjects.error?.message, what);
    t.is(viaBytes.error?.offset, viaObjects.error?.offset, what);
    t.is(viaBytes.events.length, viaObjects.events.length, what);
    t.true(new FileEncoder('ndjson', 'message').encode(viaBytes.events).equals(Buffer.from(viaObjects.events.map((e) => eventToJSON(e) + '\n').join(''))), what);
  }
});

test('an event read with its line still gives its record and options when asked', (t) => {
  // logkit's own encoding (an EventTime, a valid tag): the entry takes the byte path
  const bytes = written([{ tag: 'app', time: new EventTime(1795823940, 123), record: { msg: 'héllo', n: [1, 2.5, null] }, options: { src: { off: 7 } } }]);
  const [event] = new MessageStreamDecoder(undefined, 'ndjson-lines').push(bytes);
  t.true(event instanceof EventWithLine);
  t.deepEqual(event!.record, { msg: 'héllo', n: [1, 2.5, null] });
  t.deepEqual(event!.options, { src: { off: 7 } });
  t.is(new FileEncoder('ndjson', 'message').encode([event!]).toString(), eventToJSON(event!) + '\n');
});

test(`random events read as bytes (RawEntryEvent): a field read alone is the decoded one, and what is not touched is written back unchanged (seed ${SEED})`, (t) => {
  let raw = 0;
  for (let round = 0; round < 10; round++) {
    const events = Array.from({ length: 300 }, () => gen.randomEvent());
    const own = written(events); // logkit's own encoding: what every stage reads
    for (const stream of [own, randomStream(300)]) {
      const parts = chunks(stream);
      const viaBytes = decodeAll(new MessageStreamDecoder(undefined, 'raw'), parts);
      const viaObjects = decodeAll(new MessageStreamDecoder(), parts);
      t.is(viaBytes.error?.message, viaObjects.error?.message);
      t.is(viaBytes.events.length, viaObjects.events.length);
      // a peer's other forms are copied as they came: they decode to the same events
      t.deepEqual(new MessageStreamDecoder().push(written(viaBytes.events)), new MessageStreamDecoder().push(written(viaObjects.events)));
      for (let i = 0; i < viaBytes.events.length; i++) {
        const [a, b] = [viaBytes.events[i]!, viaObjects.events[i]!];
        if (!(a instanceof RawEntryEvent)) continue;
        raw++;
        for (const key of [...Object.keys(b.record), 'absent']) t.deepEqual(a.field(key), b.record[key], `round ${round} event ${i} field ${key}`);
      }
    }
    const viaBytes = decodeAll(new MessageStreamDecoder(undefined, 'raw'), chunks(own)).events;
    t.true(written(viaBytes).equals(own), `round ${round}: logkit's own bytes are written back unchanged`);
  }
  t.true(raw > 1000, `${raw} events read as bytes`);
});

function written(events: readonly LogEvent[]): Buffer {
  const w = new MsgpackWriter();
  for (const e of events) w.writeEntry(e);
  return w.take();
}

test(`the source position scanned from an event's bytes is the decoded one (seed ${SEED})`, (t) => {
  let scanned = 0;
  for (let round = 0; round < 10; round++) {
    const events = Array.from({ length: 300 }, () => {
      const event = gen.randomEvent();
      // the forms a position may take: tail's, and ones that are not positions at all
      const variant = int(6);
      if (variant === 0) event.options = { src: { id: gen.randomString(10), off: int(2 ** 52) } };
      if (variant === 1) event.options = { src: { id: 7, off: 3 } };
      if (variant === 2) event.options = { src: { off: 3 } };
      if (variant === 3) event.options = { other: 1, src: { off: -3, id: 'x' }, more: [1] };
      if (variant === 4) event.options = { src: { id: gen.randomString(10), off: int(2 ** 40) }, relay: { id: `receive:${gen.randomString(5)}`, off: int(2 ** 30) } };
      return event;
    });
    for (const stream of [written(events), randomStream(300)]) {
      const parts = chunks(stream);
      for (const form of ['raw', 'ndjson-lines'] as const) {
        const viaBytes = decodeAll(new MessageStreamDecoder(undefined, form), parts).events;
        const viaObjects = decodeAll(new MessageStreamDecoder(), parts).events;
        for (let i = 0; i < viaBytes.length; i++) {
          const fromBytes = scannedPosition(viaBytes[i]!, 'src');
          const relayFromBytes = scannedPosition(viaBytes[i]!, 'relay');
          if (relayFromBytes !== 'decode') t.deepEqual(relayFromBytes, relayPositionOf(viaObjects[i]!), `round ${round} ${form} event ${i} relay`);
          if (fromBytes === 'decode') continue;
          scanned++;
          t.deepEqual(fromBytes, sourcePositionOf(viaObjects[i]!), `round ${round} ${form} event ${i}`);
        }
      }
    }
  }
  t.true(scanned > 2000, `${scanned} positions scanned from bytes`);
});

test('an event read as bytes with a relay position (receive --buffer): src and relay are both recorded', (t) => {
  const bytes = written([{ tag: 'a', time: new EventTime(1, 0), record: { m: 1 }, options: { src: { id: 'f', off: 5 }, relay: { id: 'receive:/d', off: 9 } } }]);
  for (const form of ['raw', 'ndjson-lines'] as const) {
    const [event] = new MessageStreamDecoder(undefined, form).push(bytes);
    t.true(event instanceof RawEntryEvent || event instanceof EventWithLine, form);
    t.deepEqual(scannedPosition(event!, 'src'), { id: 'f', off: 5 }, form);
    t.deepEqual(scannedPosition(event!, 'relay'), { id: 'receive:/d', off: 9 }, form);
    const into: Record<string, number> = {};
    recordPositions(into, event!);
    t.deepEqual(into, { f: 5, 'receive:/d': 9 }, form);
  }
});
