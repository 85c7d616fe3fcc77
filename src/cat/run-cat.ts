import type { OutputFormat } from '../codec/event-writer.js';
import type { InputFormat } from '../codec/read-events.js';
import { ProgressLine, grouped, perSecond } from '../base/progress-line.js';
import { pumpEvents } from '../stream/pump.js';
import type { StageIO } from '../stream/stage-io.js';

export interface CatOptions {
  files: readonly string[];
  input: InputFormat;
  /** Unlike a pipeline stage, cat is for people: the human format unless told otherwise. */
  output?: OutputFormat;
}

export async function runCat(options: CatOptions, io: StageIO): Promise<void> {
  const writer = io.output.writer(options.output, 'pretty');
  const progress = ProgressLine.start((s) => `logkit cat: ${grouped(writer.written)} events (${perSecond(writer.written, s)}/s)`);
  try {
    await pumpEvents(options.files, { format: options.input }, writer, (events) => events, io);
  } finally {
    progress?.stop();
  }
}
