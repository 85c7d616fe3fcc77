import { CliError, ExitCode } from '../base/exit-codes.js';
import type { CommandSpec, OptionSpec } from './spec.js';
import { DURATION_SYNTAX, SIZE_SYNTAX, parseDuration, parseSize } from '../base/units.js';

/**
 * The values of a command line as `run` receives them: durations in milliseconds, sizes in
 * bytes, every bound of the schema checked. A bad value is a usage error naming the option, so
 * that no command checks its own options by hand.
 */
export function resolveOptionValues(spec: CommandSpec, args: Record<string, unknown>): void {
  for (const [name, o] of Object.entries(spec.options)) {
    const key = camelCase(name);
    const given = args[key];
    if (given === undefined || o.type === 'string' || o.type === 'boolean') continue;
    const values = Array.isArray(given) ? given : [given];
    const resolved = values.map((value) => checkedValue(name, o, value));
    const result = Array.isArray(given) ? resolved : resolved[0];
    args[key] = result;
    args[name] = result;
  }
}

function checkedValue(name: string, o: OptionSpec, value: unknown): number {
  const number = toNumber(o, value);
  if (number === undefined) throw new CliError(`--${name}: expected ${expectation(o)}, got ${JSON.stringify(String(value))}`, ExitCode.USAGE);
  const min = o.min === undefined ? undefined : toNumber(o, o.min);
  const max = o.max === undefined ? undefined : toNumber(o, o.max);
  if ((o.integer && !Number.isInteger(number)) || (min !== undefined && number < min) || (max !== undefined && number > max)) {
    throw new CliError(`--${name}: expected ${rangeText(o) ?? expectation(o)}, got ${String(value)}`, ExitCode.USAGE);
  }
  return number;
}

/** The number an option value stands for (milliseconds for a duration, bytes for a size). */
function toNumber(o: OptionSpec, value: unknown): number | undefined {
  if (o.type === 'duration') return typeof value === 'string' || typeof value === 'number' ? parseDuration(value) : undefined;
  if (o.type === 'size') return typeof value === 'string' || typeof value === 'number' ? parseSize(value) : undefined;
  const number = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
  return Number.isFinite(number) ? number : undefined;
}

function expectation(o: OptionSpec): string {
  if (o.type === 'duration') return `a duration (${DURATION_SYNTAX})`;
  if (o.type === 'size') return `a size (${SIZE_SYNTAX})`;
  return o.integer ? 'a whole number' : 'a number';
}

/** The bounds of an option in words, e.g. "from 1k to 256m", "a whole number, at least 1"; undefined when it has none. */
export function rangeText(o: OptionSpec): string | undefined {
  const bounds =
    o.min !== undefined && o.max !== undefined ? `from ${o.min} to ${o.max}`
    : o.min !== undefined ? `at least ${o.min}`
    : o.max !== undefined ? `at most ${o.max}`
    : undefined;
  if (o.integer && o.type === 'number') return bounds ? `a whole number ${bounds}` : 'a whole number';
  return bounds;
}

/** The value placeholder of --help and the man page: DURATION, SIZE, or the spec's own. */
export function valuePlaceholder(o: OptionSpec): string {
  if (o.type === 'duration') return 'DURATION';
  if (o.type === 'size') return 'SIZE';
  return o.value ?? (o.choices ? o.choices.join('|') : o.type === 'number' ? 'N' : o.type.toUpperCase());
}

/** The default as --help and the man page show it (durations and sizes with their unit, as declared). */
export function defaultText(o: OptionSpec): string | undefined {
  if (o.defaultDescription) return o.defaultDescription;
  if (o.default === undefined || o.default === false) return undefined;
  return String(o.default);
}

/** Whether a spec has options of the unit types, whose syntax its help then explains. */
export function unitTypesOf(spec: CommandSpec): { duration: boolean; size: boolean } {
  const types = Object.values(spec.options).map((o) => o.type);
  return { duration: types.includes('duration'), size: types.includes('size') };
}

/** The paragraph explaining the unit types a command uses, for --help and the man page. */
export function unitsParagraph(spec: CommandSpec): string | undefined {
  const { duration, size } = unitTypesOf(spec);
  const lines = [...(duration ? [`DURATION is ${DURATION_SYNTAX}.`] : []), ...(size ? [`SIZE is ${SIZE_SYNTAX}.`] : [])];
  return lines.length > 0 ? lines.join(' ') : undefined;
}

export function camelCase(name: string): string {
  return name.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}
