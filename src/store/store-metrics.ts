import { MetricsRegistry } from '../metrics/registry.js';
import type { ByteCounter } from './run-store.js';
import type { StoreBatcher } from './store-batcher.js';

/** store's counters, read from the batcher and the input byte counter it keeps anyway. */
export function storeMetrics(batcher: StoreBatcher, input: ByteCounter): MetricsRegistry {
  const registry = new MetricsRegistry('store');
  registry.observe({ name: 'logkit_input_events_total', help: 'Events read', type: 'counter', stat: 'events_in' }, () => batcher.received);
  registry.observe({ name: 'logkit_input_bytes_total', help: 'Bytes read', type: 'counter', stat: 'bytes_in' }, () => input.bytes);
  registry.observe({ name: 'logkit_output_events_total', help: 'Events stored (committed)', type: 'counter', stat: 'events_stored' }, () => batcher.committed);
  registry.observe({ name: 'logkit_store_pending_events', help: 'Events read, not yet committed', type: 'gauge', stat: 'pending' }, () => batcher.uncommitted);
  registry.observe({ name: 'logkit_store_retries_total', help: 'Transient failures retried', type: 'counter', stat: 'retries' }, () => batcher.retries);
  return registry;
}
