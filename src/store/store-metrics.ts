import { MetricsRegistry } from '../metrics/registry.js';
import type { ByteCounter } from '../stream/byte-counter.js';
import type { StoreBatcher } from './store-batcher.js';
import type { StoreSink } from './store-sink.js';

/** store's counters, read from the batcher and the input byte counter it keeps anyway. */
export function storeMetrics(batcher: StoreBatcher, input: ByteCounter, sink: StoreSink): MetricsRegistry {
  const registry = new MetricsRegistry('store');
  registry.observe({ name: 'logkit_input_events_total', help: 'Events read', type: 'counter', stat: 'events_in' }, () => batcher.received);
  registry.observe({ name: 'logkit_input_bytes_total', help: 'Bytes read', type: 'counter', stat: 'bytes_in' }, () => input.bytes);
  registry.observe({ name: 'logkit_output_events_total', help: 'Events committed (stored, or dropped as duplicates of what was stored)', type: 'counter', stat: 'events_stored' }, () => batcher.committed);
  registry.observe({ name: 'logkit_store_pending_events', help: 'Events read, not yet committed', type: 'gauge', stat: 'pending' }, () => batcher.uncommitted);
  registry.observe({ name: 'logkit_store_retries_total', help: 'Transient failures retried', type: 'counter', stat: 'retries' }, () => batcher.retries);
  registry.observe({ name: 'logkit_store_duplicates_total', help: 'Events dropped because the destination had already committed their identity (options.src)', type: 'counter', stat: 'duplicates' }, () => sink.duplicates ?? 0);
  return registry;
}
