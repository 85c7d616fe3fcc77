import { parse as parseLossless, isSafeNumber } from 'lossless-json';
import type { LogEvent } from '../event/event.js';
import { EventTime } from '../event/event-time.js';
import { isRecord, toEventTime } from './event-shape.js';

/**
 * NDJSON, one event a line: `{"time":"2026-…Z","tag":"app","record":{…},"options":{…}}`.
 *
 * JSON cannot say everything MessagePack can, so two conventions keep round trips exact:
 * - binary values (msgpack bin) are written as `{"$base64":"…"}` and read back as bytes;
 * - integers beyond ±2^53 are written with every digit and read back as bigint.
 * Times are written as RFC 3339 with nine fraction digits (a float would lose nanoseconds).
 */

// ----------------------------------------------------------------------------- encode

export function eventToJSON(event: LogEvent): string {
  let line = `{"time":"${event.time.toISO()}","tag":${JSON.stringify(event.tag)},"record":${valueToJSON(event.record)}`;
  if (event.options) line += `,"options":${valueToJSON(event.options)}`;
  return line + '}';
}

/** JSON text for a record value. Fast path: the engine's stringify; slow path for bytes and bigints. */
export function valueToJSON(value: unknown): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch {
    // a bigint somewhere: fall through to the exact writer
  }
  // Buffer.toJSON would write {"type":"Buffer","data":[…]}: take the exact writer instead.
  if (text === undefined || text.includes('"type":"Buffer"')) return exactJSON(value, 0);
  return text;
}

function exactJSON(value: unknown, depth: number): string {
  if (depth > 256) throw new RangeError('value nested deeper than 256 levels');
  switch (typeof value) {
    case 'bigint':
      return value.toString();
    case 'number':
      return Number.isFinite(value) ? String(value) : 'null';
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    case 'object': {
      if (value === null) return 'null';
      if (value instanceof Uint8Array) return `{"$base64":"${Buffer.from(value.buffer, value.byteOffset, value.length).toString('base64')}"}`;
      if (value instanceof EventTime) return JSON.stringify(value.toISO());
      if (value instanceof Date) return JSON.stringify(value.toISOString());
      if (Array.isArray(value)) return `[${value.map((v) => exactJSON(v, depth + 1)).join(',')}]`;
      const entries = value instanceof Map ? [...value.entries()] : Object.entries(value);
      return `{${entries.map(([k, v]) => `${JSON.stringify(String(k))}:${exactJSON(v, depth + 1)}`).join(',')}}`;
    }
    default:
      return 'null';
  }
}

// ----------------------------------------------------------------------------- decode

/** A run of 16+ digits may be an integer beyond 2^53: only such lines pay for the lossless parser. */
const LONG_DIGITS = /\d{16,}/;

/** JSON.parse that keeps integers beyond ±2^53 exact (as bigint) and turns `{"$base64"}` back into bytes. */
export function parseJSON(text: string): unknown {
  const value = LONG_DIGITS.test(text) ? parseLossless(text, null, parseNumberExact) : JSON.parse(text);
  return text.includes('"$base64"') ? reviveBinary(value) : value;
}

/** An integer that fits MessagePack's int64/uint64 but not a double stays exact; anything else is a double. */
function parseNumberExact(digits: string): number | bigint {
  if (isSafeNumber(digits) || !/^-?\d+$/.test(digits)) return Number(digits);
  const n = BigInt(digits);
  return n >= INT64_MIN && n <= UINT64_MAX ? n : Number(digits);
}

const INT64_MIN = -(2n ** 63n);
const UINT64_MAX = 2n ** 64n - 1n;

function reviveBinary(value: unknown): unknown {
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = reviveBinary(value[i]);
    return value;
  }
  if (typeof value === 'object' && value !== null) {
    const obj = value as Record<string, unknown>;
    const keys = Object.keys(obj);
    if (keys.length === 1 && keys[0] === '$base64' && typeof obj.$base64 === 'string') {
      return Buffer.from(obj.$base64, 'base64');
    }
    for (const key of keys) obj[key] = reviveBinary(obj[key]);
  }
  return value;
}

/** Parses one NDJSON line into an event, or returns a sentence saying what is wrong. */
export function jsonToEvent(line: string): LogEvent | string {
  let value: unknown;
  try {
    value = parseJSON(line);
  } catch (error) {
    return `invalid JSON: ${(error as Error).message}`;
  }
  return objectToEvent(value);
}

export function objectToEvent(value: unknown): LogEvent | string {
  if (!isRecord(value)) return 'expected an event object {"tag","time","record"}';
  const { tag, time: rawTime, record, options } = value;
  if (typeof tag !== 'string') return 'expected "tag" to be a string';
  if (!isRecord(record)) return 'expected "record" to be an object';
  const time = rawTime === undefined ? EventTime.now() : toEventTime(rawTime);
  if (!time) return `expected "time" to be an RFC 3339 string or epoch seconds, got ${JSON.stringify(rawTime)}`;
  if (options === undefined || options === null) return { tag, time, record };
  if (!isRecord(options)) return 'expected "options" to be an object';
  return { tag, time, record, options };
}

/** True when a line looks like a logkit NDJSON event rather than an arbitrary JSON log line. */
export function isEventLine(line: string): boolean {
  try {
    const value = parseJSON(line);
    return isRecord(value) && typeof value.tag === 'string' && isRecord(value.record);
  } catch {
    return false;
  }
}
