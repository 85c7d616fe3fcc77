import type { EventTime } from '../../event/event-time.js';
import type { EventRecord } from '../../event/event.js';
import { compileStrptime, type StrptimeParser } from '../time/strptime.js';
import type { TimeZone } from '../time/zone.js';
import { dashToNull, integerOrNull, type LineParser } from '../line-parser.js';

/*
 * Access logs (Apache combined/common, nginx). The expressions are written to be linear on any
 * input: every quantified piece is a character class that cannot also match what follows it
 * (`\S*` then a space, `[^\]]*` then `]`), and quoted strings are `(?:[^"\\]|\\.)*`, whose two
 * alternatives never match the same character. Fluentd's CVE-2021-41186 came from an
 * alternation whose branches overlapped (`(?:[^\"]|\\.)*?`), which backtracks exponentially.
 * The request line is split in code rather than in the expression for the same reason.
 */
const QUOTED = '"((?:[^"\\\\]|\\\\.)*)"';

const APACHE = new RegExp(`^(\\S*) \\S* (\\S*) \\[([^\\]]*)\\] ${QUOTED} (\\S*) (\\S*)(?: ${QUOTED} ${QUOTED})?$`);
const NGINX = new RegExp(`^(\\S*) (\\S*) (\\S*) \\[([^\\]]*)\\] ${QUOTED} (\\S*) (\\S*)(?: ${QUOTED} ${QUOTED}(?: "([^"]*)"| (\\S+))?)?$`);

export const ACCESS_LOG_TIME_FORMAT = '%d/%b/%Y:%H:%M:%S %z';

abstract class AccessLogParser implements LineParser {
  error = '';
  time: string | undefined = undefined;
  readonly ownsTime = true;
  readonly timeFormatName = ACCESS_LOG_TIME_FORMAT;
  private readonly strptime: StrptimeParser;
  /** The request's parts, set by splitRequest (fields, not a returned object: no allocation). */
  protected method: string | null = null;
  protected path: string | null = null;

  constructor(zone: TimeZone) {
    this.strptime = compileStrptime(ACCESS_LOG_TIME_FORMAT, zone);
  }

  abstract parse(text: string): EventRecord | undefined;

  readTime(text: string): EventTime | undefined {
    return this.strptime(text);
  }

  /** `GET /a/b?c HTTP/1.1` → method GET, path /a/b?c (the protocol, the last word, is dropped as Fluentd does). */
  protected splitRequest(request: string): void {
    const space = request.indexOf(' ');
    if (space < 0) {
      this.method = request === '' ? null : request;
      this.path = null;
      return;
    }
    this.method = request.slice(0, space);
    let start = space + 1;
    while (request.charCodeAt(start) === 32) start++;
    const last = request.lastIndexOf(' ');
    let end = last >= start ? last : request.length;
    while (end > start && request.charCodeAt(end - 1) === 32) end--;
    this.path = request.slice(start, end);
  }
}

/** Apache combined (and common: referer and agent absent). Fields as Fluentd's apache2 parser. */
export class Apache2Parser extends AccessLogParser {
  parse(text: string): EventRecord | undefined {
    const m = APACHE.exec(text);
    if (m === null) {
      this.error = 'does not match the apache2 (combined or common) format';
      return undefined;
    }
    this.time = m[3];
    this.splitRequest(m[4]!);
    return {
      host: m[1],
      user: dashToNull(m[2]),
      method: this.method,
      path: this.path,
      code: integerOrNull(m[5]),
      size: integerOrNull(m[6]),
      referer: dashToNull(m[7]),
      agent: m[8] ?? null,
    };
  }
}

/** nginx's default combined format, optionally followed by $http_x_forwarded_for. Fields as Fluentd's nginx parser. */
export class NginxParser extends AccessLogParser {
  parse(text: string): EventRecord | undefined {
    const m = NGINX.exec(text);
    if (m === null) {
      this.error = 'does not match the nginx (combined) format';
      return undefined;
    }
    this.time = m[4];
    this.splitRequest(m[5]!);
    const record: EventRecord = {
      remote: m[1],
      host: m[2],
      user: dashToNull(m[3]),
      method: this.method,
      path: this.path,
      code: integerOrNull(m[6]),
      size: integerOrNull(m[7]),
      referer: dashToNull(m[8]),
      agent: m[9] ?? null,
    };
    const forwarded = m[10] ?? m[11];
    if (forwarded !== undefined) record.http_x_forwarded_for = dashToNull(forwarded);
    return record;
  }
}
