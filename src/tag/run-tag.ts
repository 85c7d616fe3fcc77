import { EventWriter, colorWanted, resolveOutputFormat } from '../codec/event-writer.js';
import type { InputFormat } from '../codec/read-events.js';
import { pumpUntilSigterm } from '../stream/pump-until-sigterm.js';
import { compileTagPlan, type TagCommandOptions } from './tag-options.js';
import { TagStage } from './tag-stage.js';

export interface RunTagOptions extends TagCommandOptions {
  files: readonly string[];
  input: InputFormat;
  output: string | undefined;
}

export async function runTag(o: RunTagOptions): Promise<void> {
  const stage = new TagStage(compileTagPlan(o));
  const writer = new EventWriter(process.stdout, resolveOutputFormat(o.output, process.stdout.isTTY), colorWanted(process.stdout.isTTY));
  await pumpUntilSigterm(o.files, { format: o.input }, writer, (events) => stage.process(events));
}
