/** Counters of one server, for --stats and SIGUSR1. */
export interface ServerCounters {
  /** Chunks written (resends included). */
  chunks: number;
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
  events: number;
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

/** One line: `events=… chunks=… … servers=a:1(up chunks=… acked=…),…` — greppable, short. */
export function formatStats(stats: ForwardStats): string {
  const servers = stats.servers
    .map(
      (s) =>
        `${s.label}${s.standby ? '(standby)' : ''}=${s.state} chunks=${s.chunks} acked=${s.acked} bytes=${s.bytes} failures=${s.failures}`,
    )
    .join(' | ');
  return (
    `events=${stats.events} chunks=${stats.chunks} acked_chunks=${stats.ackedChunks} acked_events=${stats.ackedEvents} ` +
    `bytes=${stats.bytes} retries=${stats.retries} pending_chunks=${stats.pendingChunks} pending_events=${stats.pendingEvents} ` +
    `pending_bytes=${stats.pendingBytes} servers: ${servers}`
  );
}
