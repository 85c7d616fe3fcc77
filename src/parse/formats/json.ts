import type { EventRecord } from '../../event/event.js';
import { isSafeNumber, parseLossless } from '../../codec/lossless-json.js';
import { MAX_DEPTH, TooDeepError, nestsDeeperThan } from '../../codec/depth-limit.js';
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
      if (nestsDeeperThan(value, MAX_DEPTH)) {
        this.error = tooDeep;
        return undefined;
      }
      // JSON.parse rounds integers beyond 2^53; the rare line holding one is parsed again exactly.
      if (hasUnsafeInteger(value, 0)) value = parseLossless(text, null, exactNumber);
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

function hasUnsafeInteger(value: unknown, depth: number): boolean {
  if (typeof value === 'number') return !Number.isSafeInteger(value) && Number.isInteger(value);
  if (typeof value !== 'object' || value === null || depth > MAX_DEPTH) return false;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (hasUnsafeInteger(value[i], depth + 1)) return true;
    return false;
  }
  for (const key in value) if (hasUnsafeInteger((value as Record<string, unknown>)[key], depth + 1)) return true;
  return false;
}
