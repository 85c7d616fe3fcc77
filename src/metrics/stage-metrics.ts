import type { EventWriter } from '../codec/event-writer.js';
import type { Counter } from './registry.js';
import type { MetricsRegistry } from './registry.js';

/**
 * The metrics every stage that writes a logkit stream shares, read from its EventWriter's own
 * counts: events and bytes written to standard output.
 */
export function observeOutput(registry: MetricsRegistry, writer: EventWriter): void {
  registry.observe({ name: 'logkit_output_events_total', help: 'Events written to standard output', type: 'counter', stat: 'events_out' }, () => writer.written);
  registry.observe({ name: 'logkit_output_bytes_total', help: 'Bytes written to standard output', type: 'counter', stat: 'bytes_out' }, () => writer.bytesWritten);
}

/** One metric per numeric field of a stats object the command keeps anyway (read at collection). */
export interface FieldMetric<T> {
  field: keyof T & string;
  name: string;
  help: string;
  type: 'counter' | 'gauge';
  stat?: string;
}

export function observeFields<T extends object>(registry: MetricsRegistry, read: () => T, fields: ReadonlyArray<FieldMetric<T>>): void {
  for (const { field, name, help, type, stat } of fields) {
    registry.observe({ name, help, type, stat }, () => Number(read()[field]));
  }
}

/** The registry of a filter stage: events in (counted per batch by the caller) and out. */
export function filterStageMetrics(registry: MetricsRegistry, writer: EventWriter): { eventsIn: Counter } {
  const eventsIn = registry.counter('logkit_input_events_total', 'Events read', 'events_in');
  observeOutput(registry, writer);
  return { eventsIn };
}
