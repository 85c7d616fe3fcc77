import { EventTime } from '../event/event-time.js';
import type { LogEvent } from '../event/event.js';
import { MAX_DEPTH } from './depth-limit.js';
import { isWellFormed, writeEscapedUtf8 } from './escaped-utf8.js';
import { flattenedJSON } from './ndjson.js';
import { RawEntryEvent } from './raw-entry-event.js';

const TWO_32 = 2 ** 32;
/** The largest buffer a writer keeps for its next batch (a larger one is handed off with its result). */
const MAX_KEPT_BUFFER = 4 * 1024 * 1024;
const EMPTY = Buffer.alloc(0);

/**
 * A batched MessagePack encoder: values are appended to one growing buffer and taken out
 * as a single Buffer per batch, so a batch of events costs one write downstream.
 *
 * Why not msgpackr's encoder (we decode with msgpackr): it writes every integer beyond 32
 * bits as a float64, so Fluentd and Fluent Bit would see `bytes: 5000000000` as a Float.
 * This writer emits uint64/int64 as the spec intends, EventTime as ext type 0, and is as fast
 * on log records (bench/codec.mjs measures all three codecs).
 */
export class MsgpackWriter {
  private buf: Buffer;
  private pos = 0;
  /** The last string writeRepeatedString wrote, and its encoding. */
  private lastString: string | undefined;
  private lastStringBytes: Buffer = EMPTY;

  constructor(private readonly initialSize = 64 * 1024) {
    this.buf = Buffer.allocUnsafe(initialSize);
  }

  get length(): number {
    return this.pos;
  }

  /**
   * Returns everything written so far and starts afresh. A buffer grown by doubling can be up to
   * twice what was written: handing it off would keep that slack alive as long as the result
   * (a chunk held until acknowledged: forward's memory doubled), so a result with much slack is
   * copied out exactly and the buffer kept for the next batch.
   */
  take(): Buffer {
    const pos = this.pos;
    this.pos = 0;
    if (this.buf.length - pos > pos >> 3 && this.buf.length <= MAX_KEPT_BUFFER) return Buffer.from(this.buf.subarray(0, pos));
    const out = this.buf.subarray(0, pos);
    // the next buffer is allocated by the next write: a writer used once allocates nothing more
    this.buf = EMPTY;
    return out;
  }

  /** A forward-protocol Message-mode entry: `[tag, time, record]` or `[tag, time, record, options]`. */
  writeEntry(event: LogEvent): void {
    if (event instanceof RawEntryEvent) return this.writeRawEntry(event);
    this.ensure(1);
    this.buf[this.pos++] = event.options ? 0x94 : 0x93;
    this.writeString(event.tag);
    this.writeEventTime(event.time);
    this.writeMap(event.record, 1);
    if (event.options) this.writeOptions(event.options);
  }

