import type { EventTime } from '../event/event-time.js';
import type { EventRecord } from '../event/event.js';

/**
 * One log format. `parse` is called once per line on the hot path, so parsers keep their state
 * in fields instead of returning wrapper objects: a failed parse returns undefined and leaves the
 * reason in `error`; a format whose lines carry their own stamp (apache2, syslog, …) leaves the
 * stamp text in `time` and reads it with `readTime`.
 */
export interface LineParser {
  parse(text: string): EventRecord | undefined;
  /** Why the last parse returned undefined. */
  error: string;
  /**
   * True for formats with a stamp of their own: the time comes from `time`/`readTime` and
   * `--time-key` does not apply. False for formats of arbitrary fields (json, regexp, …),
   * whose time is taken from a field.
   */
  readonly ownsTime: boolean;
  /** The stamp text of the last parsed line (ownsTime formats), undefined when it had none. */
  time: string | undefined;
  /** Reads this format's own stamp (unless the user overrides it with --time-format). */
  readTime?(text: string): EventTime | undefined;
  /** What `readTime` expects, for error messages. */
  readonly timeFormatName?: string;
}

/** Integer fields of access logs: `-` (absent) becomes null, like Fluentd's apache2 parser. */
export function integerOrNull(text: string | undefined): number | string | null {
  if (text === undefined || text === '-' || text === '') return null;
  const n = +text;
  return Number.isInteger(n) ? n : text;
}

export function dashToNull(text: string | undefined): string | null {
  return text === undefined || text === '-' ? null : text;
}
