import test from 'ava';
import { renderPrometheus } from '../../src/metrics/prometheus-text.js';
import { MetricsRegistry } from '../../src/metrics/registry.js';
import { formatStatsLine } from '../../src/metrics/stats-line.js';

test('exposition: HELP/TYPE per metric, the command label first, label values escaped', (t) => {
  const registry = new MetricsRegistry('forward');
  const sent = registry.counter('logkit_output_events_total', 'Events sent', 'events_out');
  sent.inc(41);
  sent.inc();
  registry.observe({ name: 'logkit_forward_server_up', help: 'Up\nor not', type: 'gauge' }, () => [
    { value: 1, labels: { server: 'a"b\\c:1' } },
    { value: 0, labels: { server: 'line\nbreak' } },
  ]);
  t.is(
    renderPrometheus(registry.collect(), registry.command),
    '# HELP logkit_output_events_total Events sent\n# TYPE logkit_output_events_total counter\n' +
      'logkit_output_events_total{command="forward"} 42\n' +
      '# HELP logkit_forward_server_up Up\\nor not\n# TYPE logkit_forward_server_up gauge\n' +
      'logkit_forward_server_up{command="forward",server="a\\"b\\\\c:1"} 1\n' +
      'logkit_forward_server_up{command="forward",server="line\\nbreak"} 0\n',
  );
  // the --stats line: unlabelled metrics with a stat key only
  t.is(formatStatsLine(registry.collect()), 'events_out=42');
});

test('registry: a counter must end in _total, and a name is registered once', (t) => {
  const registry = new MetricsRegistry('tag');
  t.throws(() => registry.counter('logkit_events', 'x'), { message: /must end in _total/ });
  registry.gauge('logkit_open_files', 'x');
  t.throws(() => registry.gauge('logkit_open_files', 'x'), { message: /registered twice/ });
});
