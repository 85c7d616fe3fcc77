import type { EventTime } from '../../event/event-time.js';
import { parseISO8601 } from '../time/iso8601.js';
import type { EventRecord } from '../../event/event.js';
import type { LineParser } from '../line-parser.js';

/**
 * Docker's json-file driver: `{"log":"text\n","stream":"stdout","time":"2026-…Z"}`. The record
 * keeps `log` (without its newline), `stream` and any other attributes; the time (RFC 3339 with
 * nanoseconds) becomes the event time. A line the daemon split at 16 KiB has no trailing newline:
 * such a record gains `partial: true` (joining partial lines is `logkit tail`'s job).
 */
export class DockerParser implements LineParser {
  error = '';
  time: string | undefined = undefined;
  readonly ownsTime = true;
  readonly timeFormatName = 'RFC 3339';

  parse(text: string): EventRecord | undefined {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      this.error = `invalid Docker json-file line: ${(error as Error).message}`;
      return undefined;
    }
    if (value === null || typeof value !== 'object' || typeof (value as EventRecord).log !== 'string') {
      this.error = 'not a Docker json-file line: no "log" text';
      return undefined;
    }
    const record = value as EventRecord;
    const log = record.log as string;
    const time = record.time;
    this.time = typeof time === 'string' ? time : undefined;
    const out: EventRecord = {};
    for (const key in record) if (key !== 'time') out[key] = record[key];
    if (log.endsWith('\n')) out.log = log.slice(0, log.endsWith('\r\n') ? -2 : -1);
    else out.partial = true;
    return out;
  }

  readTime(text: string): EventTime | undefined {
    return parseISO8601(text, undefined);
  }
}

const CRI = /^([^ ]+) (stdout|stderr) ([^ ]+)(?: (.*))?$/s;

/**
 * The CRI log format containerd and CRI-O write under /var/log/pods:
 * `2026-11-21T10:00:00.123456789Z stdout F message` (P marks a partial line, F a full one).
 * Record: stream, logtag, message; the time becomes the event time.
 */
export class CriParser implements LineParser {
  error = '';
  time: string | undefined = undefined;
  readonly ownsTime = true;
  readonly timeFormatName = 'RFC 3339';

  parse(text: string): EventRecord | undefined {
    const m = CRI.exec(text);
    if (m === null) {
      this.error = 'does not match the CRI format (TIME STREAM P|F LOG)';
      return undefined;
    }
    this.time = m[1];
    return { stream: m[2], logtag: m[3], message: m[4] ?? '' };
  }

  readTime(text: string): EventTime | undefined {
    return parseISO8601(text, undefined);
  }
}
