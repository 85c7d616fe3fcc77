import type { EventTime } from './event-time.js';

/** A record: the event's payload, a map from field names to msgpack-representable values. */
export type EventRecord = Record<string, unknown>;

/**
 * One log event, as a Message-mode entry of the forward protocol carries it:
 * `[tag, time, record, options?]`. `options` is passed through every stage untouched
 * (it holds, for instance, the source position a committing stage checkpoints).
 */
export interface LogEvent {
  tag: string;
  time: EventTime;
  record: EventRecord;
  options?: EventRecord;
}
