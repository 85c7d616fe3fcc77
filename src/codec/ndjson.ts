import { isSafeNumber, parseLossless } from './lossless-json.js';
import type { LogEvent } from '../event/event.js';
import { EventTime } from '../event/event-time.js';
import { isRecord, toEventTime } from './event-shape.js';
import { MAX_DEPTH, TooDeepError, nestsDeeperThan } from './depth-limit.js';

/**
 * NDJSON, one event a line: `{"time":"2026-…Z","tag":"app","record":{…},"options":{…}}`.
 *
 * JSON cannot say everything MessagePack can, so two conventions keep round trips exact:
 * - binary values (msgpack bin) are written as `{"$base64":"…"}` and read back as bytes;
 * - integers beyond ±2^53 are written with every digit and read back as bigint.
 * Times are written as RFC 3339 with nine fraction digits (a float would lose nanoseconds).
 * NaN and ±Infinity, which JSON cannot hold, are written as the strings "NaN", "Infinity" and
 * "-Infinity" (JSON.stringify would silently write null). A record never nests deeper than
 * MAX_DEPTH: a map or array below that level is written as its JSON text (a string), so a
 * logkit reader never refuses what a logkit writer wrote.
 */

// ----------------------------------------------------------------------------- encode

const lastTag = { tag: '', json: '""' };

export function eventToJSON(event: LogEvent): string {
  // a stream is mostly runs of one tag: quote it once per run
  if (event.tag !== lastTag.tag) {
    lastTag.tag = event.tag;
    lastTag.json = JSON.stringify(event.tag);
  }
  let line = `{"time":"${event.time.toISO()}","tag":${lastTag.json},"record":${valueToJSON(event.record)}`;
  if (event.options) line += `,"options":${valueToJSON(event.options)}`;
  return line + '}';
}

/**
 * JSON text for a record value (its top level counts as level `level`). Fast path: the engine's
 * stringify, for values it writes exactly; the exact writer for bytes, bigints, non-finite
 * numbers, times and values nested beyond the limit.
 */
export function valueToJSON(value: unknown, level = 1): string {
  return value !== undefined && isPlainJSON(value, MAX_DEPTH - level) ? JSON.stringify(value) : exactJSON(value, level);
}

/** True when JSON.stringify writes `value` exactly and it nests at most `levels` more levels. */
function isPlainJSON(value: unknown, levels: number): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
    case 'undefined': // left out of a map, as JSON.stringify does
      return true;
    case 'number':
      return Number.isFinite(value);
    case 'object': {
      if (value === null) return true;
      if (levels < 0) return false;
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) if (!isPlainJSON(value[i], levels - 1)) return false;
        return true;
      }
      if (value.constructor !== Object && value.constructor !== undefined) return false; // bytes, EventTime, Date, Map
      for (const key in value) if (!isPlainJSON((value as Record<string, unknown>)[key], levels - 1)) return false;
      return true;
    }
    default:
      return false; // bigint; functions and symbols are written as null by the exact writer
  }
}

/**
 * The JSON text a map or array below the depth limit is written as, in either format. Its own
 * depth is bounded by the reader or parser that made it (MAX_DEPTH), so no limit applies inside
 * it; only a value built in memory beyond the stack's reach is written as a note saying so.
 */
export function flattenedJSON(value: unknown): string {
  try {
    return exactJSON(value, Number.NEGATIVE_INFINITY);
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    return JSON.stringify('(a value nested too deep to write)');
  }
}

/** `level` of `value` when it is a map or array; one beyond MAX_DEPTH is written as its JSON text. */
function exactJSON(value: unknown, level: number): string {
  switch (typeof value) {
    case 'bigint':
      return value.toString();
    case 'number':
      return Number.isFinite(value) ? String(value) : JSON.stringify(String(value));
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    case 'object': {
      if (value === null) return 'null';
      if (value instanceof Uint8Array) return `{"$base64":"${Buffer.from(value.buffer, value.byteOffset, value.length).toString('base64')}"}`;
      if (value instanceof EventTime) return JSON.stringify(value.toISO());
      if (value instanceof Date) return JSON.stringify(value.toISOString());
      if (level > MAX_DEPTH) return JSON.stringify(flattenedJSON(value));
      if (Array.isArray(value)) return `[${value.map((v) => exactJSON(v, level + 1)).join(',')}]`;
      const entries = value instanceof Map ? [...value.entries()] : Object.entries(value);
      return `{${entries.map(([k, v]) => `${JSON.stringify(String(k))}:${exactJSON(v, level + 1)}`).join(',')}}`;
    }
    default:
      return 'null';
  }
}

// ----------------------------------------------------------------------------- decode

/** A run of 16+ digits may be an integer beyond 2^53: only such lines pay for the lossless parser. */
const LONG_DIGITS = /\d{16,}/;

/**
 * JSON.parse that keeps integers beyond ±2^53 exact (as bigint) and turns `{"$base64"}` back into
 * bytes. Throws on a value nesting deeper than `maxDepth` levels (the value itself is level 1).
 * JSON.parse is iterative, so any depth parses safely; the recursive steps after it run only on
 * values within the limit.
 */
export function parseJSON(text: string, maxDepth = MAX_DEPTH + 1): unknown {
  let value: unknown = JSON.parse(text);
  if (nestsDeeperThan(value, maxDepth, isBase64)) throw new TooDeepError('JSON', maxDepth);
  if (LONG_DIGITS.test(text)) value = parseLossless(text, null, parseNumberExact);
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

/** `{"$base64":"…"}`: bytes, one scalar in MessagePack, so it adds no level. */
function isBase64(map: object): boolean {
  const keys = Object.keys(map);
  return keys.length === 1 && keys[0] === '$base64' && typeof (map as Record<string, unknown>).$base64 === 'string';
}

function reviveBinary(value: unknown): unknown {
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = reviveBinary(value[i]);
    return value;
  }
  if (typeof value === 'object' && value !== null) {
    const obj = value as Record<string, unknown>;
    if (isBase64(obj)) return Buffer.from(obj.$base64 as string, 'base64');
    for (const key of Object.keys(obj)) obj[key] = reviveBinary(obj[key]);
  }
  return value;
}

/** Parses one NDJSON line into an event, or returns a sentence saying what is wrong. */
export function jsonToEvent(line: string): LogEvent | string {
  let value: unknown;
  try {
    // the line's object is level 1, its record level 2: the record may nest MAX_DEPTH levels
    value = parseJSON(line, MAX_DEPTH + 1);
  } catch (error) {
    if (error instanceof TooDeepError) return tooDeepRecord;
    return `invalid JSON: ${(error as Error).message}`;
  }
  return objectToEvent(value);
}

const tooDeepRecord = new TooDeepError('record').message;

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

/**
 * True when a line looks like a logkit NDJSON event rather than an arbitrary JSON log line. Its
 * shape only: an event nested too deep is still an event (refused later, with its line number).
 */
export function isEventLine(line: string): boolean {
  try {
    const value: unknown = JSON.parse(line);
    return isRecord(value) && typeof value.tag === 'string' && isRecord(value.record);
  } catch {
    return false;
  }
}
