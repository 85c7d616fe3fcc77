import { isUtf8 } from 'node:buffer';
import { INCOMPLETE, MAX_PLAIN_DEPTH, UNUSUAL } from './msgpack-plain.js';

/**
 * MessagePack → JSON text, byte to byte, without building the value: what `valueToJSON` (in
 * ndjson.ts) writes for the value msgpackr would decode, for plain values (msgpack-plain.ts).
 * Where the object path's JSON would not follow the byte order (an integer-like key, which JS
 * orders first, a duplicate or `__proto__` key) or would hold replacement characters (invalid
 * UTF-8), and for anything not plain, it throws UNUSUAL, and the caller takes the object path
 * instead, so the output is always the object path's.
 */

const HEX = '0123456789abcdef';
const SHORT_ESCAPES: Record<number, number> = { 0x08: 0x62, 0x09: 0x74, 0x0a: 0x6e, 0x0c: 0x66, 0x0d: 0x72, 0x22: 0x22, 0x5c: 0x5c };

/** A growable output buffer; a full one is left to the lines already in it and a new one begun. */
export class JsonOutput {
  buf: Buffer;
  len = 0;

  constructor(private readonly blockBytes = 256 * 1024) {
    this.buf = Buffer.allocUnsafe(blockBytes);
  }

  /**
   * Room for `n` more bytes. Bytes from `keepFrom` on (the line being written) move to a new
   * buffer when the current one is full; earlier lines stay where they are, in the old buffer.
   * Returns the new offset of `keepFrom`.
   */
  reserve(n: number, keepFrom: number): number {
    if (this.len + n <= this.buf.length) return keepFrom;
    const kept = this.len - keepFrom;
    const next = Buffer.allocUnsafe(Math.max(this.blockBytes, (kept + n) * 2));
    this.buf.copy(next, 0, keepFrom, this.len);
    this.buf = next;
    this.len = kept;
    return 0;
  }

  ascii(text: string): void {
    const buf = this.buf;
    let len = this.len;
    for (let i = 0; i < text.length; i++) buf[len++] = text.charCodeAt(i);
    this.len = len;
  }
}

/** Scratch for duplicate-key checks: key hashes of the maps being walked, innermost last. */
let keyHashes = new Int32Array(1024);

/**
 * Writes the JSON of the MessagePack value at `src[pos]` (which ends before `end`) to `out`,
 * starting the line at `lineStart` of out's buffer (moved when the buffer fills: see
 * JsonOutput.reserve). Returns the position after the value. Throws UNUSUAL or INCOMPLETE.
 */
export class MsgpackJsonTranscoder {
  /** Where the line being written starts in `out.buf`. */
  lineStart = 0;
  private hashTop = 0;

  constructor(readonly out: JsonOutput) {}

