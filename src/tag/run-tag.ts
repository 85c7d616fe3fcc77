import { EventWriter, colorWanted, resolveOutputFormat } from '../codec/event-writer.js';
import type { InputFormat } from '../codec/read-events.js';
import { CommandMetrics, type MetricsSettings } from '../metrics/command-metrics.js';
import { MetricsRegistry } from '../metrics/registry.js';
import { filterStageMetrics } from '../metrics/stage-metrics.js';
import { pumpUntilSigterm } from '../stream/pump-until-sigterm.js';
import { compileTagPlan, type TagCommandOptions } from './tag-options.js';
import { TagStage } from './tag-stage.js';

export interface RunTagOptions extends TagCommandOptions {
  files: readonly string[];
  input: InputFormat;
  output: string | undefined;
  metrics?: MetricsSettings;
}

export async function runTag(o: RunTagOptions): Promise<void> {
  const stage = new TagStage(compileTagPlan(o));
  const writer = new EventWriter(process.stdout, resolveOutputFormat(o.output, process.stdout.isTTY), colorWanted(process.stdout.isTTY));
  const registry = new MetricsRegistry('tag');
  const { eventsIn } = filterStageMetrics(registry, writer);
  const metrics = await CommandMetrics.start(registry, o.metrics ?? {});
  try {
    await pumpUntilSigterm(o.files, { format: o.input }, writer, (events) => {
      eventsIn.inc(events.length);
      return stage.process(events);
    });
  } finally {
    await metrics.finish();
  }
}
