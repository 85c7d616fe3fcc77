import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { connect } from 'node:net';
import type { ServerConnection } from './server-connection.js';

import type { HeartbeatType } from './forward-choices.js';
export { HEARTBEAT_TYPES, type HeartbeatType } from './forward-choices.js';

/** Missed heartbeats in a row before a server that looks connected is declared down. */
export const HEARTBEAT_MISSES = 3;

/**
 * Probes every server each interval, independent of the data connection: `tcp` opens and closes
 * a connection, `udp` sends the one-byte heartbeat the forward protocol's servers answer. A
 * server that misses HEARTBEAT_MISSES probes in a row is taken out even if its data connection
 * looks open (a hung process, a dead host behind a silent network) and stays out until a probe
 * is answered; a server that answers while we wait to reconnect is retried at once, which is how
 * traffic returns quickly.
 */
export class Heartbeat {
  private timer: NodeJS.Timeout | undefined;
  private readonly misses = new Map<ServerConnection, number>();
  private readonly udp = new Map<4 | 6, UdpSocket>();
  /** For udp: "address:port" → server, and which servers answered since the last round. */
  private readonly udpPeers = new Map<string, ServerConnection>();
  private readonly answered = new Set<ServerConnection>();

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
          if (server) this.answered.add(server);
        });
        socket.on('error', () => {}); // e.g. no IPv6 on this host: those probes count as missed
        socket.bind(0);
        this.udp.set(family, socket);
      }
    }
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
    for (const server of this.servers) {
      if (server.state === 'closed') continue;
      if (this.type === 'tcp') this.probeTcp(server);
      else this.probeUdp(server);
    }
  }

  private result(server: ServerConnection, alive: boolean): void {
    if (alive) {
      this.misses.set(server, 0);
      server.retrySoon();
      return;
    }
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
    const finish = (alive: boolean): void => {
      if (done) return;
      done = true;
      socket.destroy();
      this.result(server, alive);
    };
    socket.setTimeout(this.intervalMs, () => finish(false));
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
  }

  private probeUdp(server: ServerConnection): void {
    // Judge the previous probe, then send the next one.
    const key = [...this.udpPeers.entries()].find(([, s]) => s === server)?.[0];
    if (key !== undefined) {
      this.result(server, this.answered.has(server));
      this.answered.delete(server);
    }
    const { host, port } = server.address;
    void lookup(host).then(
      ({ address, family }) => {
        this.udpPeers.set(`${address}:${port}`, server);
        this.udp.get(family === 6 ? 6 : 4)?.send(Buffer.from([0]), port, address, () => {});
      },
      () => this.result(server, false),
    );
  }
}
