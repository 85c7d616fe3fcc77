/**
 * MessagePack framing for the forward protocol, written by hand on purpose:
 *
 * - A request is one top-level msgpack value that may arrive in many TCP segments. FrameScanner
 *   finds where it ends, RESUMABLY (it never rescans bytes it has seen, so a 32 MiB request in 64 KiB
 *   segments costs O(n), not O(n²)), and enforces the limits an attacker could otherwise push:
 *   declared lengths, element counts and nesting depth are checked from the headers alone,
 *   before any byte of payload is buffered beyond the request limit.
 * - The outer request is then read element by element (spans), so that the PackedForward payload,
 *   handshake salts and the `chunk` option are taken as RAW BYTES — msgpackr would decode a str
 *   as UTF-8, destroying binary entries sent as str (Fluentd) and raw-byte nonces (Fluent Bit).
 *   Inner values (records) are decoded with msgpackr once validated.
 */

/** A peer sent bytes that are not a valid request; the connection is closed. */
export class ProtocolError extends Error {
  override readonly name: string = 'ProtocolError';
}

/** A request larger than the configured limit; the server rejects it explicitly, then closes. */
export class OversizeError extends ProtocolError {
  override readonly name = 'OversizeError';
  constructor(
    readonly limit: number,
    readonly declared: number,
    message = `request of ${declared} bytes or more exceeds the limit of ${limit} bytes`,
  ) {
    super(message);
  }
}

/** Result of reading one value header (reused, no allocation per value). */
interface Head {
  /** Bytes of the header (type byte + length fields). */
  len: number;
  /** Bytes of payload following the header (str/bin/ext data, scalar bodies). */
  payload: number;
  /** Child values that follow (array elements, or 2 per map entry). */
  children: number;
}

const head: Head = { len: 0, payload: 0, children: 0 };

/** Reads the header at `pos`; false when the header itself is not complete yet. Throws on 0xc1. */
function readHead(buf: Uint8Array, pos: number, end: number): boolean {
  const avail = end - pos;
  if (avail < 1) return false;
  const b = buf[pos]!;
  head.children = 0;
  head.payload = 0;
  if (b <= 0x7f || b >= 0xe0) {
    head.len = 1;
    return true;
  }
  if (b <= 0x8f) {
    head.len = 1;
    head.children = (b & 0x0f) * 2;
    return true;
  }
  if (b <= 0x9f) {
    head.len = 1;
    head.children = b & 0x0f;
    return true;
  }
  if (b <= 0xbf) {
    head.len = 1;
    head.payload = b & 0x1f;
    return true;
  }
  const need = (n: number): boolean => avail >= n;
  switch (b) {
    case 0xc0:
    case 0xc2:
    case 0xc3:
      head.len = 1;
      return true;
    case 0xc1:
      throw new ProtocolError('invalid MessagePack: the never-used type byte 0xc1');
    case 0xc4:
    case 0xd9:
      if (!need(2)) return false;
      head.len = 2;
      head.payload = buf[pos + 1]!;
      return true;
    case 0xc5:
    case 0xda:
      if (!need(3)) return false;
      head.len = 3;
      head.payload = (buf[pos + 1]! << 8) | buf[pos + 2]!;
      return true;
    case 0xc6:
    case 0xdb:
      if (!need(5)) return false;
      head.len = 5;
      head.payload = u32(buf, pos + 1);
      return true;
    case 0xc7:
      if (!need(3)) return false;
      head.len = 3;
      head.payload = buf[pos + 1]!;
      return true;
    case 0xc8:
      if (!need(4)) return false;
      head.len = 4;
      head.payload = (buf[pos + 1]! << 8) | buf[pos + 2]!;
      return true;
    case 0xc9:
      if (!need(6)) return false;
      head.len = 6;
      head.payload = u32(buf, pos + 1);
      return true;
    case 0xca:
      head.len = 1;
      head.payload = 4;
      return true;
    case 0xcb:
      head.len = 1;
      head.payload = 8;
      return true;
    case 0xcc:
    case 0xd0:
      head.len = 1;
      head.payload = 1;
      return true;
    case 0xcd:
    case 0xd1:
      head.len = 1;
      head.payload = 2;
      return true;
    case 0xce:
    case 0xd2:
      head.len = 1;
      head.payload = 4;
      return true;
    case 0xcf:
    case 0xd3:
      head.len = 1;
      head.payload = 8;
      return true;
    case 0xd4:
      head.len = 2;
      head.payload = 1;
      return true;
    case 0xd5:
      head.len = 2;
      head.payload = 2;
      return true;
    case 0xd6:
      head.len = 2;
      head.payload = 4;
      return true;
    case 0xd7:
      head.len = 2;
      head.payload = 8;
      return true;
    case 0xd8:
      head.len = 2;
      head.payload = 16;
      return true;
    case 0xdc:
      if (!need(3)) return false;
      head.len = 3;
      head.children = (buf[pos + 1]! << 8) | buf[pos + 2]!;
      return true;
    case 0xdd:
      if (!need(5)) return false;
      head.len = 5;
      head.children = u32(buf, pos + 1);
      return true;
    case 0xde:
      if (!need(3)) return false;
      head.len = 3;
      head.children = ((buf[pos + 1]! << 8) | buf[pos + 2]!) * 2;
      return true;
    case 0xdf:
      if (!need(5)) return false;
      head.len = 5;
      head.children = u32(buf, pos + 1) * 2;
      return true;
  }
  throw new ProtocolError(`invalid MessagePack type byte 0x${b.toString(16)}`); // unreachable: every byte is covered
}

