import { MetricsRegistry, type MetricSample } from '../metrics/registry.js';
import { deliveredWord, type ForwardStats } from './stats.js';

/**
 * forward's counters as metrics, read from Forwarder.stats() at each scrape; per-server ones
 * labelled by server. The delivered-chunk counters are named as the stats line names them:
 * `acked_chunks`, or `sent_chunks` under --no-ack (`ack` false), where no server acknowledges anything.
 */
export function forwardMetrics(read: () => ForwardStats, ack: boolean): MetricsRegistry {
  const registry = new MetricsRegistry('forward');
  const delivered = deliveredWord(ack);
  const deliveredHelp = ack ? 'acknowledged' : 'written in full (--no-ack: nothing is acknowledged)';
  const totals: Array<[keyof ForwardStats, string, string, 'counter' | 'gauge']> = [
    ['events', 'logkit_input_events_total', 'Events read', 'counter'],
    ['ackedEvents', 'logkit_output_events_total', 'Events delivered (acknowledged, or written with --no-ack)', 'counter'],
    ['chunks', 'logkit_forward_chunks_total', 'Chunks sent (resends included)', 'counter'],
    ['ackedChunks', `logkit_forward_${delivered}_chunks_total`, `Chunks ${deliveredHelp}`, 'counter'],
    ['bytes', 'logkit_output_bytes_total', 'Bytes sent', 'counter'],
    ['retries', 'logkit_forward_retries_total', 'Chunks sent again (after a failure or an ack timeout)', 'counter'],
    ['rejectedEvents', 'logkit_forward_rejected_events_total', 'Events a server refused as bad data, isolated (in --dead-letter, or held without it)', 'counter'],
    ['pendingChunks', 'logkit_forward_pending_chunks', 'Chunks held, not yet delivered', 'gauge'],
    ['pendingEvents', 'logkit_forward_pending_events', 'Events held, not yet delivered', 'gauge'],
    ['pendingBytes', 'logkit_forward_pending_bytes', 'Bytes held, not yet delivered', 'gauge'],
  ];
  for (const [field, name, help, type] of totals) registry.observe({ name, help, type }, () => read()[field] as number);

  const perServer = (value: (s: ForwardStats['servers'][number]) => number) => (): MetricSample[] =>
    read().servers.map((s) => ({ value: value(s), labels: { server: s.label, role: s.standby ? 'standby' : 'primary' } }));
  registry.observe({ name: 'logkit_forward_server_up', help: 'Whether the server is up (1) or not (0)', type: 'gauge' }, perServer((s) => (s.state === 'up' ? 1 : 0)));
  registry.observe({ name: 'logkit_forward_server_state', help: 'The state of each server: 1 for the current one', type: 'gauge' }, () =>
    read().servers.map((s) => ({ value: 1, labels: { server: s.label, state: s.state } })),
  );
  registry.observe({ name: 'logkit_forward_server_chunks_total', help: 'Chunks written to the server (resends included)', type: 'counter' }, perServer((s) => s.chunks));
  registry.observe({ name: `logkit_forward_server_${delivered}_chunks_total`, help: ack ? 'Chunks the server acknowledged' : 'Chunks written to the server in full (--no-ack: nothing is acknowledged)', type: 'counter' }, perServer((s) => s.acked));
  registry.observe({ name: 'logkit_forward_server_bytes_total', help: 'Bytes written to the server', type: 'counter' }, perServer((s) => s.bytes));
  registry.observe({ name: 'logkit_forward_server_failures_total', help: 'Connection failures, ack timeouts and heartbeat losses', type: 'counter' }, perServer((s) => s.failures));
  return registry;
}
