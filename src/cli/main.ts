import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type YargsFactory from 'yargs';
import { COMMAND_NAMES, loadAllCommands, loadCommand } from '../../commands/index.js';
import { CliError, ExitCode } from './exit-codes.js';
import { log, type LogFormat, type LogLevel } from '../log/logger.js';
import { exitQuietlyOnBrokenPipe } from './stdio.js';
import { stopOnSignals } from '../stream/shutdown.js';
import { applySpec, yargsCommandString } from './yargs-wiring.js';

const VERSION = (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/**
 * The logkit entry point. Only the command being run is imported (plus yargs), so that
 * `logkit --version` and short pipeline stages start fast.
 */
async function main(argv: string[]): Promise<void> {
  exitQuietlyOnBrokenPipe(process.stdout);
  if (argv.length === 1 && argv[0] === '--version') {
    process.stdout.write(`${VERSION}\n`);
    return;
  }
  // yargs 17 through require(): its CommonJS build loads in ~18 ms here, its ESM build (and
  // yargs 18) in ~30–70 ms — most of a short stage's start-up (bench/startup.mjs).
  const yargs = createRequire(import.meta.url)('yargs') as typeof YargsFactory;
  const requested = argv[0] && COMMAND_NAMES.includes(argv[0]) ? argv[0] : undefined;
  const wantsList = !requested && !argv.includes('--version');
  const modules = requested ? [await loadCommand(requested)] : wantsList ? await loadAllCommands() : [];

  const cli = yargs(argv)
    .scriptName('logkit')
    .usage('logkit <command> [options]\n\nComposable log collection commands that speak the Fluentd Forward Protocol.')
    .version(VERSION)
    .help()
    .alias('h', 'help')
    .strict()
    .demandCommand(1, 'Name a command; `logkit --help` lists them.')
    .recommendCommands()
    .wrap(Math.min(110, process.stdout.columns || 100))
    .epilogue('Run `logkit <command> --help` for a command\'s options and examples; `man logkit` for more.')
    .fail((message, error) => {
      if (error) throw error;
      process.stderr.write(`logkit: ${message}\nTry \`logkit ${requested ?? ''}${requested ? ' ' : ''}--help\`.\n`);
      process.exit(ExitCode.USAGE);
    });

  for (const module of modules) {
    const { spec } = module;
    cli.command(
      yargsCommandString(spec),
      spec.summary,
      (y) => applySpec(y, spec),
      async (args) => {
        const { logLevel, logFormat } = args as { logLevel?: LogLevel; logFormat?: LogFormat };
        log.configure({ command: spec.name, level: logLevel, format: logFormat });
        // the stream code loads with the command that uses it, not for --version or --help
        const { pipedIO } = await import('../stream/stage-io.js');
        return module.run(args as never, pipedIO(stopOnSignals()));
      },
    );
  }
  await cli.parseAsync();
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof CliError) {
    log.fatal(error.message);
    process.exitCode = error.exitCode;
    return;
  }
  log.fatal(`internal error: ${(error as Error)?.stack ?? String(error)}`);
  process.exitCode = ExitCode.SOFTWARE;
});
