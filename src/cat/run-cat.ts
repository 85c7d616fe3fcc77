import { EventWriter, colorWanted, type OutputFormat } from '../codec/event-writer.js';
import type { InputFormat } from '../codec/read-events.js';
import { ProgressLine, grouped, perSecond } from '../cli/progress-line.js';
import { pumpEvents } from '../stream/pump.js';

export interface CatOptions {
  files: readonly string[];
  input: InputFormat;
  /** Unlike a pipeline stage, cat is for people: the human format unless told otherwise. */
  output?: OutputFormat;
}

export async function runCat(options: CatOptions): Promise<void> {
  const writer = new EventWriter(process.stdout, options.output ?? 'pretty', colorWanted(process.stdout.isTTY));
  const progress = ProgressLine.start((s) => `logkit cat: ${grouped(writer.written)} events (${perSecond(writer.written, s)}/s)`);
  try {
    await pumpEvents(options.files, { format: options.input }, writer);
  } finally {
    progress?.stop();
  }
}
