import type { CollectedMetric } from './registry.js';

/**
 * The `--stats` summary: `key=value` pairs, one line, greppable. Only unlabelled metrics that
 * have a stat key appear; labelled ones (per server, per file) are for the metrics endpoint.
 */
export function formatStatsLine(metrics: readonly CollectedMetric[]): string {
  const parts: string[] = [];
  for (const metric of metrics) {
    if (!metric.stat) continue;
    const sample = metric.samples.find((s) => !s.labels);
    if (sample) parts.push(`${metric.stat}=${sample.value}`);
  }
  return parts.join(' ');
}
