import { Socket, connect as tcpConnect, isIP } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { kindAt } from '../protocol/frame.js';
import { parseResponse } from '../protocol/response.js';
import { Backoff } from './backoff.js';
import type { Chunk, ChunkCarrier } from './chunk.js';
import { ClientHandshake, type HandshakeCredentials } from './client-handshake.js';
import { ResponseReader } from './response-reader.js';
import type { ServerAddress } from './server-address.js';
import type { ServerCounters } from './stats.js';
import { log } from '../log/logger.js';
import { formatDuration } from '../cli/units.js';

export interface TlsSettings {
  ca?: Buffer;
  verify: boolean;
  servername?: string;
}

export interface ConnectionSettings {
  ack: boolean;
  tls?: TlsSettings;
  auth?: HandshakeCredentials;
  connectTimeoutMs: number;
  keepaliveMs: number;
  retryInitialMs: number;
  retryMaxMs: number;
  /** A connection with more unsent bytes than this takes no new chunk until it drains. */
  writeHighWaterBytes: number;
}

/** What a connection tells the forwarder. */
export interface ConnectionListener {
  onUp(connection: ServerConnection): void;
  /** The connection failed: `chunks` were in flight on it and must be sent again. */
  onDown(connection: ServerConnection, chunks: Chunk[], reason: string): void;
  /** An acknowledgement (ack mode), or, without acks, the kernel took the whole chunk. */
  onDelivered(connection: ServerConnection, chunkId: string): void;
  /** The connection can take chunks again after its socket buffer drained. */
  onWritable(connection: ServerConnection): void;
}

export type ConnectionState = 'down' | 'connecting' | 'up' | 'closed';

/**
 * One persistent connection to one server (few connections, as the design asks): connect (TLS
 * optional), shared-key handshake when configured, then chunks out and acks in. On any failure it
 * hands its in-flight chunks back and reconnects with exponential backoff.
 */
export class ServerConnection implements ChunkCarrier {
  state: ConnectionState = 'down';
  readonly counters: ServerCounters = { chunks: 0, acked: 0, bytes: 0, failures: 0 };
  lastError: string | undefined;
  private socket: Socket | undefined;
  private readonly inFlight = new Map<string, Chunk>();
  private readonly backoff: Backoff;
  private retryTimer: NodeJS.Timeout | undefined;
  private handshake: ClientHandshake | undefined;
  private reader = new ResponseReader();
  /** Taken out by lost heartbeats: reconnect only when a heartbeat answers again. */
  private suspended = false;
  /** Whether it has been up since its last reported failure (failures are reported once). */
  private reportedDown = false;

  constructor(
    readonly address: ServerAddress,
    private readonly settings: ConnectionSettings,
    private readonly listener: ConnectionListener,
  ) {
    this.backoff = new Backoff(settings.retryInitialMs, settings.retryMaxMs);
  }

  get label(): string {
    return this.address.label;
  }

  get weight(): number {
    return this.address.weight;
  }

  get isUp(): boolean {
    return this.state === 'up';
  }

  /** Up, and its socket buffer is below the high-water mark. */
  get isWritable(): boolean {
    return this.state === 'up' && this.socket !== undefined && this.socket.writableLength < this.settings.writeHighWaterBytes;
  }

  get inFlightCount(): number {
    return this.inFlight.size;
  }

  /** Whether a reconnect is waiting for its backoff. */
  get isWaitingToRetry(): boolean {
    return this.retryTimer !== undefined;
  }

  start(): void {
    if (this.state === 'closed' || this.state === 'connecting' || this.state === 'up') return;
    this.clearRetry();
    this.state = 'connecting';
    this.reader = new ResponseReader();
    const { host, port } = this.address;
    const tls = this.settings.tls;
    const socket: Socket = tls
      ? tlsConnect({
          host,
          port,
          ca: tls.ca,
          rejectUnauthorized: tls.verify,
          servername: tls.servername ?? (isIP(host) ? undefined : host),
        })
      : tcpConnect({ host, port });
    this.socket = socket;
    socket.setNoDelay(true);
    socket.setKeepAlive(true, this.settings.keepaliveMs);
    socket.setTimeout(this.settings.connectTimeoutMs, () => this.fail(socket, `no connection within ${this.settings.connectTimeoutMs} ms`));
    socket.once(tls ? 'secureConnect' : 'connect', () => {
      if (this.socket !== socket) return;
      if (this.settings.auth) {
        // The server speaks first (HELO); the connect timeout keeps running until PONG.
        this.handshake = new ClientHandshake(this.settings.auth);
      } else {
        this.becomeUp(socket);
      }
    });
    socket.on('data', (data: Buffer) => this.onData(socket, data));
    socket.on('drain', () => {
      if (this.socket === socket && this.state === 'up') this.listener.onWritable(this);
    });
    socket.on('error', (error: NodeJS.ErrnoException) =>
      this.fail(socket, error.code && !error.message.includes(error.code) ? `${error.code}: ${error.message}` : error.message),
    );
    socket.on('close', () => this.fail(socket, 'connection closed by server'));
    socket.on('end', () => this.fail(socket, 'connection closed by server'));
  }

