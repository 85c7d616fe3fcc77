/**
 * The fast path of PackedForward: turning a MessagePackEventStream (`[time, record]` entries)
 * into logkit's stream (Message-mode entries `[tag, time, record]`) WITHOUT decoding records:
 * each record's bytes are validated by their headers and copied. Decoding into objects and
 * encoding back was most of receive's CPU; this path is used when the output is MessagePack and
 * no field is added to records.
 *
 * What is validated, so the output is always a stream the next stage decodes: the entry shape,
 * the time (integer < 2^32, float, EventTime, or v1.5 `[time, {metadata}]`), that the record is
 * a map, nesting depth, that every value is complete, and that every extension value anywhere is
 * an EventTime (type 0, 8 bytes) — any other extension type would make the next stage fail.
 * Times are always written as EventTime; non-empty v1.5 metadata goes to the options map as
 * `{metadata}`, and the entry's identity (when the caller gives one) as `{src}`, exactly as the
 * decoding path does.
 */
import { EventTime } from '../event/event-time.js';
import { MsgpackWriter } from '../codec/msgpack-writer.js';
import { ProtocolError, readUInt, type ScanLimits } from './frame.js';
import type { Identity } from './identity-option.js';

const u16 = (buf: Uint8Array, at: number): number => (buf[at]! << 8) | buf[at + 1]!;
const u32 = (buf: Uint8Array, at: number): number => buf[at]! * 0x1000000 + ((buf[at + 1]! << 16) | (buf[at + 2]! << 8) | buf[at + 3]!);

function truncated(): ProtocolError {
  return new ProtocolError('truncated entries: a value runs past the end');
}

// checkedEnd's stacks, reused: it runs for every value of every entry, synchronously and never
// nested, and two fresh arrays per value were a good part of receive's garbage
const stack: number[] = [];
const mapStack: boolean[] = [];

/** End of the value at `pos`, validating completeness, depth and extension types. */
function checkedEnd(buf: Uint8Array, pos: number, end: number, maxDepth: number): number {
  let remaining = 1;
  let inMap = false;
  let top = 0; // entries used in stack and mapStack
  while (remaining > 0 || top > 0) {
    if (remaining === 0) {
      top--;
      remaining = stack[top]!;
      inMap = mapStack[top]!;
      continue;
    }
    if (pos >= end) throw new ProtocolError('truncated entries: a value runs past the end');
    const b = buf[pos]!;
    // a map key must decode to an object property: a string, number, boolean or nil
    if (inMap && remaining % 2 === 0 && !(b <= 0x7f || b >= 0xe0 || (b >= 0xa0 && b <= 0xc3) || (b >= 0xca && b <= 0xd3) || (b >= 0xd9 && b <= 0xdb))) {
      throw new ProtocolError('a map key that is not a string or number');
    }
    remaining--;
    let children = 0;
    let skip = 0;
    if (b <= 0x7f || b >= 0xe0 || b === 0xc0 || b === 0xc2 || b === 0xc3) skip = 1;
    else if (b <= 0x8f) {
      children = (b & 0x0f) * 2;
      skip = 1;
    } else if (b <= 0x9f) {
      children = b & 0x0f;
      skip = 1;
    } else if (b <= 0xbf) skip = 1 + (b & 0x1f);
    else {
      // the bytes a header needs must be there before it is read
      const need = (n: number): void => {
        if (pos + n > end) throw truncated();
      };
      switch (b) {
        case 0xc4:
        case 0xd9:
          need(2);
          skip = 2 + buf[pos + 1]!;
          break;
        case 0xc5:
        case 0xda:
          need(3);
          skip = 3 + u16(buf, pos + 1);
          break;
        case 0xc6:
        case 0xdb:
          need(5);
          skip = 5 + u32(buf, pos + 1);
          break;
        case 0xca:
          skip = 5;
          break;
        case 0xcb:
          skip = 9;
          break;
        case 0xcc:
        case 0xd0:
          skip = 2;
          break;
        case 0xcd:
        case 0xd1:
          skip = 3;
          break;
        case 0xce:
        case 0xd2:
          skip = 5;
          break;
        case 0xcf:
        case 0xd3:
          skip = 9;
          break;
        case 0xd7:
          need(2);
          if (buf[pos + 1] !== 0) throw new ProtocolError(`extension type ${buf[pos + 1]} in a record (only EventTime, type 0, is accepted)`);
          skip = 10;
          break;
        case 0xc7:
          need(3);
          if (buf[pos + 1] !== 8 || buf[pos + 2] !== 0) throw new ProtocolError('an extension value other than an 8-byte EventTime in a record');
          skip = 11;
          break;
        case 0xdc:
          need(3);
          children = u16(buf, pos + 1);
          skip = 3;
          break;
        case 0xdd:
          need(5);
          children = u32(buf, pos + 1);
          skip = 5;
          break;
        case 0xde:
          need(3);
          children = u16(buf, pos + 1) * 2;
          skip = 3;
          break;
        case 0xdf:
          need(5);
          children = u32(buf, pos + 1) * 2;
          skip = 5;
          break;
        default: // 0xc1, other extension forms (fixext 1/2/4/16, ext16/32)
          throw new ProtocolError(b === 0xc1 ? 'invalid MessagePack: the never-used type byte 0xc1' : 'an extension value other than an 8-byte EventTime in a record');
      }
    }
    pos += skip;
    if (pos > end) throw new ProtocolError('truncated entries: a value runs past the end');
    if (children > 0) {
      if (children > end - pos) throw new ProtocolError('truncated entries: a container declares more elements than there are bytes');
      if (top >= maxDepth) throw new ProtocolError(`values nested deeper than ${maxDepth} levels`);
      stack[top] = remaining;
      mapStack[top] = inMap;
      top++;
      remaining = children;
      inMap = (b >= 0x80 && b <= 0x8f) || b === 0xde || b === 0xdf;
    }
  }
  return pos;
}

