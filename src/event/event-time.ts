/**
 * An event's time with nanosecond precision, as the forward protocol's EventTime carries it:
 * unsigned 32-bit seconds since the Unix epoch and 32-bit nanoseconds.
 */
export class EventTime {
  constructor(
    readonly sec: number,
    readonly nsec: number,
  ) {}

  static now(): EventTime {
    // Date.now() has millisecond resolution; hrtime adds sub-millisecond digits that are
    // monotonic within the process, which keeps events from one batch ordered.
    const ms = Date.now();
    const sub = Number(process.hrtime.bigint() % 1_000_000n);
    return new EventTime(Math.floor(ms / 1000), (ms % 1000) * 1_000_000 + sub);
  }

  /**
   * Seconds as a float. A float64 near today's epoch holds the fraction to about 0.2 µs, so the
   * fraction is rounded to whole microseconds: 1441588984.248 means .248000000, not .247999907.
   */
  static fromSeconds(seconds: number): EventTime {
    const sec = Math.floor(seconds);
    let nsec = Math.round((seconds - sec) * 1e6) * 1000;
    if (nsec >= 1e9) return new EventTime(sec + 1, nsec - 1e9);
    if (nsec < 0) nsec = 0;
    return new EventTime(sec, nsec);
  }

  static fromMillis(ms: number): EventTime {
    const sec = Math.floor(ms / 1000);
    return new EventTime(sec, Math.round((ms - sec * 1000) * 1e6));
  }

  /**
   * Parses an RFC 3339 / ISO 8601 date-time keeping every fraction digit up to nanoseconds.
   * Returns undefined when the text is not such a date.
   */
  static fromISO(text: string): EventTime | undefined {
    const m = ISO_PATTERN.exec(text);
    if (!m) return undefined;
    const [, date, hh, mm, ss, frac, zone] = m;
    let offsetMinutes = 0;
    if (zone && zone !== 'Z' && zone !== 'z') {
      const sign = zone[0] === '-' ? -1 : 1;
      const digits = zone.slice(1).replace(':', '');
      offsetMinutes = sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4) || '0'));
    }
    const ms = Date.parse(`${date}T${hh}:${mm}:${ss}Z`);
    if (Number.isNaN(ms)) return undefined;
    const sec = ms / 1000 - offsetMinutes * 60;
    const nsec = frac ? Number(frac.slice(0, 9).padEnd(9, '0')) : 0;
    return new EventTime(sec, nsec);
  }

  /** `2026-11-21T19:43:40.123456789Z`: always nine fraction digits, so text order is time order. */
  toISO(): string {
    // events come in runs of the same second: format the date part once per second, not per event
    if (this.sec !== isoCache.sec) {
      isoCache.sec = this.sec;
      isoCache.prefix = new Date(this.sec * 1000).toISOString().slice(0, 20); // ...:SS.
    }
    const nsec = this.nsec;
    return `${isoCache.prefix}${nsec >= 100_000_000 ? String(nsec) : String(nsec).padStart(9, '0')}Z`;
  }

  toMillis(): number {
    return this.sec * 1000 + Math.floor(this.nsec / 1e6);
  }

  equals(other: EventTime): boolean {
    return this.sec === other.sec && this.nsec === other.nsec;
  }

  compare(other: EventTime): number {
    return this.sec - other.sec || this.nsec - other.nsec;
  }
}

/** The date part of the last second toISO formatted (one process-wide entry is enough: see toISO). */
const isoCache = { sec: Number.NaN, prefix: '' };

const ISO_PATTERN =
  /^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d+))?([Zz]|[+-]\d{2}(?::?\d{2})?)?$/;
