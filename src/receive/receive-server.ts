import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { lstat, unlink } from 'node:fs/promises';
import { createConnection, createServer, isIPv6, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type TlsOptions } from 'node:tls';
import { ConnectionAdmission, type Admitted } from './admission.js';
import type { BindAddress } from '../net/bind-address.js';
import { ForwardConnection, type ConnectionContext } from './connection.js';

export interface ServerOptions {
  bind: BindAddress;
  /** TLS on the TCP listener when set (node:tls options: key, cert, ca, requestCert...). */
  tls?: TlsOptions;
  maxConnections: number;
  /** Open connections one address may hold (counted from the TCP accept, TLS handshake included). */
  maxConnectionsPerAddress: number;
  /** Answer UDP heartbeats on the same port (TCP binds only). */
  heartbeat: boolean;
}

/** The UDP heartbeat answer of the specification: one 0x00 byte back to the sender. */
const HEARTBEAT_REPLY = Buffer.from([0]);

/**
 * The listeners of `logkit receive`: TCP (or TLS) or a Unix socket for the forward protocol, and
 * UDP on the same port for heartbeats. Each accepted socket becomes a ForwardConnection.
 */
export class ReceiveServer {
  private server: Server | undefined;
  private udp: UdpSocket | undefined;
  readonly connections = new Set<ForwardConnection>();
  private readonly admission: ConnectionAdmission;
  /** TLS connections accepted whose handshake is not done yet, by `address|port`. */
  private readonly handshaking = new Map<string, Handshaking>();

  constructor(
    private readonly options: ServerOptions,
    private readonly ctx: ConnectionContext,
  ) {
    this.admission = new ConnectionAdmission(options.maxConnectionsPerAddress, ctx.backoff);
  }

  /** Listens; resolves with a description of where (the real port when 0 was asked). */
  async listen(): Promise<string> {
    const { bind, tls } = this.options;
    const server = tls
      ? // Node's handshakeTimeout is an inactivity timer (a trickle of bytes resets it): a backstop
        // only, just behind our total deadline (admit), which always fires first
        createTlsServer({ ...tls, allowHalfOpen: true, handshakeTimeout: this.ctx.config.handshakeTimeoutMs + 1000 })
      : createServer({ allowHalfOpen: true });
    this.server = server;
    // every TCP connection is admitted (or refused) at accept, before any TLS handshake
    server.on('connection', (socket: Socket) => this.admit(socket, !tls));
    if (tls) server.on('secureConnection', (socket: Socket) => this.secured(socket));
    server.maxConnections = this.options.maxConnections;
    server.on('drop', (data) => {
      this.ctx.stats.droppedConnections++;
      this.ctx.log.line(`${data?.remoteAddress ?? 'a client'}: refused, already ${this.options.maxConnections} connections (--max-connections)`);
    });
    if (tls) {
      server.on('tlsClientError', (error: NodeJS.ErrnoException, socket: Socket) => {
        // a hang-up before the handshake: a connection refused or timed out here (said already),
        // or a client that went away (a port scan, a load balancer's TCP health check): no news
        if (error.code === 'ECONNRESET') return;
        this.ctx.log.line(`${socket.remoteAddress ?? 'a client'}: TLS handshake failed: ${error.message}`);
      });
    }
    if (bind.kind === 'unix') {
      await removeStaleSocket(bind.path);
      await listenOn(server, { path: bind.path });
      return `unix://${bind.path}`;
    }
    await listenOn(server, { host: bind.host, port: bind.port });
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : bind.port;
    const shown = `${isIPv6(bind.host) ? `[${bind.host}]` : bind.host}:${port}`;
    if (!this.options.heartbeat) return `${tls ? 'tls' : 'tcp'}://${shown}`;
    this.udp = await bindHeartbeat(bind.host, port, this.ctx);
    return `${tls ? 'tls' : 'tcp'}://${shown} (udp heartbeat on the same port)`;
  }

  /**
   * A TCP connection was accepted: refused at once when its address holds its share already or is
   * backing off; otherwise it gets --handshake-timeout, in total, to finish the TLS and shared-key
   * handshakes (an inactivity timer would not do: one byte now and then would keep it forever).
   */
  private admit(socket: Socket, plain: boolean): void {
    const { stats, log, config } = this.ctx;
    const admitted = this.admission.admit(socket);
    if ('why' in admitted) {
      const who = socket.remoteAddress ?? 'a client';
      if (admitted.why === 'backoff') {
        stats.backoffRefusals++;
        log.line(`${who}: refused, backing off for ${Math.ceil(admitted.waitMs / 1000)} s more after failed authentications`);
      } else {
        stats.addressRefusals++;
        log.line(`${who}: refused, already ${admitted.limit} connections from this address (--max-connections-per-ip)`);
      }
      socket.destroy();
      return;
    }
    stats.connections++;
    stats.openConnections++;
    const needsHandshake = !plain || config.auth !== undefined;
    const id = connectionId(socket);
    const pending = new Handshaking(socket, admitted, () => {
      stats.openConnections--;
      if (this.handshaking.get(id) === pending) this.handshaking.delete(id);
    });
    if (needsHandshake) {
      pending.timer = setTimeout(() => {
        stats.handshakeTimeouts++;
        log.line(`${pending.peer}: handshake not finished within ${config.handshakeTimeoutMs / 1000} s (--handshake-timeout); closing`);
        pending.destroy();
      }, config.handshakeTimeoutMs);
      pending.timer.unref();
    }
    if (!plain) this.handshaking.set(id, pending);
    socket.once('close', () => pending.close());
    if (plain) this.accept(socket, pending);
  }

