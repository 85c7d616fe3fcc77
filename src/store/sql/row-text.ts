import type { LogEvent } from '../../event/event.js';
import { valueToJSON } from '../../codec/ndjson.js';

/**
 * The SQL stores keep an event as (time, time_nsec, tag, record): `time` in the column type's
 * own precision (microseconds in PostgreSQL and MySQL, seconds in ClickHouse's DateTime) and
 * `time_nsec` the exact nanoseconds within the second, so the event time survives exactly.
 */

/** `2026-11-21 19:43:40.123456` (UTC, microseconds): what DATETIME(6) and timestamptz read. */
export function utcMicros(event: LogEvent): string {
  const base = new Date(event.time.sec * 1000).toISOString();
  return `${base.slice(0, 10)} ${base.slice(11, 19)}.${String(Math.floor(event.time.nsec / 1000)).padStart(6, '0')}`;
}

/**
 * The record as JSON text (bytes as {"$base64"}, big integers exact). A string holding a lone
 * UTF-16 surrogate (possible from NDJSON input) is written by JSON.stringify as an escape that
 * PostgreSQL's jsonb and MySQL's JSON refuse; it becomes U+FFFD, so one odd event cannot stop
 * the store.
 */
export function recordJSON(event: LogEvent): string {
  const json = valueToJSON(event.record);
  return json.includes('\\ud') ? json.replace(LONE_SURROGATE_ESCAPE, '\\ufffd') : json;
}

const LONE_SURROGATE_ESCAPE = /\\ud[89ab][0-9a-f]{2}(?!\\ud[c-f][0-9a-f]{2})|(?<!\\ud[89ab][0-9a-f]{2})\\ud[c-f][0-9a-f]{2}/g;

/** Rough size of a row (UTF-16 units: at most 3 UTF-8 bytes each), to keep statements under the packet limit. */
export function approximateRowBytes(tag: string, json: string): number {
  return tag.length + json.length + 64;
}
