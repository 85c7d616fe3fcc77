import type { CommandSpec, OptionSpec } from './spec.js';
import { camelCase } from './option-values.js';

/**
 * The arguments of a plain, valid command line, read straight from the command's schema without
 * yargs: yargs costs about 35 ms of CPU to load, a third of a short stage's start-up, and each
 * process of a pipeline pays it. Undefined means "not plain": anything that could be an error or
 * that yargs reads in a way of its own (help, unknown or repeated options, `--`, `-`, `-abc`,
 * boolean values as separate words, words after an array option's value, missing or extra
 * positionals, a value that is not one of the choices or that starts with a dash). The caller
 * then hands the line to yargs, so that every message and exit status stays yargs' own. For the
 * lines it accepts, the result is what yargs would return (test/cli/plain-args.test.ts checks
 * both against each other).
 */
export function plainArgs(spec: CommandSpec, argv: readonly string[]): Record<string, unknown> | undefined {
  const options = new Map<string, [name: string, option: OptionSpec]>();
  for (const [name, o] of Object.entries(spec.options)) {
    options.set(name, [name, o]);
    if (o.alias) options.set(o.alias, [name, o]);
  }
  const given = new Map<string, string | boolean | string[]>();
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('-')) {
      positionals.push(arg);
      continue;
    }
    const match = /^(?:--([a-z][a-z0-9-]*)|-([a-zA-Z]))(?:=(.*))?$/s.exec(arg);
    if (!match) return undefined;
    const written = match[1] ?? match[2]!;
    const short = match[2] !== undefined;
    const inline = match[3];
    const negated = !short && written.startsWith('no-') && !options.has(written) ? written.slice(3) : undefined;
    const found = options.get(negated ?? written);
    if (!found || (short && found[1].alias !== written) || (!short && found[0] !== (negated ?? written))) return undefined;
    const [name, o] = found;
    if (given.has(name) && !o.array) return undefined;
    if (o.type === 'boolean') {
      const next = argv[i + 1];
      if (inline !== undefined || next === 'true' || next === 'false') return undefined;
      given.set(name, negated === undefined);
      continue;
    }
    if (negated !== undefined) return undefined;
    const value = inline ?? argv[++i];
    // yargs reads true and false as booleans in an option it has no type for (numbers, durations, sizes)
    if (value === undefined || value === '' || value.startsWith('-') || value === 'true' || value === 'false') return undefined;
    if (o.choices && !o.choices.includes(value)) return undefined;
    if (o.array) {
      // yargs would take the words that follow as more values
      if (argv[i + 1] !== undefined && !argv[i + 1]!.startsWith('-')) return undefined;
      given.set(name, [...((given.get(name) as string[] | undefined) ?? []), value]);
    } else {
      given.set(name, value);
    }
  }

  const args: Record<string, unknown> = { _: [spec.name] };
  let p = 0;
  for (const positional of spec.positionals) {
    if (positional.type !== 'string') return undefined;
    const values = positional.variadic ? positionals.slice(p) : positionals.slice(p, p + 1);
    p += values.length;
    // a missing positional is an error, or (optional, not variadic) left out as yargs leaves it
    if (values.length === 0 && (positional.required || !positional.variadic)) return undefined;
    if (positional.choices && values.some((v) => !positional.choices!.includes(v))) return undefined;
    setArg(args, positional.name, positional.variadic ? values : values[0]);
  }
  if (p < positionals.length) return undefined;

  for (const [name, o] of Object.entries(spec.options)) {
    const value = given.get(name) ?? o.default;
    if (value === undefined) {
      if (o.required || o.type === 'boolean') return undefined;
      continue;
    }
    setArg(args, name, value);
    if (o.alias) args[o.alias] = value;
  }
  args.$0 = 'logkit';
  return args;
}

/** Under its name and, for a dashed name, its camel-cased one too, as yargs does. */
function setArg(args: Record<string, unknown>, name: string, value: unknown): void {
  args[name] = value;
  args[camelCase(name)] = value;
}
