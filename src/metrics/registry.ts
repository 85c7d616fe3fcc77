/**
 * A process's metrics: counters and gauges, each with a Prometheus name, a help text and an
 * optional short key for the one-line `--stats` summary. Most values are READ at collection
 * time from counters a command already keeps (its stats object, a writer's count), so the hot
 * path pays nothing extra for metrics: no call per event, no lookups, no allocation.
 */

export type MetricType = 'counter' | 'gauge';

export interface MetricSample {
  readonly value: number;
  /** Label values, e.g. { server: "agg1:24224" }. */
  readonly labels?: Readonly<Record<string, string>>;
}

export interface MetricInfo {
  /** Prometheus name, e.g. logkit_input_events_total (counters end in _total). */
  readonly name: string;
  readonly help: string;
  readonly type: MetricType;
  /** Key in the --stats line (e.g. events_in); omitted: the metric is not on the line. */
  readonly stat?: string;
}

export interface CollectedMetric extends MetricInfo {
  readonly samples: readonly MetricSample[];
}

/** A counter owned by the registry, for commands that had none of their own. */
export class Counter {
  value = 0;
  inc(by = 1): void {
    this.value += by;
  }
}

/** A gauge owned by the registry. */
export class Gauge {
  value = 0;
  set(value: number): void {
    this.value = value;
  }
}

type Reader = () => number | readonly MetricSample[];

export class MetricsRegistry {
  private readonly metrics = new Map<string, { info: MetricInfo; read: Reader }>();

  /** @param command logkit command name, given to every sample as the `command` label */
  constructor(readonly command: string) {}

  /** Registers a metric whose value (or labelled samples) `read` returns at collection time. */
  observe(info: MetricInfo, read: Reader): void {
    if (this.metrics.has(info.name)) throw new Error(`metric ${info.name} registered twice`);
    if (info.type === 'counter' && !info.name.endsWith('_total')) throw new Error(`counter ${info.name} must end in _total`);
    this.metrics.set(info.name, { info, read });
  }

  counter(name: string, help: string, stat?: string): Counter {
    const counter = new Counter();
    this.observe({ name, help, type: 'counter', stat }, () => counter.value);
    return counter;
  }

  gauge(name: string, help: string, stat?: string): Gauge {
    const gauge = new Gauge();
    this.observe({ name, help, type: 'gauge', stat }, () => gauge.value);
    return gauge;
  }

  collect(): CollectedMetric[] {
    const out: CollectedMetric[] = [];
    for (const { info, read } of this.metrics.values()) {
      const value = read();
      out.push({ ...info, samples: typeof value === 'number' ? [{ value }] : value });
    }
    return out;
  }
}