  value(src: Buffer, pos: number, end: number, depth: number): number {
    if (pos >= end) throw INCOMPLETE;
    const b = src[pos]!;
    if (b <= 0x7f) {
      this.smallInt(b);
      return pos + 1;
    }
    if (b <= 0x8f) return this.map(src, pos + 1, end, b & 0x0f, depth);
    if (b <= 0x9f) return this.array(src, pos + 1, end, b & 0x0f, depth);
    if (b <= 0xbf) return this.string(src, pos + 1, end, b & 0x1f);
    if (b >= 0xe0) {
      this.number(b - 0x100);
      return pos + 1;
    }
    switch (b) {
      case 0xc0:
        this.literal('null');
        return pos + 1;
      case 0xc2:
        this.literal('false');
        return pos + 1;
      case 0xc3:
        this.literal('true');
        return pos + 1;
      case 0xc4:
        need(pos + 2, end);
        return this.binary(src, pos + 2, end, src[pos + 1]!);
      case 0xc5:
        need(pos + 3, end);
        return this.binary(src, pos + 3, end, src.readUInt16BE(pos + 1));
      case 0xc6:
        need(pos + 5, end);
        return this.binary(src, pos + 5, end, src.readUInt32BE(pos + 1));
      case 0xca:
        need(pos + 5, end);
        this.number(src.readFloatBE(pos + 1));
        return pos + 5;
      case 0xcb:
        need(pos + 9, end);
        this.number(src.readDoubleBE(pos + 1));
        return pos + 9;
      case 0xcc:
        need(pos + 2, end);
        this.smallInt(src[pos + 1]!);
        return pos + 2;
      case 0xcd:
        need(pos + 3, end);
        this.number(src.readUInt16BE(pos + 1));
        return pos + 3;
      case 0xce:
        need(pos + 5, end);
        this.number(src.readUInt32BE(pos + 1));
        return pos + 5;
      case 0xcf:
        need(pos + 9, end);
        // msgpackr: a number up to 2^53, a bigint beyond; either is written as its digits
        this.text(src.readBigUInt64BE(pos + 1).toString());
        return pos + 9;
      case 0xd0:
        need(pos + 2, end);
        this.number(src.readInt8(pos + 1));
        return pos + 2;
      case 0xd1:
        need(pos + 3, end);
        this.number(src.readInt16BE(pos + 1));
        return pos + 3;
      case 0xd2:
        need(pos + 5, end);
        this.number(src.readInt32BE(pos + 1));
        return pos + 5;
      case 0xd3:
        need(pos + 9, end);
        this.text(src.readBigInt64BE(pos + 1).toString());
        return pos + 9;
      case 0xd9:
        need(pos + 2, end);
        return this.string(src, pos + 2, end, src[pos + 1]!);
      case 0xda:
        need(pos + 3, end);
        return this.string(src, pos + 3, end, src.readUInt16BE(pos + 1));
      case 0xdb:
        need(pos + 5, end);
        return this.string(src, pos + 5, end, src.readUInt32BE(pos + 1));
      case 0xdc:
        need(pos + 3, end);
        return this.array(src, pos + 3, end, src.readUInt16BE(pos + 1), depth);
      case 0xdd:
        need(pos + 5, end);
        return this.array(src, pos + 5, end, src.readUInt32BE(pos + 1), depth);
      case 0xde:
        need(pos + 3, end);
        return this.map(src, pos + 3, end, src.readUInt16BE(pos + 1), depth);
      case 0xdf:
        need(pos + 5, end);
        return this.map(src, pos + 5, end, src.readUInt32BE(pos + 1), depth);
      default:
        // extension values (EventTime, timestamps, …) and the reserved 0xc1
        throw UNUSUAL;
    }
  }

  private map(src: Buffer, pos: number, end: number, count: number, depth: number): number {
    if (depth >= MAX_PLAIN_DEPTH) throw UNUSUAL;
    if (count > (end - pos) / 2) throw INCOMPLETE;
    this.put(0x7b); // {
    const base = this.hashTop;
    if (base + count > keyHashes.length) {
      const grown = new Int32Array(Math.max(keyHashes.length * 2, base + count));
      grown.set(keyHashes);
      keyHashes = grown;
    }
    for (let i = 0; i < count; i++) {
      if (i > 0) this.put(0x2c); // ,
      if (pos >= end) throw INCOMPLETE;
      const k = src[pos]!;
      let from: number;
      let length: number;
      if (k >= 0xa0 && k <= 0xbf) {
        from = pos + 1;
        length = k & 0x1f;
      } else if (k === 0xd9) {
        need(pos + 2, end);
        from = pos + 2;
        length = src[pos + 1]!;
      } else if (k === 0xda) {
        need(pos + 3, end);
        from = pos + 3;
        length = src.readUInt16BE(pos + 1);
      } else if (k === 0xdb) {
        need(pos + 5, end);
        from = pos + 5;
        length = src.readUInt32BE(pos + 1);
      } else {
        throw UNUSUAL; // a number, nil or boolean key becomes a string key in the object path
      }
      if (length > 0 && src[from]! >= 0x30 && src[from]! <= 0x39 && isArrayIndex(src, from, length)) throw UNUSUAL; // JS puts these keys first
      if (length === 9 && src.toString('latin1', from, from + 9) === '__proto__') throw UNUSUAL;
      const hash = this.quoted(src, from, end, length);
      for (let j = base; j < base + i; j++) if (keyHashes[j] === hash) throw UNUSUAL; // the last of a repeated key wins, in the first one's place
      keyHashes[base + i] = hash;
      this.put(0x3a); // :
      this.hashTop = base + i + 1;
      pos = this.value(src, from + length, end, depth + 1);
    }
    this.hashTop = base;
    this.put(0x7d); // }
    return pos;
  }

  private array(src: Buffer, pos: number, end: number, count: number, depth: number): number {
    if (depth >= MAX_PLAIN_DEPTH) throw UNUSUAL;
    if (count > end - pos) throw INCOMPLETE;
    this.put(0x5b); // [
    for (let i = 0; i < count; i++) {
      if (i > 0) this.put(0x2c);
      pos = this.value(src, pos, end, depth + 1);
    }
    this.put(0x5d); // ]
    return pos;
  }

  private string(src: Buffer, from: number, end: number, length: number): number {
    this.quoted(src, from, end, length);
    return from + length;
  }

