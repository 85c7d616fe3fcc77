import type { Writable } from 'node:stream';
import { EventWriter, colorWanted, resolveOutputFormat, type OutputFormat } from '../codec/event-writer.js';
import { readEvents, type ReadOptions } from '../codec/read-events.js';
import type { LogEvent } from '../event/event.js';
import { openInput } from '../base/stdio.js';

/** What one stage hands the next in one process: a batch of events, or bytes of a logkit stream. */
export type Batch = LogEvent[] | Buffer;

/** Where a stage reads its input stream: standard input, or the stage before it in one process. */
export interface StageInput {
  /** The input's events, in batches (a byte stream is decoded as `options` say). */
  events(options: ReadOptions): AsyncIterable<LogEvent[]>;
  /** The input as the bytes of a logkit stream (stages that work on bytes, e.g. forward's raw path). */
  bytes(): AsyncIterable<Buffer>;
  /** The input as it comes: event batches from a stage in this process, bytes from a pipe or a byte-writing stage. */
  batches(): AsyncIterable<Batch>;
  /** Stop reading (shutdown): a pending read ends as at the end of input. */
  close(): void;
}

/** Where a stage writes its output stream: standard output, or the next stage in one process. */
export interface StageOutput {
  /** For stages that write bytes (receive, buffer) and to wait for what was written to be taken. */
  readonly stream: Writable;
  readonly isTTY: boolean | undefined;
  /** The format to write for `--output` (its default when undefined); always MessagePack to a stage in this process. */
  format(requested: string | undefined, fallback?: 'pretty'): OutputFormat;
  /** An event writer for the format the stage asked for (`--output`, or its default when undefined). */
  writer(requested: string | undefined, fallback?: 'pretty'): EventWriter;
}

/**
 * What a command runs with: its input, its output and the process's shutdown signal
 * (src/stream/shutdown.ts). The piped form gets standard input and output; `logkit run` hands
 * each stage an in-memory channel to its neighbours instead (src/run/).
 */
export interface StageIO {
  readonly signal: AbortSignal;
  readonly input: StageInput;
  readonly output: StageOutput;
  /** True inside `logkit run`: neighbours are in this process, nothing is encoded between them. */
  readonly inProcess: boolean;
}

export const stdinInput: StageInput = {
  events: (options) => readEvents(openInput('-'), options),
  bytes: () => process.stdin,
  batches: () => process.stdin,
  close: () => process.stdin.destroy(),
};

export const stdoutOutput: StageOutput = {
  stream: process.stdout,
  get isTTY() {
    return process.stdout.isTTY;
  },
  format(requested, fallback) {
    return requested === undefined && fallback ? fallback : resolveOutputFormat(requested, process.stdout.isTTY);
  },
  writer(requested, fallback) {
    return new EventWriter(process.stdout, this.format(requested, fallback), colorWanted(process.stdout.isTTY));
  },
};

/** The piped form: a command alone in its process, on standard input and output. */
export function pipedIO(signal: AbortSignal): StageIO {
  return { signal, input: stdinInput, output: stdoutOutput, inProcess: false };
}
