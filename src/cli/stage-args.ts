import { createRequire } from 'node:module';
import type YargsFactory from 'yargs';
import { CliError, ExitCode } from '../base/exit-codes.js';
import type { CommandModule, CommandSpec } from './spec.js';
import { applySpec, yargsCommandString } from './yargs-wiring.js';
import { resolveOptionValues } from './option-values.js';
import { renamedOptionError } from './renamed-options.js';
import { plainArgs } from './plain-args.js';

/**
 * Parses one command's arguments with that command's own schema, as `logkit <command> …` would
 * (same options, defaults, choices and strictness), without running it: the stages of
 * `logkit run` are parsed here. A bad argument is a usage error (exit 64) naming the command.
 */
export async function parseStageArgs(module: CommandModule<CommandSpec>, argv: readonly string[]): Promise<Record<string, unknown>> {
  const { spec } = module;
  const renamed = renamedOptionError(spec, argv);
  if (renamed) throw new CliError(`${spec.name}: ${renamed}`, ExitCode.USAGE);
  const args = plainArgs(spec, argv) ?? (await yargsStageArgs(spec, argv));
  resolveOptionValues(spec, args);
  return args;
}

/** What yargs makes of one command's arguments (values as written, before resolveOptionValues). */
export async function yargsStageArgs(spec: CommandSpec, argv: readonly string[]): Promise<Record<string, unknown>> {
  const yargs = createRequire(import.meta.url)('yargs') as typeof YargsFactory;
  const cli = yargs([spec.name, ...argv])
    .scriptName('logkit')
    // as on the command line: durations and sizes keep their units until resolveOptionValues
    .parserConfiguration({ 'parse-numbers': false })
    .help(false)
    .version(false)
    .strict()
    .exitProcess(false)
    .fail((message, error) => {
      throw error ?? new CliError(`${spec.name}: ${message}`, ExitCode.USAGE);
    })
    .demandCommand(1)
    .command(yargsCommandString(spec), spec.summary, (y) => applySpec(y, spec));
  return (await cli.parseAsync()) as Record<string, unknown>;
}