function u32(buf: Uint8Array, pos: number): number {
  return ((buf[pos]! << 24) >>> 0) + (buf[pos + 1]! << 16) + (buf[pos + 2]! << 8) + buf[pos + 3]!;
}

export interface ScanLimits {
  /** The largest value (request) accepted, in bytes. */
  maxBytes: number;
  /** The deepest nesting of arrays/maps accepted. */
  maxDepth: number;
}

/**
 * Finds the end of one msgpack value in a growing buffer, resumably. Call `scan(buf)` with the
 * buffer starting at the value's first byte each time more bytes arrived; it continues where it
 * stopped. Returns the value's length once complete (then call again for the next value, with
 * the buffer advanced), or -1 when more bytes are needed.
 */
export class FrameScanner {
  private pos = 0;
  /** Remaining child values of each open array/map. */
  private readonly stack: number[] = [];

  constructor(private readonly limits: ScanLimits) {}

  /** Bytes of the current value already scanned (0 between values). */
  get scanned(): number {
    return this.pos;
  }

  scan(buf: Uint8Array, end = buf.length): number {
    const { maxBytes, maxDepth } = this.limits;
    const stack = this.stack;
    let pos = this.pos;
    for (;;) {
      if (!readHead(buf, pos, end)) break;
      if (head.children > 0) {
        // every child takes at least one byte: a count beyond the limit is an oversize request
        if (pos + head.len + head.children > maxBytes) throw new OversizeError(maxBytes, pos + head.len + head.children);
        if (stack.length >= maxDepth) throw new ProtocolError(`values nested deeper than ${maxDepth} levels`);
        stack.push(head.children);
        pos += head.len;
        continue;
      }
      const valueEnd = pos + head.len + head.payload;
      if (valueEnd > maxBytes) throw new OversizeError(maxBytes, valueEnd);
      if (valueEnd > end) break;
      pos = valueEnd;
      let top = stack.length - 1;
      while (top >= 0 && --stack[top]! === 0) {
        stack.pop();
        top--;
      }
      if (top < 0) {
        this.pos = 0;
        return pos;
      }
    }
    this.pos = pos;
    if (pos >= maxBytes) throw new OversizeError(maxBytes, pos + 1);
    return -1;
  }

  reset(): void {
    this.pos = 0;
    this.stack.length = 0;
  }
}

/**
 * Validates that `buf` is a sequence of complete msgpack values within the limits (a PackedForward
 * payload) and returns how many there are. Throws ProtocolError when it is not.
 */
export function countValues(buf: Uint8Array, limits: ScanLimits): number {
  return valueBoundaries(buf, limits, Infinity).count;
}

/**
 * Validates a sequence of values like countValues and also returns the offsets that cut it into
 * slices of at most `every` values (the last offset is buf.length), so a huge payload can be
 * decoded and handed on a slice at a time.
 */
export function valueBoundaries(buf: Uint8Array, limits: ScanLimits, every: number): { count: number; cuts: number[] } {
  // one pass, no allocation per value: remaining children per open container on a small stack
  const cuts: number[] = [];
  const stack: number[] = [];
  const end = buf.length;
  let pos = 0;
  let count = 0;
  while (pos < end) {
    if (!readHead(buf, pos, end)) throw new ProtocolError(`truncated entries: ${end - pos} bytes at the end are not a complete value`);
    if (head.children > 0) {
      if (pos + head.len + head.children > end) throw new ProtocolError('truncated entries: a container declares more elements than there are bytes');
      if (stack.length >= limits.maxDepth) throw new ProtocolError(`values nested deeper than ${limits.maxDepth} levels`);
      stack.push(head.children);
      pos += head.len;
      continue;
    }
    pos += head.len + head.payload;
    if (pos > end) throw new ProtocolError('truncated entries: a value runs past the end');
    let top = stack.length - 1;
    while (top >= 0 && --stack[top]! === 0) {
      stack.pop();
      top--;
    }
    if (top < 0 && ++count % every === 0) cuts.push(pos);
  }
  if (stack.length > 0) throw new ProtocolError('truncated entries: the last value is incomplete');
  if (cuts[cuts.length - 1] !== end) cuts.push(end);
  return { count, cuts };
}

