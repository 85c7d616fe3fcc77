/**
 * The source positions a store has committed, per source, as sorted disjoint ranges of
 * offsets (inclusive). An event's identity is its source and the offset `tail` gave it (the
 * byte just past its line); an event is committed when its offset lies in one of its source's
 * ranges.
 *
 * Ranges, not a high-water mark: chunks of one source reach a store out of order (several in
 * flight, a failed chunk resent after later ones succeeded, a chunk failing over from another
 * aggregator), so an offset below the highest one committed may belong to an event never
 * stored. Skipping it would be a loss.
 *
 * Two offsets merge into one range only when no event can lie between them: when they are
 * consecutive integers. Events of a source end at distinct offsets, so offsets 4 and 5 leave no
 * room for another event, while 57 and 112 (two lines of 55 bytes) may have had one between
 * them that went elsewhere. Identities that count events (1, 2, 3 …) therefore collapse into
 * one range per source; byte offsets of lines stay one range each, which is why the number of
 * ranges is bounded.
 *
 * Bounded: at most `maxSources` sources (the least recently committed forgotten first) and
 * `maxRanges` ranges in all (the lowest ranges of the least recently committed source
 * forgotten first). Forgetting only ever turns a later replay of what was forgotten into a
 * duplicate, never into a loss.
 */
export interface CommittedRangesLimits {
  maxSources: number;
  maxRanges: number;
}

export const COMMITTED_RANGES_LIMITS: CommittedRangesLimits = { maxSources: 10_000, maxRanges: 1_000_000 };

/** Per source, ranges as a flat sorted list [from0, to0, from1, to1, …]. */
export type RangesRecord = Record<string, number[]>;

export class CommittedRanges {
  /** Source id → flat ranges; Map order is least recently committed first. */
  private readonly sources = new Map<string, number[]>();
  private rangeCount = 0;
  /** Ranges forgotten to stay within the limits (replays of them are stored again). */
  forgotten = 0;

  constructor(private readonly limits: CommittedRangesLimits = COMMITTED_RANGES_LIMITS) {}

  get size(): number {
    return this.rangeCount;
  }

  get sourceCount(): number {
    return this.sources.size;
  }

  has(id: string, off: number): boolean {
    const flat = this.sources.get(id);
    if (!flat) return false;
    // the last range starting at or below off
    let lo = 0;
    let hi = flat.length / 2 - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (flat[mid * 2]! <= off) lo = mid + 1;
      else hi = mid - 1;
    }
    return hi >= 0 && off <= flat[hi * 2 + 1]!;
  }

  /** Adds offsets of one source (any order, repeats allowed); returns the ranges they made, for a journal. */
  addOffsets(id: string, offsets: readonly number[]): number[] {
    const sorted = Float64Array.from(offsets).sort();
    const ranges: number[] = [];
    for (let i = 0; i < sorted.length; i++) pushRange(ranges, sorted[i]!, sorted[i]!);
    this.addRanges(id, ranges);
    return ranges;
  }

  /** Adds flat sorted disjoint ranges of one source (as addOffsets returns, or a journal holds). */
  addRanges(id: string, ranges: readonly number[]): void {
    if (ranges.length === 0) return;
    const known = this.sources.get(id);
    const before = known ? known.length / 2 : 0;
    const merged = known ? mergeRanges(known, ranges) : ranges.slice();
    // delete + set: the source moves to the end (most recently committed)
    this.sources.delete(id);
    this.sources.set(id, merged);
    this.rangeCount += merged.length / 2 - before;
    this.enforceLimits();
  }

  /** Every source's ranges, for a snapshot. */
  toRecord(): RangesRecord {
    return Object.fromEntries(this.sources);
  }

  private enforceLimits(): void {
    while (this.sources.size > this.limits.maxSources) {
      const [id, flat] = this.sources.entries().next().value as [string, number[]];
      this.sources.delete(id);
      this.rangeCount -= flat.length / 2;
      this.forgotten += flat.length / 2;
    }
    while (this.rangeCount > this.limits.maxRanges) {
      const [id, flat] = this.sources.entries().next().value as [string, number[]];
      const excess = this.rangeCount - this.limits.maxRanges;
      const drop = Math.min(excess, flat.length / 2);
      if (drop === flat.length / 2) this.sources.delete(id);
      else flat.splice(0, drop * 2); // the lowest: the oldest positions, the least likely to be replayed
      this.rangeCount -= drop;
      this.forgotten += drop;
    }
  }
}

/** Merges two flat sorted range lists into one, joining overlapping and consecutive ranges. */
function mergeRanges(a: number[], b: readonly number[]): number[] {
  // the usual case: a source's new positions lie above everything committed before
  if (b[0]! > a[a.length - 1]! + 1) {
    for (let i = 0; i < b.length; i++) a.push(b[i]!);
    return a;
  }
  const out: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    let from: number;
    let to: number;
    if (j >= b.length || (i < a.length && a[i]! <= b[j]!)) {
      from = a[i]!;
      to = a[i + 1]!;
      i += 2;
    } else {
      from = b[j]!;
      to = b[j + 1]!;
      j += 2;
    }
    pushRange(out, from, to);
  }
  return out;
}

/** Ranges from outside (a file): any order, overlapping, or from > to (dropped); returned sorted and merged. */
export function normalizeRanges(flat: readonly number[]): number[] {
  const pairs: Array<[number, number]> = [];
  for (let i = 0; i + 1 < flat.length; i += 2) if (flat[i]! <= flat[i + 1]!) pairs.push([flat[i]!, flat[i + 1]!]);
  pairs.sort((a, b) => a[0] - b[0]);
  const out: number[] = [];
  for (const [from, to] of pairs) pushRange(out, from, to);
  return out;
}

/** Appends [from, to] to ranges sorted by start, joining it with the last one where they overlap or touch. */
function pushRange(out: number[], from: number, to: number): void {
  const last = out.length - 1;
  if (last > 0 && from <= out[last]! + 1) out[last] = Math.max(out[last]!, to);
  else out.push(from, to);
}
