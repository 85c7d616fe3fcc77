import { createRequire } from 'node:module';
import type * as LosslessJSON from 'lossless-json';

/**
 * lossless-json, loaded on first use: only a line holding an integer beyond 2^53 needs it, and
 * importing it eagerly costs every stage ~8 ms of start-up. Its CommonJS (UMD) build loads
 * synchronously through require, so callers stay synchronous.
 */
let loaded: typeof LosslessJSON | undefined;

function losslessJSON(): typeof LosslessJSON {
  return (loaded ??= createRequire(import.meta.url)('lossless-json') as typeof LosslessJSON);
}

export function parseLossless(text: string, reviver: null, parseNumber: (digits: string) => unknown): unknown {
  return losslessJSON().parse(text, reviver, parseNumber);
}

export function isSafeNumber(digits: string): boolean {
  return losslessJSON().isSafeNumber(digits);
}
