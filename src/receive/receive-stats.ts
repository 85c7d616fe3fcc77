/**
 * Counters of a receive process. Incremented per request or per connection (never per event in
 * a loop); reported by `--stats`, SIGUSR1 and `--metrics`. `duplicateChunks` counts resent requests
 * that the durable mode (`--buffer`) recognised by their chunk id and dropped. `openConnections` and
 * `connections` count from the TCP accept (a TLS handshake in progress is a connection).
 */
export class ReceiveStats {
  connections = 0;
  openConnections = 0;
  droppedConnections = 0;
  requests = 0;
  events = 0;
  bytes = 0;
  acks = 0;
  protocolErrors = 0;
  oversizeRejections = 0;
  authFailures = 0;
  sanitizedTags = 0;
  heartbeats = 0;
  duplicateChunks = 0;
  addressRefusals = 0;
  backoffRefusals = 0;
  handshakeTimeouts = 0;
  requestTimeouts = 0;

  toJSON(): Record<string, number> {
    return { ...this } as unknown as Record<string, number>;
  }
}
