import type { EventTime } from '../../event/event-time.js';
import type { EventRecord } from '../../event/event.js';
import { compileStrptime, type StrptimeParser } from '../time/strptime.js';
import type { TimeZone } from '../time/zone.js';
import type { LineParser } from '../line-parser.js';

/**
 * Apache's error log, 2.2 (`[Wed Oct 11 14:32:52 2000] [error] [client 1.2.3.4] msg`) and 2.4
 * (`[Wed Oct 11 14:32:52.123456 2000] [core:error] [pid 35708:tid 4328636416] [client 1.2.3.4:80] msg`).
 * Each bracketed piece is `[^\]]*` up to its `]`: linear.
 */
const APACHE_ERROR = /^\[([^\]]*)\] \[(?:([^\]:]*):)?([^\]]*)\](?: \[pid ([^\]:]*)(?::tid ([^\]]*))?\])?(?: \[client ([^\]]*)\])? ?(.*)$/;

export class ApacheErrorParser implements LineParser {
  error = '';
  time: string | undefined = undefined;
  readonly ownsTime = true;
  readonly timeFormatName = '%a %b %d %H:%M:%S[.%N] %Y';
  private readonly withFraction: StrptimeParser;
  private readonly withoutFraction: StrptimeParser;

  constructor(zone: TimeZone) {
    this.withFraction = compileStrptime('%a %b %d %H:%M:%S.%N %Y', zone);
    this.withoutFraction = compileStrptime('%a %b %d %H:%M:%S %Y', zone);
  }

  parse(text: string): EventRecord | undefined {
    const m = APACHE_ERROR.exec(text);
    if (m === null) {
      this.error = 'does not match the apache_error format';
      return undefined;
    }
    this.time = m[1];
    const record: EventRecord = { level: m[3] };
    if (m[2] !== undefined) record.module = m[2];
    if (m[4] !== undefined) record.pid = m[4];
    if (m[5] !== undefined) record.tid = m[5];
    if (m[6] !== undefined) record.client = m[6];
    record.message = m[7];
    return record;
  }

  readTime(text: string): EventTime | undefined {
    return this.withFraction(text) ?? this.withoutFraction(text);
  }
}
