import { EventTime } from '../../event/event-time.js';
import { parseISO8601 } from './iso8601.js';
import { compileStrptime } from './strptime.js';
import type { TimeZone } from './zone.js';

/** Longest time text looked at; a time is never longer, and the bound keeps matching cheap. */
export const MAX_TIME_TEXT = 256;

/**
 * How a time field is read: `auto` (numbers as epoch seconds, text as ISO 8601 or epoch digits),
 * `iso8601`, `epoch` (seconds, fraction allowed), `epoch_ms`, `epoch_ns`, or a strptime format
 * (anything containing %).
 */
export const NAMED_TIME_FORMATS = ['auto', 'iso8601', 'epoch', 'epoch_ms', 'epoch_ns'] as const;

export type TimeParser = (value: unknown) => EventTime | undefined;

/** Throws an Error with a readable message for a bad format. */
export function createTimeParser(format: string, zone: TimeZone): TimeParser {
  const parse = createUncachedTimeParser(format, zone);
  // Consecutive lines often share a stamp (second resolution): one parse per distinct text.
  let lastText: string | undefined;
  let lastTime: EventTime | undefined;
  return (value) => {
    if (typeof value !== 'string') return parse(value);
    if (value === lastText) return lastTime;
    lastTime = value.length > MAX_TIME_TEXT ? undefined : parse(value);
    lastText = value;
    return lastTime;
  };
}

function createUncachedTimeParser(format: string, zone: TimeZone): TimeParser {
  switch (format) {
    case 'auto':
      return (value) => {
        if (typeof value === 'number' || typeof value === 'bigint') return fromEpoch(value, 1);
        if (typeof value !== 'string') return undefined;
        return isEpochText(value) ? fromEpoch(value, 1) : parseISO8601(value, zone);
      };
    case 'iso8601':
      return (value) => (typeof value === 'string' ? parseISO8601(value, zone) : undefined);
    case 'epoch':
      return (value) => fromEpoch(value, 1);
    case 'epoch_ms':
      return (value) => fromEpoch(value, 1e3);
    case 'epoch_ns':
      return (value) => fromEpoch(value, 1e9);
    default: {
      if (!format.includes('%')) throw new Error(`unknown time format "${format}": use ${NAMED_TIME_FORMATS.join(', ')} or a strptime format such as %d/%b/%Y:%H:%M:%S %z`);
      const strptime = compileStrptime(format, zone);
      return (value) => (typeof value === 'string' ? strptime(value) : undefined);
    }
  }
}

/** Digits, optionally signed and with a fraction: an epoch in text (checked without a regex: hot path). */
function isEpochText(text: string): boolean {
  const first = text.charCodeAt(0);
  // ISO stamps have '-' at index 4; epoch text is all digits (and one point).
  return ((first >= 48 && first <= 57) || first === 45) && text.charCodeAt(4) !== 45 && /^-?\d+(\.\d+)?$/.test(text);
}

/** Epoch in units of 1/perSecond seconds, from a number, bigint or digit string, exactly where possible. */
function fromEpoch(value: unknown, perSecond: number): EventTime | undefined {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0 || value / perSecond >= 2 ** 32) return undefined;
    if (perSecond === 1) return EventTime.fromSeconds(value);
    if (perSecond === 1e3) return EventTime.fromMillis(value);
    return fromEpochDigits(BigInt(Math.round(value)).toString(), '', 1e9);
  }
  if (typeof value === 'bigint') return fromEpochDigits(value.toString(), '', perSecond);
  if (typeof value !== 'string') return undefined;
  const m = /^(-?\d{1,20})(?:\.(\d{1,9})\d*)?$/.exec(value);
  if (!m) return undefined;
  return fromEpochDigits(m[1]!, m[2] ?? '', perSecond);
}

/** Integer digits and fraction digits in a unit → seconds and nanoseconds, with no float rounding. */
function fromEpochDigits(whole: string, fraction: string, perSecond: number): EventTime | undefined {
  const unitDigits = perSecond === 1 ? 0 : perSecond === 1e3 ? 3 : 9;
  const negative = whole.startsWith('-');
  const digits = (negative ? whole.slice(1) : whole).padStart(unitDigits + 1, '0');
  const secText = digits.slice(0, digits.length - unitDigits);
  const nsText = (digits.slice(digits.length - unitDigits) + fraction).slice(0, 9).padEnd(9, '0');
  let sec = Number(secText);
  let nsec = Number(nsText);
  if (negative) {
    sec = -sec;
    if (nsec > 0) {
      sec -= 1;
      nsec = 1e9 - nsec;
    }
  }
  if (!Number.isSafeInteger(sec) || sec < 0 || sec >= 2 ** 32) return undefined;
  return new EventTime(sec, nsec);
}