  /** Writes `src[from, from+length)` as a JSON string, as JSON.stringify escapes it; returns a hash of the bytes. */
  private quoted(src: Buffer, from: number, end: number, length: number): number {
    const to = from + length;
    if (to > end) throw INCOMPLETE;
    const out = this.out;
    // worst case: every byte a \u00XX escape
    this.lineStart = out.reserve(length * 6 + 2, this.lineStart);
    const buf = out.buf;
    let len = out.len;
    buf[len++] = 0x22;
    let hash = 0x811c9dc5 | 0;
    let high = false;
    for (let i = from; i < to; i++) {
      const c = src[i]!;
      hash = Math.imul(hash ^ c, 0x01000193);
      if (c >= 0x20 && c !== 0x22 && c !== 0x5c) {
        if (c >= 0x80) high = true;
        buf[len++] = c;
        continue;
      }
      buf[len++] = 0x5c; // backslash
      const short = SHORT_ESCAPES[c];
      if (short !== undefined) {
        buf[len++] = short;
      } else {
        buf[len++] = 0x75; // u00XX
        buf[len++] = 0x30;
        buf[len++] = 0x30;
        buf[len++] = HEX.charCodeAt(c >> 4);
        buf[len++] = HEX.charCodeAt(c & 0x0f);
      }
    }
    // invalid UTF-8 decodes to replacement characters, which the object path writes
    if (high && !isUtf8(src.subarray(from, to))) throw UNUSUAL;
    buf[len++] = 0x22;
    out.len = len;
    return hash;
  }

  private binary(src: Buffer, from: number, end: number, length: number): number {
    const to = from + length;
    if (to > end) throw INCOMPLETE;
    this.text(`{"$base64":"${src.toString('base64', from, to)}"}`);
    return to;
  }

  private smallInt(n: number): void {
    this.lineStart = this.out.reserve(3, this.lineStart);
    const buf = this.out.buf;
    if (n >= 100) buf[this.out.len++] = 0x30 + Math.floor(n / 100);
    if (n >= 10) buf[this.out.len++] = 0x30 + (Math.floor(n / 10) % 10);
    buf[this.out.len++] = 0x30 + (n % 10);
  }

  private number(n: number): void {
    if (Number.isInteger(n) && n >= 0 && n < 1000) this.smallInt(n);
    else if (Number.isSafeInteger(n)) this.integer(n);
    else if (Number.isFinite(n)) this.text(String(n));
    else throw UNUSUAL; // NaN and ±Infinity, which JSON cannot hold: the object path's rule decides
  }

  /** A safe integer's digits, written in place: String(n) would make a string per number. */
  private integer(n: number): void {
    this.lineStart = this.out.reserve(17, this.lineStart);
    const buf = this.out.buf;
    let len = this.out.len;
    if (n < 0) {
      buf[len++] = 0x2d; // -
      n = -n;
    }
    let digits = 1;
    for (let m = n; m >= 10; m = Math.floor(m / 10)) digits++;
    for (let i = len + digits - 1; i >= len; i--) {
      buf[i] = 0x30 + (n % 10);
      n = Math.floor(n / 10);
    }
    this.out.len = len + digits;
  }

  private literal(text: string): void {
    this.text(text);
  }

  /** ASCII text (digits, literals, base64). */
  text(text: string): void {
    this.lineStart = this.out.reserve(text.length, this.lineStart);
    this.out.ascii(text);
  }

  put(byte: number): void {
    this.lineStart = this.out.reserve(1, this.lineStart);
    this.out.buf[this.out.len++] = byte;
  }

  /** Writes pre-encoded bytes (a quoted tag). */
  bytes(bytes: Buffer): void {
    this.lineStart = this.out.reserve(bytes.length, this.lineStart);
    bytes.copy(this.out.buf, this.out.len);
    this.out.len += bytes.length;
  }

  /** Forgets a line given up half-way (UNUSUAL or INCOMPLETE). */
  abandonLine(): void {
    this.out.len = this.lineStart;
    this.hashTop = 0;
  }
}

/** A key JS treats as an array index ("0", "17", up to 2^32 - 2), which objects order before the others. */
function isArrayIndex(src: Buffer, from: number, length: number): boolean {
  if (length > 10 || (length > 1 && src[from] === 0x30)) return false;
  let n = 0;
  for (let i = from; i < from + length; i++) {
    const c = src[i]!;
    if (c < 0x30 || c > 0x39) return false;
    n = n * 10 + (c - 0x30);
  }
  return n <= 2 ** 32 - 2;
}

function need(to: number, end: number): void {
  if (to > end) throw INCOMPLETE;
}
