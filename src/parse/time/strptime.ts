import { EventTime } from '../../event/event-time.js';
import { parseOffset, type TimeZone } from './zone.js';

/**
 * A strptime-style format (Fluentd's `time_format`, Ruby/C conventions) compiled once into one
 * anchored regular expression plus a list of field setters; parsing a time is then one regex
 * exec and a Date.UTC. The expression is built only from bounded pieces (`\d{1,2}`, `[A-Za-z]{3,9}`)
 * and callers bound the text length, so matching is linear.
 *
 * Directives: %Y %y %m %d %e %H %k %I %l %M %S %p %b %h %B %a %A %j %z %Z %s,
 * fractions %N %L %f %3N %6N %9N (any number of digits, nanoseconds kept), %T %F %D %R %%.
 */
export type StrptimeParser = (text: string) => EventTime | undefined;

interface Fields {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  nsec: number;
  offset: number | undefined;
  epoch: number | undefined;
  pm: number;
  yday: number;
}

type Setter = (f: Fields, value: string) => boolean;

const MONTHS: Record<string, number> = {
  jan: 1, feb: 2, mar: 3, apr: 4, may: 5, jun: 6, jul: 7, aug: 8, sep: 9, oct: 10, nov: 11, dec: 12,
};

function monthOf(name: string): number | undefined {
  return MONTHS[name.slice(0, 3).toLowerCase()];
}

const num = (key: 'year' | 'month' | 'day' | 'hour' | 'minute' | 'second' | 'yday'): Setter => (f, v) => {
  f[key] = Number(v);
  return true;
};

const DIRECTIVES: Record<string, [pattern: string, setter: Setter | undefined]> = {
  Y: ['([+-]?\\d{4})', num('year')],
  y: ['(\\d{2})', (f, v) => ((f.year = Number(v) + (Number(v) < 69 ? 2000 : 1900)), true)],
  m: ['(\\d{1,2})', num('month')],
  d: ['(\\d{1,2})', num('day')],
  e: ['\\s?(\\d{1,2})', num('day')],
  H: ['(\\d{1,2})', num('hour')],
  k: ['\\s?(\\d{1,2})', num('hour')],
  I: ['(\\d{1,2})', num('hour')],
  l: ['\\s?(\\d{1,2})', num('hour')],
  M: ['(\\d{1,2})', num('minute')],
  S: ['(\\d{1,2})', num('second')],
  j: ['(\\d{1,3})', num('yday')],
  p: ['([AaPp][Mm])', (f, v) => ((f.pm = v[0] === 'P' || v[0] === 'p' ? 2 : 1), true)],
  b: ['([A-Za-z]{3})', (f, v) => setMonth(f, v)],
  h: ['([A-Za-z]{3})', (f, v) => setMonth(f, v)],
  B: ['([A-Za-z]{3,9})', (f, v) => setMonth(f, v)],
  a: ['[A-Za-z]{3}', undefined],
  A: ['[A-Za-z]{6,9}', undefined],
  N: ['(\\d{1,9})\\d*', (f, v) => ((f.nsec = Number(v.padEnd(9, '0'))), true)],
  z: ['([+-]\\d{2}:?\\d{2}|[Zz])', (f, v) => setOffset(f, v)],
  Z: ['([+-]\\d{2}:?\\d{2}|[Zz]|UTC|GMT)', (f, v) => setOffset(f, v === 'UTC' || v === 'GMT' ? 'Z' : v)],
  s: ['(-?\\d{1,12})', (f, v) => ((f.epoch = Number(v)), true)],
};
DIRECTIVES.L = DIRECTIVES.N!;
DIRECTIVES.f = DIRECTIVES.N!;

const COMPOSITES: Record<string, string> = { T: '%H:%M:%S', F: '%Y-%m-%d', D: '%m/%d/%y', R: '%H:%M' };

function setMonth(f: Fields, name: string): boolean {
  const month = monthOf(name);
  if (month === undefined) return false;
  f.month = month;
  return true;
}

function setOffset(f: Fields, text: string): boolean {
  f.offset = parseOffset(text);
  return f.offset !== undefined;
}

function escapeLiteral(ch: string): string {
  return /[\\^$.*+?()[\]{}|/]/.test(ch) ? `\\${ch}` : ch;
}

/** Throws an Error with a readable message when the format has an unknown directive. */
export function compileStrptime(format: string, zone: TimeZone, now: () => number = Date.now): StrptimeParser {
  let expanded = format;
  for (const [key, value] of Object.entries(COMPOSITES)) expanded = expanded.split(`%${key}`).join(value);
  let pattern = '^';
  const setters: Setter[] = [];
  let hasYear = false;
  for (let i = 0; i < expanded.length; i++) {
    const ch = expanded[i]!;
    if (ch !== '%') {
      // Like Ruby's strptime, whitespace in the format matches any run of whitespace.
      pattern += /\s/.test(ch) ? '\\s+' : escapeLiteral(ch);
      continue;
    }
    let directive = expanded[++i];
    if (directive === undefined) throw new Error(`time format "${format}" ends with a lone %`);
    if (directive === '%') {
      pattern += '%';
      continue;
    }
    if (/[369]/.test(directive) && expanded[i + 1] === 'N') directive = expanded[++i]!; // %3N %6N %9N
    const entry = DIRECTIVES[directive];
    if (!entry) throw new Error(`time format "${format}" has an unknown directive %${directive}`);
    if (directive === 'Y' || directive === 'y' || directive === 's') hasYear = true;
    pattern += entry[0];
    if (entry[1]) setters.push(entry[1]);
  }
  const regex = new RegExp(pattern + '$');
  const fields: Fields = { year: 0, month: 1, day: 1, hour: 0, minute: 0, second: 0, nsec: 0, offset: undefined, epoch: undefined, pm: 0, yday: 0 };

  return (text) => {
    const m = regex.exec(text);
    if (!m) return undefined;
    fields.year = 0;
    fields.month = 1;
    fields.day = 1;
    fields.hour = fields.minute = fields.second = fields.nsec = fields.pm = fields.yday = 0;
    fields.offset = fields.epoch = undefined;
    for (let g = 0; g < setters.length; g++) if (!setters[g]!(fields, m[g + 1]!)) return undefined;
    if (fields.epoch !== undefined) return new EventTime(fields.epoch, fields.nsec);
    if (fields.pm !== 0) {
      if (fields.hour < 1 || fields.hour > 12) return undefined;
      fields.hour = (fields.hour % 12) + (fields.pm === 2 ? 12 : 0);
    }
    if (fields.month < 1 || fields.month > 12 || fields.day < 1 || fields.day > 31 || fields.hour > 24 || fields.minute > 59 || fields.second > 60) return undefined;
    let year = hasYear ? fields.year : new Date(now()).getUTCFullYear();
    let wall = wallSeconds(year, fields);
    let sec = wall - (fields.offset ?? zone.offsetAtWall(wall));
    // A year-less stamp (syslog) from "the future" belongs to last year: Dec 31 read on Jan 1.
    if (!hasYear && sec > now() / 1000 + 86400) {
      year -= 1;
      wall = wallSeconds(year, fields);
      sec = wall - (fields.offset ?? zone.offsetAtWall(wall));
    }
    return new EventTime(sec, fields.nsec);
  };
}

function wallSeconds(year: number, f: Fields): number {
  if (f.yday > 0) return Date.UTC(year, 0, f.yday, f.hour, f.minute, f.second) / 1000;
  return Date.UTC(year, f.month - 1, f.day, f.hour, f.minute, f.second) / 1000;
}
