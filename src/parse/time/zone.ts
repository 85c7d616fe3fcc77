import { DateTime, IANAZone } from 'luxon';

/**
 * The time zone a wall-clock time without its own offset is read in (syslog RFC 3164 stamps,
 * zoneless ISO 8601, strptime formats without %z). Fixed offsets cost nothing; named IANA zones
 * go through luxon, which knows the DST rules, with a cache per 15 minutes of wall time
 * (every zone's transitions fall on quarter hours), so the hot path rarely asks luxon.
 */
export class TimeZone {
  private cachedBucket = NaN;
  private cachedOffset = 0;

  private constructor(
    readonly name: string,
    private readonly fixedOffset: number | undefined,
  ) {}

  /** `local` (the machine's zone), `UTC`, `+09:00`/`-0530`, or an IANA name like `Europe/Berlin`. */
  static parse(name: string): TimeZone | undefined {
    if (name === 'UTC' || name === 'utc' || name === 'Z' || name === 'GMT') return new TimeZone('UTC', 0);
    const fixed = parseOffset(name);
    if (fixed !== undefined) return new TimeZone(name, fixed);
    if (name === 'local') return new TimeZone('local', undefined);
    if (IANAZone.isValidZone(name)) return new TimeZone(name, undefined);
    return undefined;
  }

  /** Seconds east of UTC in effect at this wall-clock time (seconds since the epoch as if in UTC). */
  offsetAtWall(wallSeconds: number): number {
    if (this.fixedOffset !== undefined) return this.fixedOffset;
    const bucket = Math.floor(wallSeconds / 900);
    if (bucket === this.cachedBucket) return this.cachedOffset;
    const wall = new Date(wallSeconds * 1000);
    const local = DateTime.fromObject(
      {
        year: wall.getUTCFullYear(),
        month: wall.getUTCMonth() + 1,
        day: wall.getUTCDate(),
        hour: wall.getUTCHours(),
        minute: wall.getUTCMinutes(),
        second: wall.getUTCSeconds(),
      },
      { zone: this.name === 'local' ? 'system' : this.name },
    );
    this.cachedBucket = bucket;
    this.cachedOffset = local.offset * 60;
    return this.cachedOffset;
  }
}

/** `+0900`, `+09:00`, `-05`, `Z` → seconds east of UTC; undefined when not an offset. */
export function parseOffset(text: string): number | undefined {
  if (text === 'Z' || text === 'z') return 0;
  const m = /^([+-])(\d{2}):?(\d{2})?$/.exec(text);
  if (!m) return undefined;
  const minutes = Number(m[2]) * 60 + Number(m[3] ?? '0');
  if (minutes > 18 * 60) return undefined;
  return (m[1] === '-' ? -minutes : minutes) * 60;
}
