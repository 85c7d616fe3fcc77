import type { EventTime } from '../../event/event-time.js';
import { parseISO8601 } from '../time/iso8601.js';
import type { EventRecord } from '../../event/event.js';
import { compileStrptime, type StrptimeParser } from '../time/strptime.js';
import type { TimeZone } from '../time/zone.js';
import type { LineParser } from '../line-parser.js';

/*
 * Syslog, RFC 3164 (BSD: `<34>Oct 11 22:14:15 host su[123]: message`, the <PRI> optional as in
 * /var/log/syslog files) and RFC 5424 (`<34>1 2026-11-21T10:00:00.123Z host app 123 ID47 [sd] message`),
 * told apart per line by the version digit after <PRI>. Every piece is a class bounded by the
 * separator that follows it, so matching is linear.
 */
const RFC3164 = /^(?:<(\d{1,3})>)?([A-Za-z]{3} [ \d]?\d \d{2}:\d{2}:\d{2}|\d{4}-\d{2}-\d{2}T[^ ]+) ([^ ]*) (?:([^ :[\]]+)(?:\[([^\]]*)\])?: ?)?(.*)$/s;
const RFC5424 = /^<(\d{1,3})>1 ([^ ]+) ([^ ]+) ([^ ]+) ([^ ]+) ([^ ]+) (-|(?:\[(?:[^\]\\]|\\.)*\])+)(?: \uFEFF?(.*))?$/s;

export const FACILITIES = [
  'kern', 'user', 'mail', 'daemon', 'auth', 'syslog', 'lpr', 'news', 'uucp', 'cron', 'authpriv', 'ftp',
  'ntp', 'security', 'console', 'solaris-cron', 'local0', 'local1', 'local2', 'local3', 'local4', 'local5', 'local6', 'local7',
];
export const SEVERITIES = ['emerg', 'alert', 'crit', 'err', 'warning', 'notice', 'info', 'debug'];

export class SyslogParser implements LineParser {
  error = '';
  time: string | undefined = undefined;
  readonly ownsTime = true;
  readonly timeFormatName = 'RFC 3164 (%b %d %H:%M:%S) or RFC 3339';
  private readonly bsd: StrptimeParser;

  constructor(private readonly zone: TimeZone) {
    this.bsd = compileStrptime('%b %d %H:%M:%S', zone);
  }

  parse(text: string): EventRecord | undefined {
    // `<PRI>1 ` is RFC 5424; anything else is tried as RFC 3164.
    const close = text.charCodeAt(0) === 60 ? text.indexOf('>') : -1;
    if (close > 0 && close <= 4 && text.charCodeAt(close + 1) === 49 && text.charCodeAt(close + 2) === 32) return this.parse5424(text);
    const m = RFC3164.exec(text);
    if (m === null) {
      this.error = 'does not match the syslog format (RFC 3164 or RFC 5424)';
      return undefined;
    }
    this.time = m[2];
    let record: EventRecord;
    if (m[1] !== undefined) {
      const pri = Number(m[1]);
      if (pri > 191) return this.badPriority(pri);
      record = { pri, facility: FACILITIES[pri >> 3], severity: SEVERITIES[pri & 7], host: m[3], ident: m[4] ?? null, pid: m[5] ?? null, message: m[6] };
    } else {
      record = { host: m[3], ident: m[4] ?? null, pid: m[5] ?? null, message: m[6] };
    }
    return record;
  }

  private parse5424(text: string): EventRecord | undefined {
    const m = RFC5424.exec(text);
    if (m === null) {
      this.error = 'does not match the syslog RFC 5424 format';
      return undefined;
    }
    const pri = Number(m[1]);
    if (pri > 191) return this.badPriority(pri);
    this.time = m[2] === '-' ? undefined : m[2];
    return {
      pri,
      facility: FACILITIES[pri >> 3],
      severity: SEVERITIES[pri & 7],
      host: m[3],
      ident: m[4],
      pid: m[5],
      msgid: m[6],
      extradata: m[7],
      message: m[8] ?? '',
    };
  }

  private badPriority(pri: number): undefined {
    this.error = `syslog priority ${pri} is out of range (0-191)`;
    return undefined;
  }

  readTime(text: string): EventTime | undefined {
    if (text.charCodeAt(0) >= 48 && text.charCodeAt(0) <= 57) {
      return parseISO8601(text, this.zone);
    }
    return this.bsd(text);
  }
}
