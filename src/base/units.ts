/**
 * The two units of the command line, one meaning everywhere (and no dependencies, so --help
 * stays fast). A duration is a number with ms, s, m, h or d; a bare number is seconds, as in
 * Fluentd's configuration. A size is a number with k, m, g or t (binary: k = 1024; a trailing b
 * is optional); a bare number is bytes. Both are case-insensitive.
 */

const DURATION_UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1000, '': 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const SIZE_UNITS: Readonly<Record<string, number>> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

export const DURATION_SYNTAX = 'a number with ms, s, m, h or d, like 250ms, 5s, 2m or 1h; a bare number is seconds';
export const SIZE_SYNTAX = 'a number with k, m, g or t (binary: 1k = 1024 bytes; b optional), like 64k, 1m or 1g; a bare number is bytes';

/** "250ms" → 250, "5s" and "5" → 5000, "1.5m" → 90000 (milliseconds, rounded); undefined when not a duration. */
export function parseDuration(text: string | number): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*(ms|s|m|h|d|)\s*$/i.exec(String(text));
  if (!match) return undefined;
  const ms = Math.round(Number(match[1]) * DURATION_UNITS[match[2]!.toLowerCase()]!);
  return Number.isSafeInteger(ms) ? ms : undefined;
}

/** "64k" → 65536, "1MB" and "1m" → 1048576, "4096" → 4096 (bytes, rounded down); undefined when not a size. */
export function parseSize(text: string | number): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*([kmgt]?)(?:i?b)?\s*$/i.exec(String(text));
  if (!match) return undefined;
  const bytes = Math.floor(Number(match[1]) * SIZE_UNITS[match[2]!.toLowerCase()]!);
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

/** Milliseconds in the largest unit that divides them: 50 → "50ms", 5000 → "5s", 3600000 → "1h". */
export function formatDuration(ms: number): string {
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) {
    if (ms !== 0 && ms % size === 0) return `${ms / size}${unit}`;
  }
  return ms === 0 ? '0s' : `${ms}ms`;
}

/** Bytes in the largest binary unit that divides them: 65536 → "64k", 1073741824 → "1g", 100 → "100". */
export function formatSize(bytes: number): string {
  for (const [unit, size] of [['t', 1024 ** 4], ['g', 1024 ** 3], ['m', 1024 ** 2], ['k', 1024]] as const) {
    if (bytes !== 0 && bytes % size === 0) return `${bytes / size}${unit}`;
  }
  return String(bytes);
}
