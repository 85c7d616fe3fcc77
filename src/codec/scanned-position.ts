import { isUtf8 } from 'node:buffer';
import type { LogEvent } from '../event/event.js';
import { relayPositionOf, sourcePositionOf, type ScannedPositions, type SourcePositionOption } from '../event/source-position.js';
import { plainValueEnd, stringSpan } from './msgpack-plain.js';
import { EventWithLine } from './ndjson-line-events.js';
import { RawEntryEvent } from './raw-entry-event.js';

/** A source position `{src: {id, off}}` read from an options map's bytes. */
export interface ScannedPosition {
  id: string;
  off: number;
}

/** The options keys that hold a position: the event's identity, and the relay position of `receive --buffer`. */
export type PositionKey = 'src' | 'relay';

/**
 * The positions (`src`, `relay`) of an options map given as MessagePack bytes (`buf[start, end)`,
 * a plain map as the byte paths validated it), in one pass and without decoding the map: per key
 * undefined when there is none, 'decode' when the bytes hold anything but the plain form
 * `{key: {id: str, off: uint}}` (a repeated key, another type), which the caller then reads from
 * the decoded options.
 */
export function scanPositions(buf: Buffer, start: number, end: number): ScannedPositions {
  const found: ScannedPositions = { src: undefined, relay: undefined };
  if (start >= end) return found;
  let pos = start;
  const count = mapHeader(buf, pos);
  if (count < 0) return { src: 'decode', relay: 'decode' };
  pos += headerLength(buf[pos]!);
  for (let i = 0; i < count; i++) {
    const [from, length] = stringSpan(buf, pos, end);
    pos = from + length;
    const key = length === 3 && isKey(buf, from, 'src') ? 'src' : length === 5 && isKey(buf, from, 'relay') ? 'relay' : undefined;
    if (key !== undefined) {
      // a repeated key: the decoded map decides
      found[key] = found[key] === undefined ? scanSrc(buf, pos, end) : 'decode';
    }
    pos = plainValueEnd(buf, pos, end, 1);
  }
  return found;
}

/** The position under `key` alone (see scanPositions). */
export function scanPosition(buf: Buffer, start: number, end: number, key: PositionKey = 'src'): ScannedPosition | undefined | 'decode' {
  return scanPositions(buf, start, end)[key];
}

function scanSrc(buf: Buffer, pos: number, end: number): ScannedPosition | 'decode' {
  const count = mapHeader(buf, pos);
  if (count < 0) return 'decode';
  pos += headerLength(buf[pos]!);
  let id: string | undefined;
  let off: number | undefined;
  for (let i = 0; i < count; i++) {
    const [from, length] = stringSpan(buf, pos, end);
    pos = from + length;
    const key = length === 2 && isKey(buf, from, 'id') ? 'id' : length === 3 && isKey(buf, from, 'off') ? 'off' : '';
    if (key === 'id' || key === 'off') {
      if ((key === 'id' ? id : off) !== undefined) return 'decode';
      if (key === 'id') {
        const b = buf[pos]!;
        if (!((b >= 0xa0 && b <= 0xbf) || b === 0xd9 || b === 0xda || b === 0xdb)) return 'decode';
        const [sFrom, sLength] = stringSpan(buf, pos, end);
        id = idAt(buf, sFrom, sFrom + sLength);
        if (id === undefined) return 'decode';
      } else {
        const b = buf[pos]!;
        if (b <= 0x7f) off = b;
        else if (b === 0xcc) off = buf[pos + 1]!;
        else if (b === 0xcd) off = buf.readUInt16BE(pos + 1);
        else if (b === 0xce) off = buf.readUInt32BE(pos + 1);
        else if (b === 0xcf) {
          const big = buf.readBigUInt64BE(pos + 1);
          if (big > BigInt(Number.MAX_SAFE_INTEGER)) return 'decode';
          off = Number(big);
        } else return 'decode';
      }
    }
    pos = plainValueEnd(buf, pos, end, 1);
  }
  return id !== undefined && off !== undefined ? { id, off } : 'decode';
}

// The last id read and its bytes: the events of a batch mostly come from one source, so most
// ids are the one before, and are then neither checked nor made into a string again.
let lastIdBytes = Buffer.alloc(0);
let lastId = '';

/** The id in `buf[from, to)` as a string; undefined when it is not UTF-8. */
function idAt(buf: Buffer, from: number, to: number): string | undefined {
  if (to - from === lastIdBytes.length && buf.compare(lastIdBytes, 0, lastIdBytes.length, from, to) === 0) return lastId;
  const bytes = buf.subarray(from, to);
  if (!isUtf8(bytes)) return undefined;
  lastIdBytes = Buffer.from(bytes);
  lastId = bytes.toString('utf8');
  return lastId;
}

/** Whether the bytes at `from` are the ASCII `key` (its length already checked): no string made. */
function isKey(buf: Buffer, from: number, key: string): boolean {
  for (let i = 0; i < key.length; i++) if (buf[from + i] !== key.charCodeAt(i)) return false;
  return true;
}

function mapHeader(buf: Buffer, pos: number): number {
  const b = buf[pos]!;
  if (b >= 0x80 && b <= 0x8f) return b & 0x0f;
  if (b === 0xde) return buf.readUInt16BE(pos + 1);
  if (b === 0xdf) return buf.readUInt32BE(pos + 1);
  return -1;
}

function headerLength(b: number): number {
  return b <= 0x8f ? 1 : b === 0xde ? 3 : 5;
}

/**
 * The position under `key` of an event read as bytes (EventWithLine, RawEntryEvent), scanned from
 * its options' bytes once (the store and its checkpoint both ask); 'decode' for any other event,
 * or when the bytes are not the plain form.
 */
export function scannedPosition(event: LogEvent, key: PositionKey = 'src'): ScannedPosition | undefined | 'decode' {
  if (event instanceof EventWithLine) {
    return (event.scannedPositions ??= scanPositions(event.source, event.optionsStart, event.optionsEnd))[key];
  }
  if (event instanceof RawEntryEvent) {
    const span = event.optionsSpan;
    if (!span) return 'decode';
    return (event.scannedPositions ??= scanPositions(event.source, span[0], span[1]))[key];
  }
  return 'decode';
}

/**
 * An event's position under `key` (its identity `src`, or its `relay`): scanned from its bytes
 * where it can be, decoded otherwise.
 */
export function positionOf(event: LogEvent, key: PositionKey = 'src'): SourcePositionOption | undefined {
  const scanned = scannedPosition(event, key);
  if (scanned !== 'decode') return scanned;
  return key === 'src' ? sourcePositionOf(event) : relayPositionOf(event);
}
