/**
 * The one nesting limit of a logkit stream: the deepest a record (or an event's options) may
 * nest maps and arrays, the record itself being level 1. Every reader refuses deeper input and
 * every writer keeps within it, so nothing one logkit stage writes is refused by the next, nor
 * by `receive` (whose `--max-depth` defaults to this). It bounds the recursion of every value
 * walk, too, so no input can exhaust the stack.
 */
export const MAX_DEPTH = 64;

/**
 * True when `value` nests maps/arrays deeper than `limit` levels (a record map is level 1).
 * Stops at the limit, so its own recursion is bounded. `isLeaf` names maps that stand for one
 * scalar (NDJSON's `{"$base64"}` bytes).
 */
export function nestsDeeperThan(value: unknown, limit: number = MAX_DEPTH, isLeaf?: (map: object) => boolean): boolean {
  if (typeof value !== 'object' || value === null || value instanceof Uint8Array) return false;
  if (limit <= 0) return !isLeaf?.(value);
  // hot (every record a reader decodes): recurse only into values that can nest
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i];
      if (typeof v === 'object' && v !== null && nestsDeeperThan(v, limit - 1, isLeaf)) return true;
    }
    return false;
  }
  if (value instanceof Map) {
    for (const [k, v] of value) if (nestsDeeperThan(k, limit - 1, isLeaf) || nestsDeeperThan(v, limit - 1, isLeaf)) return true;
    return false;
  }
  for (const key in value) {
    const v: unknown = (value as Record<string, unknown>)[key];
    if (typeof v === 'object' && v !== null && nestsDeeperThan(v, limit - 1, isLeaf)) return true;
  }
  return false;
}

/** A value nesting deeper than the stream's limit. */
export class TooDeepError extends RangeError {
  constructor(what: string, limit = MAX_DEPTH) {
    super(`${what} nested deeper than ${limit} levels (the stream's limit)`);
    this.name = 'TooDeepError';
  }
}
