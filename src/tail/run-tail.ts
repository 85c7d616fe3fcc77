import { CommandMetrics, type MetricsSettings } from '../metrics/command-metrics.js';
import { MetricsRegistry } from '../metrics/registry.js';
import { observeOutput } from '../metrics/stage-metrics.js';
import { CliError, ExitCode } from '../base/exit-codes.js';
import { EventWriter, colorWanted, resolveOutputFormat } from '../codec/event-writer.js';
import type { OutputFormat } from '../codec/stream-formats.js';
import { multilineFactory } from './multiline.js';
import { tailStream } from './stdin-tail.js';
import { expandTag } from './tag.js';
import { LinearRegex } from '../regex/linear-regex.js';
import { TAG_RULE, isCleanTag } from '../event/tag.js';
import { Tailer } from './tailer.js';
import type { TailOptions } from './tail-options.js';
import type { SymlinkPolicy } from './symlink-policy.js';
import { onAbort } from '../stream/shutdown.js';
import type { StageIO } from '../stream/stage-io.js';

export interface TailArgs extends Omit<TailOptions, 'symlinks'> {
  symlinks?: SymlinkPolicy;
  output?: OutputFormat;
  metrics?: MetricsSettings;
}

export async function runTail(args: TailArgs, io: StageIO): Promise<void> {
  const options = validate(args);
  const writer = io.output.writer(args.output);
  const registry = new MetricsRegistry('tail');
  observeOutput(registry, writer);
  const metrics = await CommandMetrics.start(registry, args.metrics ?? {});
  try {
    if (options.paths.length === 1 && options.paths[0] === '-') {
      await tailStream(
        io.input,
        {
          maxLineBytes: options.maxLineBytes,
          format: options.format,
          multiline: multilineFactory(options.multiline, options.multilineStart),
          tag: expandTag(options.tag, 'stdin'),
          pathKey: options.pathKey,
          path: '-',
        },
        writer,
        { partialFlushMs: options.partialFlushMs, multilineFlushMs: options.multilineFlushMs },
        io.signal,
      );
      return;
    }
    const tailer = new Tailer(options, writer, io.output.stream);
    const forget = onAbort(io.signal, () => tailer.stop());
    try {
      await tailer.run();
    } finally {
      forget();
    }
    await writer.flush();
  } finally {
    await metrics.finish();
  }
}

function validate(args: TailArgs): TailOptions {
  if (args.paths.length === 0) throw new CliError('name at least one file, glob, or - for standard input', ExitCode.USAGE);
  if (args.paths.includes('-') && args.paths.length > 1) throw new CliError('- (standard input) cannot be mixed with files', ExitCode.USAGE);
  if (args.multilineStart !== undefined) {
    LinearRegex.compile(args.multilineStart, 'tail: --multiline-start'); // a bad pattern is a usage error now, not at the first file
    if (args.multiline) throw new CliError('--multiline and --multiline-start exclude each other', ExitCode.USAGE);
  }
  if (!isCleanTag(args.tag.replaceAll('*', 'x'))) throw new CliError(`--tag "${args.tag}" is not a tag (${TAG_RULE}; * stands for the file path)`, ExitCode.USAGE);
  if (args.pos !== undefined && args.pos === args.checkpoint) throw new CliError('--pos and --checkpoint must be different files', ExitCode.USAGE);
  return { ...args, symlinks: args.symlinks ?? 'follow' };
}
