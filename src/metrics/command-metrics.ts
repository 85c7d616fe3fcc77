import { inThisStage, log } from '../log/logger.js';
// the HTTP server (and node:http, a good part of a stage's start-up) is loaded only for --metrics
import type { MetricsServer } from './metrics-server.js';
import { MetricsRegistry } from './registry.js';
import { formatStatsLine } from './stats-line.js';

/** The parsed metrics options of a command (--metrics, --stats, --stats-interval: OPERATION_OPTIONS in src/cli/common-options.ts). */
export interface MetricsSettings {
  /** --metrics HOST:PORT */
  metrics?: string;
  /** --stats: the summary line at exit */
  stats?: boolean;
  /** --stats-interval: the summary line periodically too, in milliseconds (0: never) */
  statsIntervalMs?: number;
}

export interface CommandMetricsOptions {
  /** The summary line's content; by default the registry's stat keys (see stats-line.ts). */
  line?: () => string;
}

/**
 * The one mechanism every long-running command uses to show its counters: the Prometheus
 * endpoint (--metrics), the summary line at exit (--stats), periodically (--stats-interval) and
 * on SIGUSR1 at any time. A command fills `registry` and calls `finish()` when it is done.
 */
export class CommandMetrics {
  private timer: NodeJS.Timeout | undefined;
  // bound to the stage that started it: under `logkit run`, its line names the stage
  private readonly onSignal = inThisStage((): void => this.report('SIGUSR1'));

  private constructor(
    readonly registry: MetricsRegistry,
    private readonly settings: MetricsSettings,
    private readonly server: MetricsServer | undefined,
    private readonly options: CommandMetricsOptions,
  ) {}

  static async start(registry: MetricsRegistry, settings: MetricsSettings, options: CommandMetricsOptions = {}): Promise<CommandMetrics> {
    const interval = settings.statsIntervalMs ?? 0;
    registry.observe(
      { name: 'logkit_process_resident_memory_bytes', help: 'Resident memory of the process', type: 'gauge' },
      () => process.memoryUsage.rss(),
    );
    const started = Date.now() / 1000;
    registry.observe({ name: 'logkit_process_start_time_seconds', help: 'Start of the process, Unix time', type: 'gauge' }, () => started);
    const server = settings.metrics !== undefined ? await (await import('./metrics-server.js')).MetricsServer.start(settings.metrics, registry) : undefined;
    if (server) log.info(`metrics on ${server.url}`);
    const metrics = new CommandMetrics(registry, settings, server, options);
    process.on('SIGUSR1', metrics.onSignal);
    if (interval > 0) {
      metrics.timer = setInterval(() => metrics.report('interval'), interval);
      metrics.timer.unref();
    }
    return metrics;
  }

  /** Writes the summary line now: `logkit CMD: stats (WHEN) key=value ...`. */
  report(when: string): void {
    const line = this.options.line ? this.options.line() : formatStatsLine(this.registry.collect());
    log.report(`stats (${when}) ${line}`);
  }

  /** At the end of the run: the --stats line, and the endpoint closed. */
  async finish(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    process.off('SIGUSR1', this.onSignal);
    if (this.settings.stats) this.report('exit');
    await this.server?.close();
  }
}

export { MetricsRegistry };
