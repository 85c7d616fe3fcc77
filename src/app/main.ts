import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type YargsFactory from 'yargs';
import { COMMAND_NAMES, loadAllCommands, loadCommand } from '../../commands/index.js';
import { CliError, ExitAtOnce, ExitCode } from '../base/exit-codes.js';
import { LOG_FORMATS, LOG_LEVELS, log, type LogFormat, type LogLevel } from '../log/logger.js';
import { exitQuietlyOnBrokenPipe } from './broken-pipe.js';
import { stopOnSignals } from '../stream/shutdown.js';
import { applySpec, yargsCommandString } from '../cli/yargs-wiring.js';
import { resolveOptionValues } from '../cli/option-values.js';
import { renamedOptionError } from '../cli/renamed-options.js';
import { exitStatusOf } from '../cli/exit-status-of.js';
import { plainArgs } from '../cli/plain-args.js';
import type { CommandModule, CommandSpec } from '../cli/spec.js';

/**
 * The logkit entry point. Only the command being run is imported, and yargs only for help and
 * for command lines that are not plain (see plain-args.ts), so that `logkit --version` and short
 * pipeline stages start fast.
 */
async function main(argv: string[]): Promise<void> {
  exitQuietlyOnBrokenPipe(process.stdout);
  // Before the options are parsed, so that a usage error is logged as asked too.
  log.configure({ command: argv[0] && COMMAND_NAMES.includes(argv[0]) ? argv[0] : undefined, ...logSettingsIn(argv) });
  if (argv.length === 1 && argv[0] === '--version') {
    process.stdout.write(`${packageVersion()}\n`);
    return;
  }
  const first = argv[0];
  // An unknown command is a usage error whatever follows it (`logkit nosuch --help` too).
  if (first !== undefined && !first.startsWith('-') && !COMMAND_NAMES.includes(first)) {
    throw new CliError(`unknown command ${JSON.stringify(first)}; the commands are ${COMMAND_NAMES.join(', ')} (\`logkit --help\`)`, ExitCode.USAGE);
  }
  const requested = first !== undefined && COMMAND_NAMES.includes(first) ? first : undefined;
  const wantsList = !requested && !argv.includes('--version');
  const command = requested ? await loadCommand(requested) : undefined;
  if (command) {
    const renamed = renamedOptionError(command.spec, argv.slice(1));
    if (renamed) throw new CliError(renamed, ExitCode.USAGE);
    // A plain, valid command line runs without loading yargs; anything else is yargs' to read.
    const args = plainArgs(command.spec, argv.slice(1));
    if (args) return runCommand(command, args);
  }
  const modules = command ? [command] : wantsList ? await loadAllCommands() : [];
  // yargs 17 through require(): its CommonJS build loads in ~18 ms here, its ESM build (and
  // yargs 18) in ~30–70 ms — most of a short stage's start-up (bench/startup.mjs).
  const yargs = createRequire(import.meta.url)('yargs') as typeof YargsFactory;

  const cli = yargs(argv)
    .scriptName('logkit')
    // numbers, durations and sizes are untyped for yargs: their text (units included) reaches resolveOptionValues
    .parserConfiguration({ 'parse-numbers': false })
    .usage('logkit <command> [options]\n\nComposable log collection commands that speak the Fluentd Forward Protocol.')
    .version(packageVersion())
    .help()
    .alias('h', 'help')
    .strict()
    .demandCommand(1, 'Name a command; `logkit --help` lists them.')
    .recommendCommands()
    .wrap(Math.min(110, process.stdout.columns || 100))
    .epilogue('Run `logkit <command> --help` for a command\'s options and examples; `man logkit` for more.')
    .fail((message, error) => {
      if (error) throw error;
      throw new CliError(`${message}\nTry \`logkit ${requested ?? ''}${requested ? ' ' : ''}--help\`.`, ExitCode.USAGE);
    });

  for (const module of modules) {
    const { spec } = module;
    cli.command(
      yargsCommandString(spec),
      spec.summary,
      (y) => applySpec(y, spec),
      (args) => runCommand(module, args),
    );
  }
  await cli.parseAsync();
}

/** Runs a command with its parsed arguments, on standard input and output. */
async function runCommand(module: CommandModule<CommandSpec>, args: Record<string, unknown>): Promise<void> {
  const { spec } = module;
  const { logLevel, logFormat } = args as { logLevel?: LogLevel; logFormat?: LogFormat };
  log.configure({ command: spec.name, level: logLevel, format: logFormat });
  resolveOptionValues(spec, args);
  // the stream code loads with the command that uses it, not for --version or --help
  const { pipedIO } = await import('../stream/stage-io.js');
  return module.run(args as never, pipedIO(stopOnSignals()));
}

/**
 * The version in logkit's package.json, the nearest one above this module: this module runs from
 * dist/src/app/ as tsc wrote it and from the build's bundle in dist/ (tools/bundle.mjs). Read only
 * for --version and help, not by every stage that starts.
 */
function packageVersion(): string {
  for (let dir = new URL('./', import.meta.url); ; dir = new URL('../', dir)) {
    try {
      return (JSON.parse(readFileSync(new URL('package.json', dir), 'utf8')) as { version: string }).version;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || dir.pathname === '/') throw error;
    }
  }
}

/** --log-level and --log-format as given, read ahead of the parser (invalid values are left to it). */
function logSettingsIn(argv: readonly string[]): { level?: LogLevel; format?: LogFormat } {
  const valueOf = (name: string): string | undefined => {
    const i = argv.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
    if (i < 0) return undefined;
    return argv[i]!.includes('=') ? argv[i]!.slice(argv[i]!.indexOf('=') + 1) : argv[i + 1];
  };
  const level = valueOf('log-level');
  const format = valueOf('log-format');
  return {
    level: (LOG_LEVELS as readonly string[]).includes(level ?? '') ? (level as LogLevel) : undefined,
    format: (LOG_FORMATS as readonly string[]).includes(format ?? '') ? (format as LogFormat) : undefined,
  };
}

// The one place where the process ends: an error becomes an exit status (exit-status-of.ts says
// which); a stage that gave up at its deadline (ExitAtOnce) ends it at once, without waiting for
// what it abandoned; and a command whose work is pending with nothing left to wake it (the
// event loop ran dry before it finished) fails rather than exiting 0 with its work undone.
let settled = false;
process.on('beforeExit', () => {
  if (settled) return;
  log.fatal(`${log.command ?? 'logkit'}: internal error: stalled with nothing left to wait for`);
  process.exit(ExitCode.SOFTWARE);
});
main(process.argv.slice(2)).then(
  () => {
    settled = true;
  },
  (error: unknown) => {
    settled = true;
    const { message, status } = exitStatusOf(error);
    if (message !== '') log.fatal(message);
    if (error instanceof ExitAtOnce) process.exit(status);
    process.exitCode = status;
  },
);