// ------------------------------------------------------ reading a complete, validated value

/** End offset of the (complete) value at `pos`. */
export function skipValue(buf: Uint8Array, pos: number): number {
  let remaining = 1;
  while (remaining > 0) {
    if (!readHead(buf, pos, buf.length)) throw new ProtocolError('truncated value');
    remaining += head.children - 1;
    pos += head.len + head.payload;
    if (pos > buf.length) throw new ProtocolError('truncated value');
  }
  return pos;
}

export type ValueKind = 'nil' | 'boolean' | 'integer' | 'float' | 'string' | 'binary' | 'array' | 'map' | 'extension';

export function kindAt(buf: Uint8Array, pos: number): ValueKind {
  const b = buf[pos]!;
  if (b <= 0x7f || b >= 0xe0 || (b >= 0xcc && b <= 0xd3)) return 'integer';
  if (b <= 0x8f || b === 0xde || b === 0xdf) return 'map';
  if (b <= 0x9f || b === 0xdc || b === 0xdd) return 'array';
  if (b <= 0xbf || (b >= 0xd9 && b <= 0xdb)) return 'string';
  if (b === 0xc0) return 'nil';
  if (b === 0xc2 || b === 0xc3) return 'boolean';
  if (b >= 0xc4 && b <= 0xc6) return 'binary';
  if (b === 0xca || b === 0xcb) return 'float';
  return 'extension';
}

export function readArrayHeader(buf: Uint8Array, pos: number): { count: number; pos: number } {
  if (kindAt(buf, pos) !== 'array' || !readHead(buf, pos, buf.length)) throw new ProtocolError('expected an array');
  return { count: head.children, pos: pos + head.len };
}

/** [start, end) of each of `count` consecutive values starting at `pos`. */
export function elementSpans(buf: Uint8Array, pos: number, count: number): Array<[number, number]> {
  const spans: Array<[number, number]> = [];
  for (let i = 0; i < count; i++) {
    const end = skipValue(buf, pos);
    spans.push([pos, end]);
    pos = end;
  }
  return spans;
}

/** The payload span of a str or bin value at `pos` (undefined for other kinds). */
export function bytesSpan(buf: Uint8Array, pos: number): [number, number] | undefined {
  const kind = kindAt(buf, pos);
  if (kind !== 'string' && kind !== 'binary') return undefined;
  if (!readHead(buf, pos, buf.length)) return undefined;
  const start = pos + head.len;
  return [start, start + head.payload];
}

/** The raw bytes of a str or bin value (copied), without any UTF-8 decoding. */
export function readBytes(buf: Uint8Array, pos: number): Buffer | undefined {
  const span = bytesSpan(buf, pos);
  return span ? Buffer.from(buf.subarray(span[0], span[1])) : undefined;
}

export function readBoolean(buf: Uint8Array, pos: number): boolean | undefined {
  const b = buf[pos];
  return b === 0xc3 ? true : b === 0xc2 ? false : undefined;
}

/** A non-negative integer value at `pos` (up to 2^53), else undefined. */
export function readUInt(buf: Uint8Array, pos: number): number | undefined {
  const b = buf[pos]!;
  if (b <= 0x7f) return b;
  const view = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  switch (b) {
    case 0xcc:
      return buf[pos + 1];
    case 0xcd:
      return view.readUInt16BE(pos + 1);
    case 0xce:
      return view.readUInt32BE(pos + 1);
    case 0xcf: {
      const n = view.readBigUInt64BE(pos + 1);
      return n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : undefined;
    }
    case 0xd0:
    case 0xd1:
    case 0xd2:
    case 0xd3: {
      const n = b === 0xd0 ? view.readInt8(pos + 1) : b === 0xd1 ? view.readInt16BE(pos + 1) : b === 0xd2 ? view.readInt32BE(pos + 1) : Number(view.readBigInt64BE(pos + 1));
      return n >= 0 ? n : undefined;
    }
  }
  return undefined;
}

/** Spans of a map's values by key (string keys only, decoded as UTF-8; other keys are skipped). */
export function readMapSpans(buf: Uint8Array, pos: number): Map<string, [number, number]> {
  if (kindAt(buf, pos) !== 'map' || !readHead(buf, pos, buf.length)) throw new ProtocolError('expected a map');
  const entries = head.children / 2;
  pos += head.len;
  const out = new Map<string, [number, number]>();
  for (let i = 0; i < entries; i++) {
    const keyEnd = skipValue(buf, pos);
    const valueEnd = skipValue(buf, keyEnd);
    const key = bytesSpan(buf, pos);
    if (key) out.set(Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength).toString('utf8', key[0], key[1]), [keyEnd, valueEnd]);
    pos = valueEnd;
  }
  return out;
}
