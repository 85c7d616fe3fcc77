import { CommandMetrics, type MetricsSettings } from '../metrics/command-metrics.js';
import { MetricsRegistry } from '../metrics/registry.js';
import { observeOutput } from '../metrics/stage-metrics.js';
import { CliError, ExitCode } from '../cli/exit-codes.js';
import { EventWriter, colorWanted, resolveOutputFormat } from '../codec/event-writer.js';
import type { OutputFormat } from '../codec/stream-formats.js';
import { multilineFactory } from './multiline.js';
import { tailStream } from './stdin-tail.js';
import { expandTag } from './tag.js';
import { Tailer } from './tailer.js';
import type { TailOptions } from './tail-options.js';

export interface TailArgs extends TailOptions {
  output?: OutputFormat;
  metrics?: MetricsSettings;
}

export async function runTail(args: TailArgs): Promise<void> {
  const options = validate(args);
  const format = resolveOutputFormat(args.output, process.stdout.isTTY);
  const writer = new EventWriter(process.stdout, format, colorWanted(process.stdout.isTTY));
  const registry = new MetricsRegistry('tail');
  observeOutput(registry, writer);
  const metrics = await CommandMetrics.start(registry, args.metrics ?? {});
  const stops: Array<() => void> = [];
  const stop = () => stops.forEach((fn) => fn());
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  try {
    if (options.paths.length === 1 && options.paths[0] === '-') {
      await tailStream(
        process.stdin,
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
        { onStop: (fn) => stops.push(fn) },
      );
      return;
    }
    const tailer = new Tailer(options, writer, process.stdout);
    stops.push(() => tailer.stop());
    await tailer.run();
    await writer.flush();
  } finally {
    process.off('SIGTERM', stop);
    process.off('SIGINT', stop);
    await metrics.finish();
  }
}

function validate(args: TailArgs): TailOptions {
  if (args.paths.length === 0) throw new CliError('name at least one file, glob, or - for standard input', ExitCode.USAGE);
  if (args.paths.includes('-') && args.paths.length > 1) throw new CliError('- (standard input) cannot be mixed with files', ExitCode.USAGE);
  if (args.multilineStart !== undefined) {
    try {
      new RegExp(args.multilineStart);
    } catch (error) {
      throw new CliError(`--multiline-start: ${(error as Error).message}`, ExitCode.USAGE);
    }
    if (args.multiline) throw new CliError('--multiline and --multiline-start exclude each other', ExitCode.USAGE);
  }
  if (args.pos !== undefined && args.pos === args.checkpoint) throw new CliError('--pos and --checkpoint must be different files', ExitCode.USAGE);
  return args;
}
