import { MetricsRegistry } from '../metrics/registry.js';
import { observeFields } from '../metrics/stage-metrics.js';
import type { ReceiveStats } from './receive-stats.js';

/** receive's counters as metrics; the stat keys are the historical `--stats` line's. */
export function receiveMetrics(stats: ReceiveStats): MetricsRegistry {
  const registry = new MetricsRegistry('receive');
  observeFields(registry, () => stats, [
    { field: 'connections', name: 'logkit_receive_connections_total', help: 'Connections accepted', type: 'counter', stat: 'connections' },
    { field: 'openConnections', name: 'logkit_receive_open_connections', help: 'Connections open now', type: 'gauge', stat: 'open_connections' },
    { field: 'droppedConnections', name: 'logkit_receive_dropped_connections_total', help: 'Connections closed at once (over --max-connections)', type: 'counter', stat: 'dropped_connections' },
    { field: 'requests', name: 'logkit_receive_requests_total', help: 'Forward protocol requests received', type: 'counter', stat: 'requests' },
    { field: 'events', name: 'logkit_input_events_total', help: 'Events received', type: 'counter', stat: 'events' },
    { field: 'bytes', name: 'logkit_input_bytes_total', help: 'Request bytes received', type: 'counter', stat: 'bytes' },
    { field: 'acks', name: 'logkit_receive_acks_total', help: 'Requests acknowledged (their chunk id sent back)', type: 'counter', stat: 'acks' },
    { field: 'protocolErrors', name: 'logkit_errors_total', help: 'Connections closed for invalid data', type: 'counter', stat: 'protocol_errors' },
    { field: 'oversizeRejections', name: 'logkit_receive_oversize_rejections_total', help: 'Requests rejected for their size or the memory budget', type: 'counter', stat: 'oversize_rejections' },
    { field: 'authFailures', name: 'logkit_receive_auth_failures_total', help: 'Failed handshakes', type: 'counter', stat: 'auth_failures' },
    { field: 'sanitizedTags', name: 'logkit_receive_sanitized_tags_total', help: 'Tags rewritten by sanitizing', type: 'counter', stat: 'sanitized_tags' },
    { field: 'heartbeats', name: 'logkit_receive_heartbeats_total', help: 'UDP heartbeats answered', type: 'counter', stat: 'heartbeats' },
    { field: 'addressRefusals', name: 'logkit_receive_address_refusals_total', help: 'Connections closed at once (their address already held --max-connections-per-ip)', type: 'counter', stat: 'address_refusals' },
    { field: 'backoffRefusals', name: 'logkit_receive_backoff_refusals_total', help: 'Connections closed at once (their address is backing off after failed authentications)', type: 'counter', stat: 'backoff_refusals' },
    { field: 'handshakeTimeouts', name: 'logkit_receive_handshake_timeouts_total', help: 'Connections closed for not finishing the TLS or shared-key handshake within --handshake-timeout', type: 'counter', stat: 'handshake_timeouts' },
    { field: 'requestTimeouts', name: 'logkit_receive_request_timeouts_total', help: 'Connections closed for not finishing a request within --request-timeout', type: 'counter', stat: 'request_timeouts' },
    { field: 'duplicateChunks', name: 'logkit_receive_duplicate_chunks_total', help: 'Resent requests dropped, their chunk id already received (--buffer)', type: 'counter', stat: 'duplicate_chunks' },
  ]);
  return registry;
}