  /** Writes a chunk; it stays in flight until acknowledged (or, without acks, written). */
  send(chunk: Chunk): void {
    const socket = this.socket!;
    this.counters.chunks++;
    this.counters.bytes += chunk.frame.length;
    this.inFlight.set(chunk.id, chunk);
    if (this.settings.ack) {
      socket.write(chunk.frame);
    } else {
      socket.write(chunk.frame, (error) => {
        if (error || !this.inFlight.delete(chunk.id)) return; // a failure requeued it
        this.counters.acked++;
        this.listener.onDelivered(this, chunk.id);
      });
    }
  }

  /** A chunk in flight here was acknowledged elsewhere (a late ack after a resend). */
  forget(chunkId: string): void {
    this.inFlight.delete(chunkId);
  }

  /** Gives up on the current connection (ack timeout, lost heartbeats) and reconnects later. */
  abandon(reason: string): void {
    if (this.socket) this.fail(this.socket, reason);
  }

  /**
   * Heartbeats stopped answering: drop the connection and stay out — no reconnect on the backoff
   * timer (a hung process still completes TCP connects in the kernel) until a heartbeat answers.
   */
  suspend(reason: string): void {
    this.suspended = true;
    this.abandon(reason);
  }

  /** A heartbeat reached the server: if we wait to reconnect, try now, not at the end of the backoff. */
  retrySoon(): void {
    const wasSuspended = this.suspended;
    this.suspended = false;
    if (this.state === 'down' && (this.retryTimer || wasSuspended)) this.start();
  }

  /** Ends the connection after what was written has been flushed (bounded by `timeoutMs`). */
  async close(timeoutMs: number): Promise<void> {
    this.clearRetry();
    const socket = this.socket;
    this.state = 'closed';
    this.socket = undefined;
    if (!socket || socket.destroyed) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        socket.destroy();
        resolve();
      }, timeoutMs);
      socket.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      socket.end();
    });
  }

  private becomeUp(socket: Socket): void {
    socket.setTimeout(0);
    this.state = 'up';
    this.lastError = undefined;
    // Without acks, a connection is all the health there is; with acks, the first ack proves it
    // (a server that accepts and then rejects every chunk must not flap "up again" / "down").
    if (!this.settings.ack) this.recovered();
    this.listener.onUp(this);
  }

  private onData(socket: Socket, data: Buffer): void {
    if (this.socket !== socket) return;
    try {
      for (const frame of this.reader.push(data)) {
        if (this.state === 'connecting') {
          if (!this.handshake) throw new Error('the server asks for a shared key (HELO); set --shared-key');
          const reply = this.handshake.receive(frame);
          if (reply) socket.write(reply);
          if (this.handshake.done) {
            this.handshake = undefined;
            this.becomeUp(socket);
          }
          continue;
        }
        if (kindAt(frame, 0) === 'array') throw new Error('the server asks for a shared key (HELO); set --shared-key');
        const response = parseResponse(frame);
        if ('error' in response) throw new Error(`the server rejected a chunk: ${response.error.slice(0, 200)}`);
        // Chunk ids are base64 (ASCII): the echoed bytes compare as latin1 text.
        const id = response.ack.toString('latin1');
        if (this.inFlight.delete(id)) this.counters.acked++;
        // A healthy round trip: the next failure starts the backoff from the beginning.
        this.recovered();
        this.listener.onDelivered(this, id);
      }
    } catch (error) {
      this.fail(socket, (error as Error).message);
    }
  }

  private recovered(): void {
    this.backoff.reset();
    if (this.reportedDown) {
      log.info(`${this.label} is up again`);
      this.reportedDown = false;
    }
  }

  private fail(socket: Socket, reason: string): void {
    if (this.socket !== socket) return;
    this.socket = undefined;
    socket.destroy();
    this.handshake = undefined;
    const wasUp = this.state === 'up';
    if (this.state === 'closed') return;
    this.state = 'down';
    this.counters.failures++;
    this.lastError = reason;
    const chunks = [...this.inFlight.values()];
    this.inFlight.clear();
    const wait = this.backoff.next();
    if (!this.reportedDown) {
      const lost = chunks.length > 0 ? `; ${chunks.length} unacknowledged chunks will be resent` : '';
      log.warn(`${this.label} ${wasUp ? 'down' : 'unavailable'}: ${reason}${lost}; retrying (backoff up to ${formatDuration(this.settings.retryMaxMs)})`);
      this.reportedDown = true;
    }
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (!this.suspended) this.start();
    }, wait);
    this.listener.onDown(this, chunks, reason);
  }

  private clearRetry(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }
}