/** Reads a time at `pos` (integer, float or EventTime), writes it as EventTime; returns its end. */
function copyTime(buf: Uint8Array, pos: number, end: number, w: MsgpackWriter): number {
  const b = buf[pos]!;
  if (b === 0xd7 && buf[pos + 1] === 0 && pos + 10 <= end) {
    w.writeRaw(buf.subarray(pos, pos + 10));
    return pos + 10;
  }
  if (b === 0xc7 && buf[pos + 1] === 8 && buf[pos + 2] === 0 && pos + 11 <= end) {
    w.writeEventTime(new EventTime(u32(buf, pos + 3), u32(buf, pos + 7)));
    return pos + 11;
  }
  if ((b === 0xcb && pos + 9 <= end) || (b === 0xca && pos + 5 <= end)) {
    const v = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
    const seconds = b === 0xcb ? v.readDoubleBE(pos + 1) : v.readFloatBE(pos + 1);
    if (!(seconds >= 0 && seconds < 2 ** 32)) throw new ProtocolError(`time ${seconds} is out of range`);
    w.writeEventTime(EventTime.fromSeconds(seconds));
    return pos + (b === 0xcb ? 9 : 5);
  }
  const integerEnd = b <= 0x7f ? pos + 1 : b === 0xcc || b === 0xd0 ? pos + 2 : b === 0xcd || b === 0xd1 ? pos + 3 : b === 0xce || b === 0xd2 ? pos + 5 : b === 0xcf || b === 0xd3 ? pos + 9 : -1;
  if (integerEnd > 0 && integerEnd <= end) {
    const seconds = readUInt(buf, pos);
    if (seconds === undefined || seconds >= 2 ** 32) throw new ProtocolError('time is not a 32-bit number of seconds');
    w.writeEventTime(new EventTime(seconds, 0));
    return integerEnd;
  }
  throw new ProtocolError('expected a time (integer, float or EventTime)');
}

/** Array header at pos: [count, headerLength] or undefined when not an array. */
function arrayHead(buf: Uint8Array, pos: number, end: number): [number, number] | undefined {
  const b = buf[pos]!;
  if (b >= 0x90 && b <= 0x9f) return [b & 0x0f, 1];
  if (b === 0xdc && pos + 3 <= end) return [u16(buf, pos + 1), 3];
  if (b === 0xdd && pos + 5 <= end) return [u32(buf, pos + 1), 5];
  return undefined;
}