  private secured(socket: Socket): void {
    const id = connectionId(socket);
    const pending = this.handshaking.get(id);
    this.handshaking.delete(id);
    if (!pending || pending.closed) {
      socket.destroy();
      return;
    }
    pending.secured = socket;
    socket.once('close', () => pending.close());
    this.accept(socket, pending);
  }

  private accept(socket: Socket, pending: Handshaking): void {
    const connection = new ForwardConnection(socket, this.ctx, pending.admitted.key, () => pending.established());
    this.connections.add(connection);
    socket.once('close', () => this.connections.delete(connection));
  }

  /** Stops accepting; open connections stay until `closeConnections`. */
  stopListening(): void {
    this.server?.close();
    this.udp?.close();
    this.udp = undefined;
  }

  /** Stops reading every connection, waits (bounded) for their pending acks, closes them. */
  async closeConnections(timeoutMs: number): Promise<void> {
    // a TLS handshake still in progress holds nothing yet: it would only keep the process alive
    for (const pending of [...this.handshaking.values()]) pending.destroy();
    const all = [...this.connections];
    for (const c of all) c.socket.pause();
    await Promise.race([Promise.all(all.map((c) => c.settled())), new Promise((r) => setTimeout(r, timeoutMs).unref())]);
    for (const c of all) c.socket.end();
    setTimeout(() => {
      for (const c of all) c.socket.destroy();
    }, 200).unref();
  }
}

/** A connection from accept until it is established (its handshakes done), then until it closes. */
class Handshaking {
  timer: NodeJS.Timeout | undefined;
  closed = false;
  /** The TLS socket, once the TLS handshake is done. */
  secured: Socket | undefined;
  readonly peer: string;

  constructor(
    readonly raw: Socket,
    readonly admitted: Admitted,
    private readonly onClose: () => void,
  ) {
    this.peer = raw.remoteAddress ? `${raw.remoteAddress}:${raw.remotePort}` : 'unix socket';
  }

  established(): void {
    clearTimeout(this.timer);
  }

  destroy(): void {
    this.secured?.destroy();
    this.raw.destroy();
  }

  /** On the close of the raw or the TLS socket, whichever comes first. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.timer);
    this.admitted.release();
    this.onClose();
  }
}

/** Identifies a TCP connection to this server while it is open (the TLS socket shares its raw socket's). */
function connectionId(socket: Socket): string {
  return `${socket.remoteAddress}|${socket.remotePort}`;
}

function listenOn(server: Server, options: { host?: string; port?: number; path?: string }): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

async function bindHeartbeat(host: string, port: number, ctx: ConnectionContext): Promise<UdpSocket> {
  const udp = createSocket({ type: isIPv6(host) ? 'udp6' : 'udp4' });
  udp.on('message', (_message, remote) => {
    ctx.stats.heartbeats++;
    udp.send(HEARTBEAT_REPLY, remote.port, remote.address);
  });
  await new Promise<void>((resolve, reject) => {
    udp.once('error', reject);
    udp.bind(port, host === 'localhost' ? '127.0.0.1' : host, () => {
      udp.off('error', reject);
      resolve();
    });
  });
  udp.on('error', (error) => ctx.log.line(`udp heartbeat: ${error.message}`));
  return udp;
}

/** A socket file left by a process that died is removed; a live server's socket is not. */
async function removeStaleSocket(path: string): Promise<void> {
  const info = await lstat(path).catch(() => undefined);
  if (!info) return;
  if (!info.isSocket()) throw Object.assign(new Error(`${path} exists and is not a socket`), { code: 'EEXIST' });
  const alive = await new Promise<boolean>((resolve) => {
    const probe = createConnection({ path }, () => {
      probe.destroy();
      resolve(true);
    });
    probe.on('error', () => resolve(false));
  });
  if (alive) throw Object.assign(new Error(`another server is listening on ${path}`), { code: 'EADDRINUSE' });
  await unlink(path);
}
