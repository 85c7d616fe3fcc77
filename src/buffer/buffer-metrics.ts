import { MetricsRegistry } from '../metrics/registry.js';
import { observeFields } from '../metrics/stage-metrics.js';
import type { DiskBuffer } from './disk-buffer.js';

/** buffer's counters as metrics; the stat keys are the historical `--stats` line's. */
export function bufferMetrics(buffer: DiskBuffer): MetricsRegistry {
  const registry = new MetricsRegistry('buffer');
  observeFields(registry, () => buffer.stats(), [
    { field: 'chunksWritten', name: 'logkit_buffer_chunks_written_total', help: 'Chunks sealed to disk', type: 'counter', stat: 'chunks_written' },
    { field: 'eventsWritten', name: 'logkit_input_events_total', help: 'Events taken into the buffer', type: 'counter', stat: 'events_written' },
    { field: 'fsyncs', name: 'logkit_buffer_fsyncs_total', help: 'fsync calls', type: 'counter', stat: 'fsyncs' },
    { field: 'chunksAcked', name: 'logkit_buffer_chunks_delivered_total', help: 'Chunks written to standard output and deleted', type: 'counter', stat: 'chunks_acked' },
    { field: 'eventsAcked', name: 'logkit_output_events_total', help: 'Events written to standard output', type: 'counter', stat: 'events_acked' },
    { field: 'droppedChunks', name: 'logkit_buffer_dropped_chunks_total', help: 'Chunks dropped by --overflow drop-oldest', type: 'counter', stat: 'dropped_chunks' },
    { field: 'droppedEvents', name: 'logkit_buffer_dropped_events_total', help: 'Events dropped by --overflow drop-oldest', type: 'counter', stat: 'dropped_events' },
    { field: 'corruptChunks', name: 'logkit_errors_total', help: 'Chunks that failed their check (moved to DIR/corrupt)', type: 'counter', stat: 'corrupt_chunks' },
    { field: 'replayedEvents', name: 'logkit_buffer_replayed_events_total', help: 'Events found on disk at start-up', type: 'counter', stat: 'replayed_events' },
    { field: 'chunksOnDisk', name: 'logkit_buffer_chunks', help: 'Chunks on disk now', type: 'gauge', stat: 'chunks_on_disk' },
    { field: 'bytesOnDisk', name: 'logkit_buffer_bytes', help: 'Bytes on disk now', type: 'gauge', stat: 'bytes_on_disk' },
    { field: 'eventsOnDisk', name: 'logkit_buffer_events', help: 'Events on disk now', type: 'gauge' },
  ]);
  return registry;
}
