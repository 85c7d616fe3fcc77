import type { InputFormat } from '../codec/read-events.js';
import { CommandMetrics, type MetricsSettings } from '../metrics/command-metrics.js';
import { MetricsRegistry } from '../metrics/registry.js';
import { filterStageMetrics } from '../metrics/stage-metrics.js';
import { pumpEvents } from '../stream/pump.js';
import type { StageIO } from '../stream/stage-io.js';
import { compileTagPlan, type TagCommandOptions } from './tag-options.js';
import { TagStage } from './tag-stage.js';

export interface RunTagOptions extends TagCommandOptions {
  files: readonly string[];
  input: InputFormat;
  output: string | undefined;
  metrics?: MetricsSettings;
}

export async function runTag(o: RunTagOptions, io: StageIO): Promise<void> {
  const stage = new TagStage(compileTagPlan(o));
  const writer = io.output.writer(o.output);
  const registry = new MetricsRegistry('tag');
  const { eventsIn } = filterStageMetrics(registry, writer);
  const metrics = await CommandMetrics.start(registry, o.metrics ?? {});
  try {
    await pumpEvents(o.files, { format: o.input }, writer, (events) => {
      eventsIn.inc(events.length);
      return stage.process(events);
    }, io);
  } finally {
    await metrics.finish();
  }
}
