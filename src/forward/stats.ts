/** Counters of one server, for --stats and SIGUSR1. */
export interface ServerCounters {
  /** Chunks written (resends included). */
  chunks: number;
  /** Chunks it acknowledged (--no-ack: chunks written to it in full). */
  acked: number;
  bytes: number;
  /** Connection failures, ack timeouts and heartbeat losses. */
  failures: number;
}

export interface ServerStats extends ServerCounters {
  label: string;
  state: string;
  standby: boolean;
}

export interface ForwardStats {
  /** Whether chunks are acknowledged (--ack); without, "delivered" means written. */
  ack: boolean;
  events: number;
  /** Events a server refused as bad data, isolated (in the dead-letter file, or held without one). */
  rejectedEvents: number;
  chunks: number;
  ackedChunks: number;
  ackedEvents: number;
  bytes: number;
  retries: number;
  pendingChunks: number;
  pendingEvents: number;
  pendingBytes: number;
  servers: ServerStats[];
}

/**
 * What forward calls a delivered chunk, in the stats line and the metric names: `acked`, or
 * `sent` under --no-ack, where nothing is acknowledged and the same counters are what the kernel
 * took in full.
 */
export function deliveredWord(ack: boolean): 'acked' | 'sent' {
  return ack ? 'acked' : 'sent';
}

/** One line: `events=… chunks=… acked_chunks=… … servers: a:1=up chunks=… acked=… | …` (sent_* and sent= under --no-ack) — greppable, short. */
export function formatStats(stats: ForwardStats): string {
  const delivered = deliveredWord(stats.ack);
  const servers = stats.servers
    .map(
      (s) =>
        `${s.label}${s.standby ? '(standby)' : ''}=${s.state} chunks=${s.chunks} ${delivered}=${s.acked} bytes=${s.bytes} failures=${s.failures}`,
    )
    .join(' | ');
  return (
    `events=${stats.events} chunks=${stats.chunks} ${delivered}_chunks=${stats.ackedChunks} ${delivered}_events=${stats.ackedEvents} ` +
    `bytes=${stats.bytes} retries=${stats.retries} rejected_events=${stats.rejectedEvents} pending_chunks=${stats.pendingChunks} pending_events=${stats.pendingEvents} ` +
    `pending_bytes=${stats.pendingBytes} servers: ${servers}`
  );
}
