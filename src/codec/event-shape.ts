import { EventTime } from '../event/event-time.js';
import type { EventRecord, LogEvent } from '../event/event.js';
import { MAX_DEPTH, TooDeepError, nestsDeeperThan } from './depth-limit.js';

/**
 * Turns any time a forward-protocol peer may send into an EventTime: an integer (seconds),
 * a float (seconds with a fraction), an EventTime, a protocol-v1.5 `[EventTime, metadata]`
 * pair, or (NDJSON only) an ISO 8601 string. Returns undefined for anything else.
 */
export function toEventTime(value: unknown): EventTime | undefined {
  if (value instanceof EventTime) return value;
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) return undefined;
    return Number.isInteger(value) ? new EventTime(value, 0) : EventTime.fromSeconds(value);
  }
  if (typeof value === 'string') return EventTime.fromISO(value);
  if (typeof value === 'bigint') return value >= 0n && value < 2n ** 32n ? new EventTime(Number(value), 0) : undefined;
  if (Array.isArray(value) && value.length >= 1 && value[0] instanceof EventTime) return value[0];
  if (value instanceof Date && !Number.isNaN(value.getTime())) return EventTime.fromMillis(value.getTime());
  return undefined;
}

export function isRecord(value: unknown): value is EventRecord {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}

/**
 * Validates a decoded Message-mode entry `[tag, time, record, options?]` and returns the event,
 * or a sentence saying what is wrong with it.
 */
export function entryToEvent(value: unknown): LogEvent | string {
  if (!Array.isArray(value)) return `expected a Message-mode entry [tag, time, record], got ${describe(value)}`;
  if (value.length !== 3 && value.length !== 4)
    return `expected a Message-mode entry of 3 or 4 elements, got an array of ${value.length}`;
  const [tag, rawTime, record, options] = value;
  if (typeof tag !== 'string') return `expected a tag (string) as the first element, got ${describe(tag)}`;
  const time = toEventTime(rawTime);
  if (!time) return `expected an event time as the second element, got ${describe(rawTime)}`;
  if (!isRecord(record)) return `expected a record (map) as the third element, got ${describe(record)}`;
  if (nestsDeeperThan(record, MAX_DEPTH)) return new TooDeepError('record').message;
  if (options === undefined || options === null) return { tag, time, record };
  if (!isRecord(options)) return `expected an options map as the fourth element, got ${describe(options)}`;
  if (nestsDeeperThan(options, MAX_DEPTH)) return new TooDeepError('options').message;
  return { tag, time, record, options };
}

export function describe(value: unknown): string {
  if (value === null || value === undefined) return 'nil';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (value instanceof Uint8Array) return `${value.length} bytes of binary`;
  if (typeof value === 'object') return value.constructor?.name === 'Object' ? 'a map' : 'an extension value';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value)}`;
  return `${typeof value} ${String(value)}`;
}
