import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { connect } from 'node:net';
import type { ServerConnection } from './server-connection.js';

import type { HeartbeatType } from './forward-choices.js';
export { HEARTBEAT_TYPES, type HeartbeatType } from './forward-choices.js';

/** Missed heartbeats in a row before a server that looks connected is declared down. */
export const HEARTBEAT_MISSES = 3;

/**
 * How forward learns that a server is alive besides sending it chunks. In every mode a server
 * whose data connection acknowledges chunks is alive (as in Fluentd's out_forward): probes never
 * take out a server that is delivering. Probes go only where there is no traffic to judge by:
 *
 * - `transport` (the default, Fluentd's default too): no probe of its own. A server that is up
 *   is judged by its data connection (acknowledgements, --ack-timeout, TCP keepalive); a server
 *   that could not be reached is retried every interval by opening the data connection itself,
 *   TLS and shared-key handshake included, so the other side only ever sees complete sessions
 *   and logs no error (a bare connect that closes at once is "SSL unexpected eof" or
 *   "handshake error expecting PING" in Fluent Bit's log).
 * - `tcp`: a server that could not be reached is probed with a bare TCP connect each interval,
 *   and the data connection is retried as soon as one succeeds. Only unreachable servers are
 *   probed, so a server sees at most one bare connect per outage.
 * - `udp`: the forward protocol's one-byte datagram to every server each interval. It also
 *   notices a hung server (its kernel still accepts TCP): a server that answered UDP heartbeats
 *   and then misses HEARTBEAT_MISSES in a row without acknowledging any chunk meanwhile is taken
 *   out until one is answered. A server that never answered one (Fluent Bit's in_forward has no
 *   UDP heartbeat) is judged by its data connection alone.
 * - `none`: nothing; reconnection follows the backoff only.
 *
 * A server refusing us (TLS, handshake) or one we gave up on is never hurried: its reconnects
 * follow the backoff, so a wrong key does not turn into an error line per interval over there.
 */
export class Heartbeat {
  private timer: NodeJS.Timeout | undefined;
  private readonly misses = new Map<ServerConnection, number>();
  private readonly udp = new Map<4 | 6, UdpSocket>();
  /** For udp: "address:port" → server, which servers answered since the last round, and which ever did. */
  private readonly udpPeers = new Map<string, ServerConnection>();
  private readonly udpTargets = new Map<ServerConnection, string>();
  private readonly answered = new Set<ServerConnection>();
  private readonly answersUdp = new Set<ServerConnection>();
  private lastRoundAt = 0;

  constructor(
    private readonly type: HeartbeatType,
    private readonly intervalMs: number,
    private readonly servers: readonly ServerConnection[],
  ) {}

  start(): void {
    if (this.type === 'none') return;
    if (this.type === 'udp') {
      for (const family of [4, 6] as const) {
        const socket = createSocket(family === 4 ? 'udp4' : 'udp6');
        socket.on('message', (_msg, rinfo) => {
          const server = this.udpPeers.get(`${rinfo.address}:${rinfo.port}`);
          if (!server) return;
          this.answered.add(server);
          this.answersUdp.add(server);
        });
        socket.on('error', () => {}); // e.g. no IPv6 on this host: those probes count as missed
        socket.bind(0);
        this.udp.set(family, socket);
      }
    }
    this.lastRoundAt = Date.now();
    // udp: a first round at once, so that a server's answer (it has UDP heartbeats) is known
    // before it could hang
    if (this.type === 'udp') this.round();
    // Not unref'd: while every server is out and input is paused, this timer is what keeps the
    // process alive until a heartbeat brings a server back.
    this.timer = setInterval(() => this.round(), this.intervalMs);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    for (const socket of this.udp.values()) socket.close();
    this.udp.clear();
  }

  private round(): void {
    const since = this.lastRoundAt;
    this.lastRoundAt = Date.now();
    for (const server of this.servers) {
      if (server.state === 'closed') continue;
      if (this.type === 'udp') {
        this.probeUdp(server, since);
      } else if (server.state === 'down' && server.lastFailure === 'unreachable') {
        if (this.type === 'transport') server.retrySoon();
        else this.probeTcp(server);
      }
    }
  }

  private alive(server: ServerConnection): void {
    this.misses.set(server, 0);
    server.retrySoon();
  }

  private missed(server: ServerConnection): void {
    const misses = (this.misses.get(server) ?? 0) + 1;
    this.misses.set(server, misses);
    if (misses === HEARTBEAT_MISSES && server.state !== 'closed') {
      server.suspend(`${misses} heartbeats (${this.type}) missed`);
    }
  }

  private probeTcp(server: ServerConnection): void {
    const { host, port } = server.address;
    const socket = connect({ host, port });
    let done = false;
    const finish = (reached: boolean): void => {
      if (done) return;
      done = true;
      socket.destroy();
      if (reached) server.retrySoon();
    };
    socket.setTimeout(this.intervalMs, () => finish(false));
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
  }

  private probeUdp(server: ServerConnection, since: number): void {
    // Judge the previous round (if one was sent), then send the next probe.
    if (this.udpTargets.has(server)) {
      const acknowledged = server.lastAckAt >= since;
      if (this.answered.has(server) || acknowledged) this.alive(server);
      else if (this.answersUdp.has(server)) this.missed(server);
      this.answered.delete(server);
    }
    const { host, port } = server.address;
    void lookup(host).then(
      ({ address, family }) => {
        const key = `${address}:${port}`;
        this.udpPeers.set(key, server);
        this.udpTargets.set(server, key);
        this.udp.get(family === 6 ? 6 : 4)?.send(Buffer.from([0]), port, address, () => {});
      },
      () => this.missed(server),
    );
  }
}
