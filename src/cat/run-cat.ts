import { EventWriter, colorWanted, type OutputFormat } from '../codec/event-writer.js';
import type { InputFormat } from '../codec/read-events.js';
import { pumpEvents } from '../stream/pump.js';

export interface CatOptions {
  files: readonly string[];
  input: InputFormat;
  /** Unlike a pipeline stage, cat is for people: the human format unless told otherwise. */
  output?: OutputFormat;
}

export async function runCat(options: CatOptions): Promise<void> {
  const writer = new EventWriter(process.stdout, options.output ?? 'pretty', colorWanted(process.stdout.isTTY));
  await pumpEvents(options.files, { format: options.input }, writer);
}