  /**
   * An entry's options map. Its positions (`src`, `relay`: `{id, off}`) name the same source on
   * event after event, so their ids go through writeRepeatedString.
   */
  private writeOptions(options: Record<string, unknown>): void {
    const keys = Object.keys(options);
    this.writeMapHeader(keys.length);
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!;
      const value = options[key];
      this.writeString(key);
      if (isPosition(value)) {
        this.writeMapHeader(2);
        this.writeShortString('id');
        this.writeRepeatedString(value.id);
        this.writeShortString('off');
        this.writeNumber(value.off);
      } else {
        this.writeValue(value, 1);
      }
    }
  }

  /** An entry read as bytes: what was not decoded or replaced is copied as it came. */
  private writeRawEntry(event: RawEntryEvent): void {
    const rawOptions = event.rawOptions;
    const options = rawOptions ? undefined : event.options;
    this.ensure(1);
    this.buf[this.pos++] = options || (rawOptions && rawOptions.length > 0) ? 0x94 : 0x93;
    this.writeString(event.tag);
    this.writeEventTime(event.time);
    const rawRecord = event.rawRecord;
    if (rawRecord) this.writeRaw(rawRecord);
    else this.writeMap(event.record, 1);
    if (rawOptions) this.writeRaw(rawOptions);
    else if (options) this.writeOptions(options);
  }

  /** EventTime: fixext8, type 0, big-endian seconds then nanoseconds. */
  writeEventTime(time: EventTime): void {
    this.ensure(10);
    const b = this.buf;
    b[this.pos] = 0xd7;
    b[this.pos + 1] = 0x00;
    b.writeUInt32BE(time.sec >>> 0, this.pos + 2);
    b.writeUInt32BE(time.nsec >>> 0, this.pos + 6);
    this.pos += 10;
  }

  /** Appends bytes that are already MessagePack (re-framing without re-encoding). */
  writeRaw(bytes: Uint8Array): void {
    this.ensure(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  writeArrayHeader(length: number): void {
    this.ensure(5);
    const b = this.buf;
    if (length < 16) {
      b[this.pos++] = 0x90 | length;
    } else if (length < 0x10000) {
      b[this.pos] = 0xdc;
      b.writeUInt16BE(length, this.pos + 1);
      this.pos += 3;
    } else {
      b[this.pos] = 0xdd;
      b.writeUInt32BE(length, this.pos + 1);
      this.pos += 5;
    }
  }

  writeMapHeader(size: number): void {
    this.ensure(5);
    const b = this.buf;
    if (size < 16) {
      b[this.pos++] = 0x80 | size;
    } else if (size < 0x10000) {
      b[this.pos] = 0xde;
      b.writeUInt16BE(size, this.pos + 1);
      this.pos += 3;
    } else {
      b[this.pos] = 0xdf;
      b.writeUInt32BE(size, this.pos + 1);
      this.pos += 5;
    }
  }

  writeBinHeader(length: number): void {
    this.ensure(5);
    const b = this.buf;
    if (length < 0x100) {
      b[this.pos] = 0xc4;
      b[this.pos + 1] = length;
      this.pos += 2;
    } else if (length < 0x10000) {
      b[this.pos] = 0xc5;
      b.writeUInt16BE(length, this.pos + 1);
      this.pos += 3;
    } else {
      b[this.pos] = 0xc6;
      b.writeUInt32BE(length, this.pos + 1);
      this.pos += 5;
    }
  }

  /**
   * `depth`: how many maps/arrays enclose `value`. A map or array that would lie deeper than
   * MAX_DEPTH is written as its JSON text (a string): a writer never emits what a logkit reader
   * refuses, and never fails on a value it was handed.
   */
  writeValue(value: unknown, depth = 0): void {
    switch (typeof value) {
      case 'string':
        this.writeString(value);
        return;
      case 'number':
        this.writeNumber(value);
        return;
      case 'boolean':
        this.ensure(1);
        this.buf[this.pos++] = value ? 0xc3 : 0xc2;
        return;
      case 'bigint':
        this.writeBigInt(value);
        return;
      case 'object':
        if (value === null) break;
        if (depth >= MAX_DEPTH && isContainer(value)) {
          this.writeString(flattenedJSON(value));
          return;
        }
        if (Array.isArray(value)) {
          this.writeArrayHeader(value.length);
          for (let i = 0; i < value.length; i++) this.writeValue(value[i], depth + 1);
        } else if (value instanceof Uint8Array) {
          this.writeBinHeader(value.length);
          this.writeRaw(value);
        } else if (value instanceof EventTime) {
          this.writeEventTime(value);
        } else if (value instanceof Map) {
          this.writeMapHeader(value.size);
          for (const [k, v] of value) {
            this.writeValue(k, depth + 1);
            this.writeValue(v, depth + 1);
          }
        } else if (value instanceof Date) {
          this.writeEventTime(EventTime.fromMillis(value.getTime()));
        } else {
          this.writeMap(value as Record<string, unknown>, depth + 1);
        }
        return;
    }
    // null, undefined, functions, symbols: nil
    this.ensure(1);
    this.buf[this.pos++] = 0xc0;
  }

  writeMap(map: Record<string, unknown>, depth: number): void {
    const keys = Object.keys(map);
    this.writeMapHeader(keys.length);
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!;
      this.writeString(key);
      this.writeValue(map[key], depth);
    }
  }

  writeNumber(n: number): void {
    this.ensure(9);
    const b = this.buf;
    const p = this.pos;
    if (Number.isInteger(n)) {
      if (n >= 0) {
        if (n < 0x80) {
          b[p] = n;
          this.pos = p + 1;
        } else if (n < 0x100) {
          b[p] = 0xcc;
          b[p + 1] = n;
          this.pos = p + 2;
        } else if (n < 0x10000) {
          b[p] = 0xcd;
          b.writeUInt16BE(n, p + 1);
          this.pos = p + 3;
        } else if (n < TWO_32) {
          b[p] = 0xce;
          b.writeUInt32BE(n, p + 1);
          this.pos = p + 5;
        } else if (n <= Number.MAX_SAFE_INTEGER) {
          b[p] = 0xcf;
          b.writeUInt32BE(Math.floor(n / TWO_32), p + 1);
          b.writeUInt32BE(n % TWO_32, p + 5);
          this.pos = p + 9;
        } else {
          this.writeFloat(n);
        }
      } else if (n >= -0x20) {
        b[p] = 0x100 + n;
        this.pos = p + 1;
      } else if (n >= -0x80) {
        b[p] = 0xd0;
        b.writeInt8(n, p + 1);
        this.pos = p + 2;
      } else if (n >= -0x8000) {
        b[p] = 0xd1;
        b.writeInt16BE(n, p + 1);
        this.pos = p + 3;
      } else if (n >= -0x80000000) {
        b[p] = 0xd2;
        b.writeInt32BE(n, p + 1);
        this.pos = p + 5;
      } else if (n >= Number.MIN_SAFE_INTEGER) {
        b[p] = 0xd3;
        b.writeBigInt64BE(BigInt(n), p + 1);
        this.pos = p + 9;
      } else {
        this.writeFloat(n);
      }
    } else {
      this.writeFloat(n);
    }
  }

  private writeFloat(n: number): void {
    this.ensure(9);
    this.buf[this.pos] = 0xcb;
    this.buf.writeDoubleBE(n, this.pos + 1);
    this.pos += 9;
  }

  private writeBigInt(n: bigint): void {
    this.ensure(9);
    if (n >= 0n && n < 2n ** 64n) {
      this.buf[this.pos] = 0xcf;
      this.buf.writeBigUInt64BE(n, this.pos + 1);
    } else if (n < 0n && n >= -(2n ** 63n)) {
      this.buf[this.pos] = 0xd3;
      this.buf.writeBigInt64BE(n, this.pos + 1);
    } else {
      // Beyond 64 bits MessagePack has no integer; keep every digit as text rather than round.
      this.writeString(n.toString());
      return;
    }
    this.pos += 9;
  }

  /**
   * A string that is usually the one written here before (an entry's tag, the source id of its
   * position): the bytes of the last one are copied rather than encoded again.
   */
  writeRepeatedString(s: string): void {
    if (s === this.lastString) return this.writeRaw(this.lastStringBytes);
    const start = this.pos;
    this.writeString(s);
    this.lastString = s;
    this.lastStringBytes = Buffer.from(this.buf.subarray(start, this.pos));
  }

  writeString(s: string): void {
    const len = s.length;
    if (len < 64) {
      this.writeShortString(s);
      return;
    }
    // Reserve the widest header the string could need, write, then close any gap.
    const maxBytes = len * 3;
    const reserved = maxBytes < 0x100 ? 2 : maxBytes < 0x10000 ? 3 : 5;
    this.ensure(reserved + maxBytes);
    const start = this.pos;
    // Buffer.write would turn a lone surrogate into U+FFFD: an escaped byte must stay that byte
    // (isWellFormed costs nothing on a one-byte string, ~50 ns on 110 characters beyond U+00FF)
    const to = start + reserved;
    const written = isWellFormed(s) ? this.buf.write(s, to) : writeEscapedUtf8(s, this.buf, to) - to;
    const header = written < 32 ? 1 : written < 0x100 ? 2 : written < 0x10000 ? 3 : 5;
    if (header < reserved) this.buf.copyWithin(start + header, start + reserved, start + reserved + written);
    this.writeStrHeaderAt(start, written, header);
    this.pos = start + header + written;
  }

  /**
   * Short strings: an inline UTF-8 loop beats a native call per string. Log values are nearly
   * always ASCII, where the header size is known from the length: write optimistically and fall
   * back to the general loop at the first non-ASCII character (no copyWithin to close a gap).
   */
  private writeShortString(s: string): void {
    const len = s.length;
    this.ensure(2 + len * 3);
    const b = this.buf;
    const start = this.pos;
    const asciiHeader = len < 32 ? 1 : 2;
    let q = start + asciiHeader;
    let i = 0;
    for (; i < len; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) break;
      b[q++] = c;
    }
    if (i === len) {
      this.writeStrHeaderAt(start, len, asciiHeader);
      this.pos = q;
      return;
    }
    this.writeShortStringUTF8(s, start);
  }

  private writeShortStringUTF8(s: string, start: number): void {
    const len = s.length;
    const b = this.buf;
    // up to 63 chars * 3 bytes = 189 bytes: str8 at most; fixstr when it fits in 31
    const reserved = len * 3 < 32 ? 1 : 2;
    const p = writeEscapedUtf8(s, b, start + reserved);
    const written = p - start - reserved;
    const header = written < 32 ? 1 : 2;
    if (header < reserved) b.copyWithin(start + header, start + reserved, p);
    this.writeStrHeaderAt(start, written, header);
    this.pos = start + header + written;
  }

  private writeStrHeaderAt(at: number, length: number, header: number): void {
    const b = this.buf;
    if (header === 1) {
      b[at] = 0xa0 | length;
    } else if (header === 2) {
      b[at] = 0xd9;
      b[at + 1] = length;
    } else if (header === 3) {
      b[at] = 0xda;
      b.writeUInt16BE(length, at + 1);
    } else {
      b[at] = 0xdb;
      b.writeUInt32BE(length, at + 1);
    }
  }

  private ensure(extra: number): void {
    const need = this.pos + extra;
    if (need <= this.buf.length) return;
    const grown = Buffer.allocUnsafe(Math.max(need, this.buf.length * 2, this.initialSize));
    this.buf.copy(grown, 0, 0, this.pos);
    this.buf = grown;
  }
}

/** `{id: string, off: number}`, in that order and nothing else (a plain object, as positions are made). */
function isPosition(value: unknown): value is { id: string; off: number } {
  if (typeof value !== 'object' || value === null || Object.getPrototypeOf(value) !== Object.prototype) return false;
  const position = value as { id?: unknown; off?: unknown };
  if (typeof position.id !== 'string' || typeof position.off !== 'number') return false;
  let keys = 0;
  for (const key in value) if (key !== (keys++ === 0 ? 'id' : 'off')) return false;
  return keys === 2;
}

function isContainer(value: object): boolean {
  return Array.isArray(value) || value instanceof Map || !(value instanceof Uint8Array || value instanceof EventTime || value instanceof Date);
}

/** Encodes one batch of events as a single buffer of Message-mode entries. */
export function encodeEntries(events: readonly LogEvent[], writer = new MsgpackWriter()): Buffer {
  for (let i = 0; i < events.length; i++) writer.writeEntry(events[i]!);
  return writer.take();
}
