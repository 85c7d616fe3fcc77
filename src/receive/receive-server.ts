import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { lstat, unlink } from 'node:fs/promises';
import { createConnection, createServer, isIPv6, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type TlsOptions } from 'node:tls';
import type { BindAddress } from './bind-address.js';
import { ForwardConnection, type ConnectionContext } from './connection.js';

export interface ServerOptions {
  bind: BindAddress;
  /** TLS on the TCP listener when set (node:tls options: key, cert, ca, requestCert...). */
  tls?: TlsOptions;
  maxConnections: number;
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

  constructor(
    private readonly options: ServerOptions,
    private readonly ctx: ConnectionContext,
  ) {}

  /** Listens; resolves with a description of where (the real port when 0 was asked). */
  async listen(): Promise<string> {
    const { bind, tls } = this.options;
    const onSocket = (socket: Socket) => this.accept(socket);
    const server = tls ? createTlsServer({ ...tls, allowHalfOpen: true }, onSocket) : createServer({ allowHalfOpen: true }, onSocket);
    this.server = server;
    server.maxConnections = this.options.maxConnections;
    server.on('drop', (data) => {
      this.ctx.stats.droppedConnections++;
      this.ctx.log.line(`${data?.remoteAddress ?? 'a client'}: refused, already ${this.options.maxConnections} connections (--max-connections)`);
    });
    if (tls) {
      server.on('tlsClientError', (error: Error, socket: Socket) => {
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

  private accept(socket: Socket): void {
    this.ctx.stats.connections++;
    this.ctx.stats.openConnections++;
    const connection = new ForwardConnection(socket, this.ctx);
    this.connections.add(connection);
    socket.once('close', () => {
      this.ctx.stats.openConnections--;
      this.connections.delete(connection);
    });
  }

  /** Stops accepting; open connections stay until `closeConnections`. */
  stopListening(): void {
    this.server?.close();
    this.udp?.close();
    this.udp = undefined;
  }

  /** Stops reading every connection, waits (bounded) for their pending acks, closes them. */
  async closeConnections(timeoutMs: number): Promise<void> {
    const all = [...this.connections];
    for (const c of all) c.socket.pause();
    await Promise.race([Promise.all(all.map((c) => c.settled())), new Promise((r) => setTimeout(r, timeoutMs).unref())]);
    for (const c of all) c.socket.end();
    setTimeout(() => {
      for (const c of all) c.socket.destroy();
    }, 200).unref();
  }
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
