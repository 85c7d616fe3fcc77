import type { CollectedMetric } from './registry.js';

/** The content type of the Prometheus text exposition format 0.0.4. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/**
 * Renders metrics in the Prometheus text format. Every sample gets the `command` label, so the
 * endpoints of a pipeline's stages can be told apart when one Prometheus job scrapes them all.
 */
export function renderPrometheus(metrics: readonly CollectedMetric[], command: string): string {
  let text = '';
  for (const metric of metrics) {
    text += `# HELP ${metric.name} ${escapeHelp(metric.help)}\n# TYPE ${metric.name} ${metric.type}\n`;
    for (const sample of metric.samples) {
      const labels = { command, ...sample.labels };
      const rendered = Object.entries(labels)
        .map(([key, value]) => `${key}="${escapeLabel(value)}"`)
        .join(',');
      text += `${metric.name}{${rendered}} ${formatValue(sample.value)}\n`;
    }
  }
  return text;
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

// Label values can hold anything a user typed (a server address, a path): escape per the format.
function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function escapeHelp(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}
