import type { Argv, Options, PositionalOptions } from 'yargs';
import type { CommandSpec, OptionSpec } from './spec.js';
import { usageLine } from './spec.js';
import { defaultText, rangeText, unitsParagraph, valuePlaceholder } from './option-values.js';

/** The yargs command string for a spec, e.g. `cat [file..]`. */
export function yargsCommandString(spec: CommandSpec): string {
  const parts = spec.positionals.map((p) => {
    const name = p.name + (p.variadic ? '..' : '');
    return p.required ? `<${name}>` : `[${name}]`;
  });
  return [spec.name, ...parts].join(' ');
}

/** Declares a spec's positionals, options, groups and examples on a yargs instance. */
export function applySpec<T>(y: Argv<T>, spec: CommandSpec): Argv<T> {
  y.usage(`${usageLine(spec)}\n\n${spec.summary}\n\n${spec.description}`);
  for (const p of spec.positionals) {
    const options: PositionalOptions = { describe: p.describe, type: p.type };
    if (p.choices) options.choices = [...p.choices];
    if (p.variadic) options.array = true;
    y.positional(p.name, options);
  }
  const groups = new Map<string, string[]>();
  for (const [name, o] of Object.entries(spec.options)) {
    const options: Options = { describe: helpText(o), requiresArg: o.type !== 'boolean' };
    // numbers, durations and sizes reach resolveOptionValues as typed, which checks and converts them
    if (o.type === 'string' || o.type === 'boolean') options.type = o.type;
    if (o.alias) options.alias = o.alias;
    if (o.default !== undefined) options.default = o.default;
    const shownDefault = defaultText(o);
    if (shownDefault !== undefined && (o.defaultDescription || typeof o.default === 'string')) options.defaultDescription = shownDefault;
    if (o.choices) options.choices = [...o.choices];
    if (o.array) options.array = true;
    if (o.required) options.demandOption = true;
    y.option(name, options);
    if (o.group) groups.set(o.group, [...(groups.get(o.group) ?? []), name]);
  }
  for (const [heading, names] of groups) y.group(names, `${heading}:`);
  for (const [command, explanation] of spec.examples) y.example(command, explanation);
  const units = unitsParagraph(spec);
  if (units) y.epilogue(units);
  return y;
}

/** The option's description in --help: its bounds, and for numbers the value placeholder (N, DURATION, SIZE). */
function helpText(o: OptionSpec): string {
  const range = rangeText(o);
  const placeholder = o.type === 'string' || o.type === 'boolean' ? '' : ` [${valuePlaceholder(o)}]`;
  return `${o.describe}${range ? ` (${range})` : ''}${placeholder}`;
}
