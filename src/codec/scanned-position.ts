import { isUtf8 } from 'node:buffer';
import type { LogEvent } from '../event/event.js';
import { plainValueEnd, stringSpan } from './msgpack-plain.js';
import { EventWithLine } from './ndjson-line-events.js';
import { RawEntryEvent } from './raw-entry-event.js';

/** A source position `{src: {id, off}}` read from an options map's bytes. */
export interface ScannedPosition {
  id: string;
  off: number;
}

/**
 * The `src` position of an options map given as MessagePack bytes (`buf[start, end)`, a plain map
 * as the byte paths validated it), without decoding the map: undefined when there is no `src`,
 * 'decode' when the bytes hold anything but the plain form `{src: {id: str, off: uint}}` (a
 * repeated key, another type) or a `relay` too, which the caller then reads from the decoded options.
 */
export function scanSourcePosition(buf: Buffer, start: number, end: number): ScannedPosition | undefined | 'decode' {
  if (start >= end) return undefined;
  let pos = start;
  const count = mapHeader(buf, pos);
  if (count < 0) return 'decode';
  pos += headerLength(buf[pos]!);
  let found: ScannedPosition | undefined | 'decode';
  for (let i = 0; i < count; i++) {
    const [from, length] = stringSpan(buf, pos, end);
    pos = from + length;
    const isSrc = length === 3 && buf[from] === 0x73 && buf[from + 1] === 0x72 && buf[from + 2] === 0x63;
    // a relay position (receive --buffer) is committed beside src: the decoded options give both
    if (length === 5 && buf.toString('latin1', from, from + 5) === 'relay') return 'decode';
    if (isSrc) {
      if (found !== undefined) return 'decode'; // a repeated key: the decoded map decides
      found = scanSrc(buf, pos, end);
    }
    pos = plainValueEnd(buf, pos, end, 1);
  }
  return found;
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
    const key = length === 2 ? buf.toString('latin1', from, from + 2) : length === 3 ? buf.toString('latin1', from, from + 3) : '';
    if (key === 'id' || key === 'off') {
      if ((key === 'id' ? id : off) !== undefined) return 'decode';
      if (key === 'id') {
        const b = buf[pos]!;
        if (!((b >= 0xa0 && b <= 0xbf) || b === 0xd9 || b === 0xda || b === 0xdb)) return 'decode';
        const [sFrom, sLength] = stringSpan(buf, pos, end);
        const bytes = buf.subarray(sFrom, sFrom + sLength);
        if (!isUtf8(bytes)) return 'decode';
        id = bytes.toString('utf8');
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
 * The `src` position of an event read as bytes (EventWithLine, RawEntryEvent), scanned from its
 * options' bytes; 'decode' for any other event, or when the bytes are not the plain form.
 */
export function scannedSourcePosition(event: LogEvent): ScannedPosition | undefined | 'decode' {
  if (event instanceof EventWithLine) return scanSourcePosition(event.source, event.optionsStart, event.optionsEnd);
  if (event instanceof RawEntryEvent) {
    const span = event.optionsSpan;
    return span ? scanSourcePosition(event.source, span[0], span[1]) : 'decode';
  }
  return 'decode';
}
