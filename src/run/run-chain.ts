import { CliError, ExitAtOnce, ExitCode } from '../base/exit-codes.js';
import { exitStatusOf } from '../cli/exit-status-of.js';
import type { CommandModule, CommandSpec } from '../cli/spec.js';
import { parseStageArgs } from '../cli/stage-args.js';
import { log, runAsStage } from '../log/logger.js';
import { BatchChannel } from '../stream/batch-channel.js';
import type { StageIO } from '../stream/stage-io.js';
import { splitChain } from './chain-syntax.js';

/** One stage of a chain: a command with its parsed arguments, run on the io it is handed. */
export interface ChainStage {
  readonly name: string;
  run(io: StageIO): Promise<void>;
}

export interface RunChainOptions {
  /** The chain, one text: `tail a.log | parse json`. */
  chain: string;
  /** The commands a stage may name, and how to load one (commands/ sits above src/). */
  commandNames: readonly string[];
  load(name: string): Promise<CommandModule<CommandSpec>>;
}

/**
 * `logkit run`: the stages of a chain, each parsed with its own command's schema, run in this
 * process (docs/one-process.md).
 */
export async function runChainCommand(options: RunChainOptions, io: StageIO): Promise<void> {
  const argvs = splitChain(options.chain);
  const stages: ChainStage[] = [];
  for (const [i, [name, ...argv]] of argvs.entries()) {
    if (name === 'run' || !options.commandNames.includes(name!)) {
      const known = options.commandNames.filter((n) => n !== 'run').join(', ');
      throw new CliError(`run: stage ${i + 1}: ${JSON.stringify(name)} is not a command a chain can run (${known})`, ExitCode.USAGE);
    }
    const module = await options.load(name!);
    const args = await parseStageArgs(module, argv);
    stages.push({ name: name!, run: (io) => module.run(args as never, io) });
  }
  await runStages(stages, io);
}

/**
 * Runs the stages at once, each one's output the next one's input through a BatchChannel (the
 * first reads the chain's input, standard input; the last writes its output), as a shell runs a pipeline:
 * - a stage that ends closes its output: the next one sees the end of its input;
 * - and its input: the one before gets EPIPE at its next write (and is stopped, as an idle
 *   writer would be at that write), which ends it quietly, status 0;
 * - every stage gets the process's shutdown signal, as every process of a pipeline gets a
 *   SIGTERM sent to the group (a systemd stop, a Ctrl-C);
 * - the status is that of the last stage that failed, as `set -o pipefail` gives; the other
 *   failures are logged;
 * - a stage that gave up at its deadline (ExitAtOnce) ends only itself: the others finish their
 *   own shutdown (counters, checkpoints), and then the chain asks for the exit at once.
 */
export async function runStages(stages: readonly ChainStage[], chain: StageIO): Promise<void> {
  const channels = stages.slice(1).map(() => new BatchChannel());
  const stops = stages.map(() => new AbortController());
  const failures: Array<{ name: string; error: unknown } | undefined> = [];
  let atOnce = false;
  await Promise.all(
    stages.map(async (stage, i) => {
      const io: StageIO = {
        signal: AbortSignal.any([chain.signal, stops[i]!.signal]),
        input: i === 0 ? chain.input : channels[i - 1]!.input(),
        output: i === stages.length - 1 ? chain.output : channels[i]!.output(),
        inProcess: true,
      };
      try {
        await runAsStage(stage.name, () => stage.run(io));
      } catch (error) {
        if (error instanceof ExitAtOnce) atOnce = true;
        if (error instanceof ExitAtOnce && error.exitCode === ExitCode.OK) return;
        if ((error as NodeJS.ErrnoException).code !== 'EPIPE') failures[i] = { name: stage.name, error };
      } finally {
        channels[i]?.end();
        channels[i - 1]?.close();
        stops[i - 1]?.abort();
      }
    }),
  );
  const failed = failures.filter((f) => f !== undefined);
  const last = failed.pop();
  for (const { name, error } of failed) log.fatal(describe(name, error));
  if (!last) {
    if (atOnce) throw new ExitAtOnce('', ExitCode.OK);
    return;
  }
  if (atOnce) {
    const { message, status } = exitStatusOf(last.error);
    throw new ExitAtOnce(named(last.name, message), status);
  }
  if (last.error instanceof CliError) throw new CliError(named(last.name, last.error.message), last.error.exitCode);
  throw last.error;
}

/** The message as the command alone would end with it, naming the stage (once). */
function named(name: string, message: string): string {
  return message.startsWith(`${name}:`) ? message : `${name}: ${message}`;
}

function describe(name: string, error: unknown): string {
  if (error instanceof CliError) return `${named(name, error.message)} (exit status ${error.exitCode})`;
  return named(name, `internal error: ${(error as Error)?.stack ?? String(error)}`);
}