function isMap(b: number): boolean {
  return (b >= 0x80 && b <= 0x8f) || b === 0xde || b === 0xdf;
}

const METADATA_KEY = Buffer.from([0xa8, ...Buffer.from('metadata')]);
const SRC_KEY = Buffer.from([0xa3, ...Buffer.from('src')]);
const ID_KEY = Buffer.from([0xa2, ...Buffer.from('id')]);
const OFF_KEY = Buffer.from([0xa3, ...Buffer.from('off')]);

/**
 * Where `receive --buffer` puts each entry in its own buffer: entry `index` of the request gets
 * `options.relay = {id, off: firstOff + index}`, and the same as its `src` when it has no identity
 * (what DurableSink does to decoded events).
 */
export interface RelayPositions {
  id: string;
  firstOff: number;
}

const RELAY_KEY = Buffer.from([0xa5, ...Buffer.from('relay')]);

/**
 * Appends one Message-mode entry per `[time, record]` entry of `payload` to `w`, with the tag
 * given pre-encoded (msgpack str). `identityOf(index)`, when given, is the entry's identity,
 * written as `options.src` (see identity-option.ts); `relay`, when given, the entry's relay
 * position (see RelayPositions). Returns the number of entries. Throws ProtocolError.
 */
export function transcodeEntries(
  payload: Uint8Array,
  encodedTag: Uint8Array,
  limits: ScanLimits,
  w: MsgpackWriter,
  identityOf?: (index: number) => Identity | undefined,
  relay?: RelayPositions,
): number {
  const end = payload.length;
  let pos = 0;
  let count = 0;
  while (pos < end) {
    const entry = arrayHead(payload, pos, end);
    if (!entry || entry[0] !== 2) throw new ProtocolError(`entry ${count}: expected [time, record]`);
    const timePos = pos + entry[1];
    if (timePos >= end) throw new ProtocolError('truncated entries');
    // v1.5 [time, {metadata}]: find the parts first, the header depends on the metadata
    const timeArray = arrayHead(payload, timePos, end);
    let timeAt = timePos;
    let recordPos: number;
    let metadata: [number, number] | undefined;
    if (timeArray) {
      if (timeArray[0] < 1) throw new ProtocolError(`entry ${count}: an empty time array`);
      timeAt = timePos + timeArray[1];
      let p = checkedEnd(payload, timeAt, end, limits.maxDepth);
      for (let k = 1; k < timeArray[0]; k++) {
        const next = checkedEnd(payload, p, end, limits.maxDepth);
        if (k === 1 && isMap(payload[p]!) && payload[p] !== 0x80) metadata = [p, next];
        p = next;
      }
      recordPos = p;
    } else {
      recordPos = checkedEnd(payload, timePos, end, limits.maxDepth);
    }
    if (recordPos >= end || !isMap(payload[recordPos]!)) throw new ProtocolError(`entry ${count}: expected a record (map)`);
    const recordEnd = checkedEnd(payload, recordPos, end, limits.maxDepth);
    const relayOff = relay ? relay.firstOff + count : 0;
    const src = identityOf?.(count) ?? (relay ? { id: relay.id, off: relayOff } : undefined);
    w.writeArrayHeader(metadata || src ? 4 : 3);
    w.writeRaw(encodedTag);
    copyTime(payload, timeAt, end, w);
    w.writeRaw(payload.subarray(recordPos, recordEnd));
    if (metadata || src) w.writeMapHeader((metadata ? 1 : 0) + (src ? 1 : 0) + (relay ? 1 : 0));
    if (metadata) {
      w.writeRaw(METADATA_KEY);
      w.writeRaw(payload.subarray(metadata[0], metadata[1]));
    }
    if (src) writePosition(w, SRC_KEY, src.id, src.off);
    if (relay) writePosition(w, RELAY_KEY, relay.id, relayOff);
    pos = recordEnd;
    count++;
  }
  return count;
}

/** `key: {id, off}` in an options map. */
function writePosition(w: MsgpackWriter, key: Buffer, id: string, off: number): void {
  w.writeRaw(key);
  w.writeMapHeader(2);
  w.writeRaw(ID_KEY);
  w.writeString(id);
  w.writeRaw(OFF_KEY);
  w.writeNumber(off);
}
