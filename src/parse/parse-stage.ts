import type { EventTime } from '../event/event-time.js';
import type { EventRecord, LogEvent } from '../event/event.js';
import { MAX_DEPTH, TooDeepError, nestsDeeperThan } from '../codec/depth-limit.js';
import { RawEntryEvent } from '../codec/raw-entry-event.js';
import { applyFieldTypes, type FieldConversion } from './field-types.js';
import type { LineParser } from './line-parser.js';
import { MAX_TIME_TEXT, type TimeParser } from './time/time-parser.js';

export interface ParseStageOptions {
  parser: LineParser;
  /** The record field holding the text (default message). */
  key: string;
  /** Fluentd's reserve_data: keep the other fields of the record (and the parsed one). */
  keepOriginal: boolean;
  /** With keepOriginal: drop the field that was parsed (Fluentd's remove_key_name_field). */
  removeKey: boolean;
  /** Put the parsed fields under this key instead of at the top level (Fluentd's hash_value_field). */
  nest: string | undefined;
  /** Formats of arbitrary fields: the field holding the time. */
  timeKey: string;
  /** Overrides the format's own stamp reading. */
  timeParser: TimeParser | undefined;
  keepTimeKey: boolean;
  types: readonly FieldConversion[];
  /** Field an unparsed event gains (when failures are not diverted). */
  errorKey: string;
}

/**
 * The per-batch work of `logkit parse`: each event's text field is parsed in place (record and,
 * when the line carries one, time replaced). A line that does not parse keeps its record and
 * gains an error field, or — with a failure sink — is diverted; either way it is counted.
 */
export class ParseStage {
  seen = 0;
  failed = 0;
  firstError: string | undefined;
  private readonly textDecoder = new TextDecoder();
  /** Consecutive lines mostly share a stamp (one-second resolution): read each distinct text once. */
  private lastStamp: string | undefined;
  private lastTime: EventTime | undefined;

  constructor(private readonly options: ParseStageOptions) {}

  /**
   * Parses a batch in place. Failed events go to `failures` when given (and are left out of
   * the returned batch), otherwise they stay in it with the error field.
   */
  process(events: LogEvent[], failures?: LogEvent[]): LogEvent[] {
    const o = this.options;
    const parser = o.parser;
    let kept = events;
    let keptCount = 0;
    this.seen += events.length;
    for (let i = 0; i < events.length; i++) {
      const event = events[i]!;
      let error: string | undefined;
      try {
        error = this.parseEvent(event, parser, o);
      } catch (thrown) {
        // A parser bug must cost one line, not the stream: the line is kept and marked.
        error = `internal parser error: ${(thrown as Error)?.message ?? String(thrown)}`;
      }
      if (error === undefined) {
        if (kept !== events) kept.push(event);
        keptCount++;
        continue;
      }
      this.failed++;
      if (this.firstError === undefined) this.firstError = error;
      const failedEvent: LogEvent = { tag: event.tag, time: event.time, record: { ...event.record, [o.errorKey]: error } };
      if (event.options) failedEvent.options = event.options;
      if (failures) {
        failures.push(failedEvent);
        if (kept === events) kept = events.slice(0, keptCount);
      } else {
        events[i] = failedEvent;
        keptCount++;
      }
    }
    return kept;
  }

  /** Returns undefined on success (the event updated), or why the line did not parse. */
  private parseEvent(event: LogEvent, parser: LineParser, o: ParseStageOptions): string | undefined {
    // read as bytes, the event decodes this one field alone (the record is replaced below)
    let text = event instanceof RawEntryEvent ? event.field(o.key) : event.record[o.key];
    if (typeof text !== 'string') {
      if (text instanceof Uint8Array) text = this.textDecoder.decode(text);
      else return text === undefined ? `no field "${o.key}"` : `field "${o.key}" is not text`;
    }
    let parsed = parser.parse(text as string);
    if (parsed === undefined) return parser.error;

    let time: EventTime | undefined;
    if (parser.ownsTime) {
      const stamp = parser.time;
      if (stamp !== undefined) {
        if (stamp === this.lastStamp) time = this.lastTime;
        else if (stamp.length > MAX_TIME_TEXT) time = undefined;
        else {
          time = o.timeParser ? o.timeParser(stamp) : parser.readTime!(stamp);
          this.lastStamp = stamp;
          this.lastTime = time;
        }
        if (time === undefined) return `time "${clip(stamp)}" does not match ${o.timeParser ? 'the --time-format' : parser.timeFormatName}`;
        if (o.keepTimeKey) parsed.time = stamp;
      }
    } else {
      const stamp = parsed[o.timeKey];
      if (stamp !== undefined && stamp !== null) {
        time = o.timeParser!(stamp);
        if (time === undefined) return `time "${clip(String(stamp))}" in field "${o.timeKey}" is not a valid time`;
        if (!o.keepTimeKey) parsed = without(parsed, o.timeKey);
      }
    }
    if (o.types.length > 0) applyFieldTypes(parsed, o.types);

    let record: EventRecord = parsed;
    if (o.nest !== undefined) {
      // one level more than the parser checked: the record must still fit the stream's limit
      if (nestsDeeperThan(parsed, MAX_DEPTH - 1)) return nestedTooDeep;
      record = { [o.nest]: parsed };
    }
    if (o.keepOriginal) {
      const original = event.record;
      const merged: EventRecord = {};
      for (const k in original) if (!(o.removeKey && k === o.key)) merged[k] = original[k];
      for (const k in record) merged[k] = record[k];
      record = merged;
    }
    event.record = record;
    if (time !== undefined) event.time = time;
    return undefined;
  }
}

const nestedTooDeep = new TooDeepError('the record with --nest').message;

function clip(text: string, max = 80): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/**
 * The record minus one field. A copy, not `delete`: deleting any but the last-added property
 * turns a V8 object into a slow dictionary, which cost more in the encoder than the copy does.
 */
function without(record: EventRecord, key: string): EventRecord {
  const copy: EventRecord = {};
  for (const k in record) if (k !== key) copy[k] = record[k];
  return copy;
}
