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

/** The record as JSON text (bytes as {"$base64"}, big integers exact). */
export function recordJSON(event: LogEvent): string {
  return valueToJSON(event.record);
}

/** Rough size of a row (UTF-16 units: at most 3 UTF-8 bytes each), to keep statements under the packet limit. */
export function approximateRowBytes(tag: string, json: string): number {
  return tag.length + json.length + 64;
}
