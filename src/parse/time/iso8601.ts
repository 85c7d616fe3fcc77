import { EventTime } from '../../event/event-time.js';
import type { TimeZone } from './zone.js';

/**
 * RFC 3339 / ISO 8601 date-times (`2026-11-21T10:00:00.123456789Z`, `…+02:00`, `…+0200`, a space
 * for the T, a comma for the point), read with charCodeAt and civil-date arithmetic: this runs
 * once per JSON, Docker or CRI line, where building a string for Date.parse cost a tenth of the
 * whole stage. Every fraction digit up to nanoseconds is kept. A stamp without an offset is read
 * in `zone`. Returns undefined for anything else (including impossible dates like 02-30).
 */
export function parseISO8601(text: string, zone: TimeZone | undefined): EventTime | undefined {
  const n = text.length;
  if (n < 19 || n > 64) return undefined;
  const year = digits(text, 0, 4);
  const month = digits(text, 5, 2);
  const day = digits(text, 8, 2);
  const hour = digits(text, 11, 2);
  const minute = digits(text, 14, 2);
  const second = digits(text, 17, 2);
  if (year < 0 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 60) return undefined;
  if (text.charCodeAt(4) !== 45 || text.charCodeAt(7) !== 45 || text.charCodeAt(13) !== 58 || text.charCodeAt(16) !== 58) return undefined;
  const t = text.charCodeAt(10);
  if (t !== 84 && t !== 116 && t !== 32) return undefined; // T t space
  if (day > daysInMonth(year, month)) return undefined;
  let i = 19;
  let nsec = 0;
  const point = text.charCodeAt(i);
  if (point === 46 || point === 44) {
    i++;
    let scale = 100_000_000;
    const start = i;
    for (; i < n; i++) {
      const d = text.charCodeAt(i) - 48;
      if (d < 0 || d > 9) break;
      nsec += d * scale;
      scale /= 10;
    }
    if (i === start) return undefined;
    nsec = Math.floor(nsec);
  }
  let offset: number | undefined;
  if (i < n) {
    const z = text.charCodeAt(i);
    if ((z === 90 || z === 122) && i + 1 === n) offset = 0;
    else if (z === 43 || z === 45) {
      const oh = digits(text, i + 1, 2);
      let om = 0;
      let j = i + 3;
      if (j < n && text.charCodeAt(j) === 58) j++;
      if (j < n) {
        om = digits(text, j, 2);
        j += 2;
      }
      if (oh < 0 || oh > 18 || om < 0 || om > 59 || j !== n) return undefined;
      offset = (z === 45 ? -1 : 1) * (oh * 3600 + om * 60);
    } else return undefined;
  }
  const wall = daysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second;
  const sec = wall - (offset ?? zone?.offsetAtWall(wall) ?? 0);
  if (sec < 0 || sec >= 2 ** 32) return undefined;
  return new EventTime(sec, nsec);
}

/** A run of `count` ASCII digits at `at` as a number, or -1. */
function digits(text: string, at: number, count: number): number {
  let value = 0;
  for (let i = at; i < at + count; i++) {
    const d = text.charCodeAt(i) - 48;
    if (!(d >= 0 && d <= 9)) return -1;
    value = value * 10 + d;
  }
  return value;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm). */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}
