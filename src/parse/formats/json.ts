import type { EventRecord } from '../../event/event.js';
import { isSafeNumber, parseLossless } from '../../codec/lossless-json.js';
import { MAX_DEPTH, TooDeepError } from '../../codec/depth-limit.js';
import type { LineParser } from '../line-parser.js';

/**
 * One JSON object a line. Integers beyond 2^53 are kept exact (as bigint), as in NDJSON input.
 * An object nesting deeper than the stream's limit is a parse error (the line is kept as text):
 * no later stage could carry it.
 */
export class JsonParser implements LineParser {
  error = '';
  time: string | undefined = undefined;
  readonly ownsTime = false;

  parse(text: string): EventRecord | undefined {
    let value: unknown;
    try {
      value = JSON.parse(text); // iterative: any depth parses without exhausting the stack
      const found = inspect(value, MAX_DEPTH);
      if (found === TOO_DEEP) {
        this.error = tooDeep;
        return undefined;
      }
      // JSON.parse rounds integers beyond 2^53; the rare line holding one is parsed again exactly.
      if (found === UNSAFE_INTEGER) value = parseLossless(text, null, exactNumber);
    } catch (error) {
      this.error = `invalid JSON: ${(error as Error).message}`;
      return undefined;
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      this.error = 'JSON is not an object';
      return undefined;
    }
    return value as EventRecord;
  }
}

const tooDeep = new TooDeepError('JSON').message;

function exactNumber(digits: string): number | bigint {
  if (isSafeNumber(digits)) return Number(digits);
  return /^-?\d+$/.test(digits) ? BigInt(digits) : Number(digits);
}

const UNSAFE_INTEGER = 1;
const TOO_DEEP = 2;

/**
 * One walk over a parsed line (it runs on every line): TOO_DEEP when it nests maps/arrays deeper
 * than `levels`, else UNSAFE_INTEGER when it holds an integer JSON.parse rounded, else 0.
 */
function inspect(value: unknown, levels: number): number {
  if (typeof value === 'number') return Number.isInteger(value) && !Number.isSafeInteger(value) ? UNSAFE_INTEGER : 0;
  if (typeof value !== 'object' || value === null) return 0;
  if (levels <= 0) return TOO_DEEP;
  let found = 0;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i];
      if (typeof v !== 'object' && typeof v !== 'number') continue;
      found |= inspect(v, levels - 1);
      if (found & TOO_DEEP) return TOO_DEEP;
    }
    return found;
  }
  for (const key in value) {
    const v: unknown = (value as Record<string, unknown>)[key];
    if (typeof v !== 'object' && typeof v !== 'number') continue;
    found |= inspect(v, levels - 1);
    if (found & TOO_DEEP) return TOO_DEEP;
  }
  return found;
}
