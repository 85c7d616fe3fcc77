/**
 * "Plain" MessagePack: the values a log record is made of (maps with string keys, arrays,
 * strings, binary, numbers, booleans, nil), which msgpackr decodes without surprises. The byte
 * paths (msgpack-to-json.ts, raw-entry-event.ts) handle plain values alone and leave the rest
 * (extension values, other map keys, very deep nesting) to the object path, whose decoder then
 * decides, so both paths accept and refuse exactly the same input.
 */

/** The bytes need the object path. */
export const UNUSUAL = Symbol('unusual');
/** The value runs past the end of the bytes given. */
export const INCOMPLETE = Symbol('incomplete');

/**
 * Deeper values take the object path, so its depth rules (the reader's limit, the writers'
 * flattening) stay the only ones; well below them, since logs seldom nest this deep.
 */
export const MAX_PLAIN_DEPTH = 32;

/** The end of the plain value at `buf[pos]`; throws UNUSUAL or INCOMPLETE. */
export function plainValueEnd(buf: Buffer, pos: number, end: number, depth: number): number {
  if (pos >= end) throw INCOMPLETE;
  const b = buf[pos]!;
  if (b <= 0x7f || b >= 0xe0 || b === 0xc0 || b === 0xc2 || b === 0xc3) return pos + 1;
  if (b <= 0x8f) return plainMapEnd(buf, pos + 1, end, b & 0x0f, depth);
  if (b <= 0x9f) return plainArrayEnd(buf, pos + 1, end, b & 0x0f, depth);
  if (b <= 0xbf) return within(pos + 1 + (b & 0x1f), end);
  switch (b) {
    case 0xc4:
    case 0xd9:
      return within(pos + 2 + byteAt(buf, pos + 1, end), end);
    case 0xc5:
    case 0xda:
      return within(pos + 3 + uint16At(buf, pos + 1, end), end);
    case 0xc6:
    case 0xdb:
      return within(pos + 5 + uint32At(buf, pos + 1, end), end);
    case 0xcc:
    case 0xd0:
      return within(pos + 2, end);
    case 0xcd:
    case 0xd1:
      return within(pos + 3, end);
    case 0xca:
    case 0xce:
    case 0xd2:
      return within(pos + 5, end);
    case 0xcb:
    case 0xcf:
    case 0xd3:
      return within(pos + 9, end);
    case 0xdc:
      return plainArrayEnd(buf, pos + 3, end, uint16At(buf, pos + 1, end), depth);
    case 0xdd:
      return plainArrayEnd(buf, pos + 5, end, uint32At(buf, pos + 1, end), depth);
    case 0xde:
      return plainMapEnd(buf, pos + 3, end, uint16At(buf, pos + 1, end), depth);
    case 0xdf:
      return plainMapEnd(buf, pos + 5, end, uint32At(buf, pos + 1, end), depth);
    default:
      throw UNUSUAL; // extension values and the reserved 0xc1
  }
}

function plainMapEnd(buf: Buffer, pos: number, end: number, count: number, depth: number): number {
  if (depth >= MAX_PLAIN_DEPTH) throw UNUSUAL;
  if (count > (end - pos) / 2) throw INCOMPLETE;
  for (let i = 0; i < count; i++) {
    pos = stringEnd(buf, pos, end);
    pos = plainValueEnd(buf, pos, end, depth + 1);
  }
  return pos;
}

function plainArrayEnd(buf: Buffer, pos: number, end: number, count: number, depth: number): number {
  if (depth >= MAX_PLAIN_DEPTH) throw UNUSUAL;
  if (count > end - pos) throw INCOMPLETE;
  for (let i = 0; i < count; i++) pos = plainValueEnd(buf, pos, end, depth + 1);
  return pos;
}

/** The end of the string at `pos` (a map key); UNUSUAL for anything but a string. */
export function stringEnd(buf: Buffer, pos: number, end: number): number {
  const [from, length] = stringSpan(buf, pos, end);
  return within(from + length, end);
}

/** Where the string at `pos` starts and how long it is; UNUSUAL for anything but a string. */
export function stringSpan(buf: Buffer, pos: number, end: number): [number, number] {
  if (pos >= end) throw INCOMPLETE;
  const k = buf[pos]!;
  if (k >= 0xa0 && k <= 0xbf) return [pos + 1, k & 0x1f];
  if (k === 0xd9) return [pos + 2, byteAt(buf, pos + 1, end)];
  if (k === 0xda) return [pos + 3, uint16At(buf, pos + 1, end)];
  if (k === 0xdb) return [pos + 5, uint32At(buf, pos + 1, end)];
  throw UNUSUAL;
}

function within(to: number, end: number): number {
  if (to > end) throw INCOMPLETE;
  return to;
}

function byteAt(buf: Buffer, pos: number, end: number): number {
  if (pos + 1 > end) throw INCOMPLETE;
  return buf[pos]!;
}

function uint16At(buf: Buffer, pos: number, end: number): number {
  if (pos + 2 > end) throw INCOMPLETE;
  return buf.readUInt16BE(pos);
}

function uint32At(buf: Buffer, pos: number, end: number): number {
  if (pos + 4 > end) throw INCOMPLETE;
  return buf.readUInt32BE(pos);
}
