/**
 * The time zone a wall-clock time without its own offset is read in (syslog RFC 3164 stamps,
 * zoneless ISO 8601, strptime formats without %z). Fixed offsets cost nothing; named IANA zones
 * go through Intl (Node's ICU knows the DST rules), with a cache per 15 minutes of wall time
 * (every zone's transitions fall on quarter hours), so the hot path rarely asks Intl.
 */
export class TimeZone {
  private cachedBucket = NaN;
  private cachedOffset = 0;
  private formatter: Intl.DateTimeFormat | undefined;

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
    if (isIanaZone(name)) return new TimeZone(name, undefined);
    return undefined;
  }

  /** Seconds east of UTC in effect at this wall-clock time (seconds since the epoch as if in UTC). */
  offsetAtWall(wallSeconds: number): number {
    if (this.fixedOffset !== undefined) return this.fixedOffset;
    const bucket = Math.floor(wallSeconds / 900);
    if (bucket === this.cachedBucket) return this.cachedOffset;
    this.cachedBucket = bucket;
    this.cachedOffset = this.wallOffset(Math.floor(wallSeconds) * 1000) / 1000;
    return this.cachedOffset;
  }

  /**
   * The offset (ms) that makes this wall time a real instant: guess with the offset at the wall
   * time read as UTC, correct once with the offset at the guessed instant. Around a DST change, a
   * wall time that occurs twice or never gets one of the two offsets in effect around it (a log
   * line is never refused for it).
   */
  private wallOffset(wallMs: number): number {
    const first = this.offsetAt(wallMs);
    const second = this.offsetAt(wallMs - first);
    if (first === second) return first;
    const third = this.offsetAt(wallMs - second);
    return second === third ? second : Math.max(second, third);
  }

  /** Offset east of UTC (ms) in effect at this instant. */
  private offsetAt(instantMs: number): number {
    if (this.name === 'local') return -new Date(instantMs).getTimezoneOffset() * 60_000;
    this.formatter ??= new Intl.DateTimeFormat('en-US', {
      timeZone: this.name,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    const part: Record<string, number> = {};
    for (const { type, value } of this.formatter.formatToParts(new Date(instantMs))) part[type] = Number(value);
    const wall = Date.UTC(part.year!, part.month! - 1, part.day!, part.hour!, part.minute!, part.second!);
    return wall - (instantMs - (((instantMs % 1000) + 1000) % 1000));
  }
}

function isIanaZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
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
