import { Socket, connect as tcpConnect, isIP } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { kindAt } from '../protocol/frame.js';
import { parseResponse } from '../protocol/response.js';
import { Backoff } from '../retry/backoff.js';
import type { Chunk, ChunkCarrier, IdentityMode } from './chunk.js';
import { ClientHandshake, type HandshakeCredentials } from './client-handshake.js';
import { ResponseReader } from './response-reader.js';
import type { ServerAddress } from './server-address.js';
import type { ServerCounters } from './stats.js';
import { log } from '../log/logger.js';
import { formatDuration } from '../base/units.js';

export interface TlsSettings {
  ca?: Buffer;
  verify: boolean;
  servername?: string;
}

export interface ConnectionSettings {
  ack: boolean;
  /** Whether chunks go with their identities (see chunk.ts). */
  identities: IdentityMode;
  tls?: TlsSettings;
  auth?: HandshakeCredentials;
  connectTimeoutMs: number;
  keepaliveMs: number;
  retryInitialMs: number;
  retryMaxMs: number;
  /** A connection with more unsent bytes than this takes no new chunk until it drains. */
  writeHighWaterBytes: number;
}

/**
 * Why a connection ended, as far as the chunks on it are concerned:
 * - `unreachable`: no connection (refused, timed out, unreachable): the server is down;
 * - `refused`: TLS or the shared-key handshake failed: the server is up but will not talk to us;
 * - `rejected`: after a complete handshake the server closed (or reset) the connection, or
 *   answered with an error, while chunks were in flight: it may be refusing what they hold;
 * - `abandoned`: we gave up on it (ack timeout, heartbeats lost);
 * - `closed`: the server closed an idle connection (its idle timeout, a restart).
 */
export type FailureKind = 'unreachable' | 'refused' | 'rejected' | 'abandoned' | 'closed';

/** What a connection tells the forwarder. */
export interface ConnectionListener {
  onUp(connection: ServerConnection): void;
  /** The connection failed: `chunks` were in flight on it and must be sent again. */
  onDown(connection: ServerConnection, chunks: Chunk[], reason: string, kind: FailureKind): void;
  /** An acknowledgement (ack mode), or, without acks, the kernel took the whole chunk. */
  onDelivered(connection: ServerConnection, chunkId: string): void;
  /** The connection can take chunks again after its socket buffer drained. */
  onWritable(connection: ServerConnection): void;
}

export type ConnectionState = 'down' | 'connecting' | 'up' | 'closed';

/** Errors that mean the server could not be reached at all. */
const NETWORK_ERROR = /ECONNREFUSED|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN/;

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
  /**
   * What the server's last ack said: it restores carried identities (a logkit receive), or not;
   * unknown until its first ack. Kept across reconnections (the new connection's first ack
   * updates it), so that a Fluentd or Fluent Bit gets identities only before its first ack.
   */
  private restoresIdentities: boolean | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private handshake: ClientHandshake | undefined;
  private reader = new ResponseReader();
  /** Taken out by lost heartbeats: reconnect only when a heartbeat answers again. */
  private suspended = false;
  /** Whether it has been up since its last reported failure (failures are reported once). */
  private reportedDown = false;
  /** The kind of the last failure (heartbeats do not hurry a reconnect after a refusal). */
  lastFailure: FailureKind | undefined;
  /** When the data connection last proved the server alive (an acknowledgement), as Date.now(). */
  lastAckAt = 0;
  /** Error answers ({"error": …}) received: a server that answers one speaks the protocol and is alive. */
  private errorAnswers = 0;
  /** A chunk under isolation (see poison-isolation.ts) in flight here: nothing else is sent meanwhile. */
  private isolatedInFlight: Chunk | undefined;
  /** The TCP (and TLS) connection is established: a close from now on is the server's doing, not the network's. */
  private connected = false;

  constructor(
    readonly address: ServerAddress,
    private readonly settings: ConnectionSettings,
    private readonly listener: ConnectionListener,
  ) {
    this.backoff = new Backoff({ initialMs: settings.retryInitialMs, maxMs: settings.retryMaxMs });
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

  /** Up, and its socket buffer is below the high-water mark, and no isolated chunk waits here. */
  get isWritable(): boolean {
    return (
      this.state === 'up' &&
      this.socket !== undefined &&
      this.socket.writableLength < this.settings.writeHighWaterBytes &&
      this.isolatedInFlight === undefined
    );
  }

  /** Writable with nothing in flight: where an isolated chunk can go alone. */
  get isIdle(): boolean {
    return this.isWritable && this.inFlight.size === 0;
  }

  get inFlightCount(): number {
    return this.inFlight.size;
  }

  /**
   * Whether the server has shown it is up and speaks the protocol (it acknowledged a chunk, or
   * answered one with an error): a close after that, with chunks in flight, can be a refusal of
   * their data rather than an outage (poison-isolation.ts).
   */
  get provedAlive(): boolean {
    return this.counters.acked > 0 || this.errorAnswers > 0;
  }

  /** Whether a reconnect is waiting for its backoff. */
  get isWaitingToRetry(): boolean {
    return this.retryTimer !== undefined;
  }

  start(): void {
    if (this.state === 'closed' || this.state === 'connecting' || this.state === 'up') return;
    this.clearRetry();
    this.state = 'connecting';
    this.connected = false;
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
    socket.setTimeout(this.settings.connectTimeoutMs, () =>
      this.connected
        ? this.fail(socket, `handshake with ${this.label} not complete within ${this.settings.connectTimeoutMs} ms (no ${this.handshake ? 'PONG' : 'HELO'})`, 'refused')
        : this.fail(socket, `no connection within ${this.settings.connectTimeoutMs} ms`, 'unreachable'),
    );
    socket.once(tls ? 'secureConnect' : 'connect', () => {
      if (this.socket !== socket) return;
      this.connected = true;
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
      this.serverEnded(socket, error.code && !error.message.includes(error.code) ? `${error.code}: ${error.message}` : error.message),
    );
    socket.on('close', () => this.serverEnded(socket, 'connection closed by server'));
    socket.on('end', () => this.serverEnded(socket, 'connection closed by server'));
  }

  /**
   * The server (or the network) ended the connection: say what that means at this stage. During
   * TLS or the handshake it is a refusal, named as one ("handshake refused", with the reason a
   * PONG gave); once up, a close with chunks in flight may be the server refusing their data.
   */
  private serverEnded(socket: Socket, reason: string): void {
    if (this.socket !== socket) return;
    if (this.state === 'connecting') {
      if (this.handshake) return this.fail(socket, `handshake refused by ${this.label}: ${reason} before PONG`, 'refused');
      // with TLS, what fails before 'secureConnect' and is not the network is the TLS handshake
      if (this.settings.tls && !NETWORK_ERROR.test(reason)) return this.fail(socket, `TLS handshake with ${this.label} failed: ${reason}`, 'refused');
      return this.fail(socket, reason, 'unreachable');
    }
    this.fail(socket, reason, this.inFlight.size > 0 ? 'rejected' : 'closed');
  }

  /**
   * Whether chunks to this server carry identities. `auto`: until an ack shows the server is not
   * logkit; without acks nothing can show it, so none (the peer is unknown).
   */
  private carriesIdentities(): boolean {
    const mode = this.settings.identities;
    return mode === 'on' || (mode === 'auto' && this.settings.ack && this.restoresIdentities !== false);
  }

  /** Writes a chunk; it stays in flight until acknowledged (or, without acks, written). */
  send(chunk: Chunk): void {
    const socket = this.socket!;
    const frame = chunk.frameFor(this.carriesIdentities());
    this.counters.chunks++;
    this.counters.bytes += frame.length;
    this.inFlight.set(chunk.id, chunk);
    if (chunk.isolated) this.isolatedInFlight = chunk;
    if (this.settings.ack) {
      socket.write(frame);
    } else {
      socket.write(frame, (error) => {
        if (error || !this.settle(chunk.id)) return; // a failure requeued it
        this.counters.acked++;
        this.listener.onDelivered(this, chunk.id);
      });
    }
  }

  /** A chunk in flight here was acknowledged elsewhere (a late ack after a resend). */
  forget(chunkId: string): void {
    this.settle(chunkId);
  }

  /** Takes a chunk out of flight; false when it was not in flight here. */
  private settle(chunkId: string): boolean {
    if (this.isolatedInFlight?.id === chunkId) this.isolatedInFlight = undefined;
    return this.inFlight.delete(chunkId);
  }

  /** Gives up on the current connection (ack timeout, lost heartbeats) and reconnects later. */
  abandon(reason: string): void {
    if (this.socket) this.fail(this.socket, reason, 'abandoned');
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
          let reply: Buffer | undefined;
          try {
            reply = this.handshake.receive(frame);
          } catch (error) {
            this.fail(socket, `handshake refused by ${this.label}: ${(error as Error).message}`, 'refused');
            return;
          }
          if (reply) socket.write(reply);
          if (this.handshake.done) {
            this.handshake = undefined;
            this.becomeUp(socket);
          }
          continue;
        }
        if (kindAt(frame, 0) === 'array') {
          this.fail(socket, 'the server asks for a shared key (HELO); set --shared-key', 'refused');
          return;
        }
        const response = parseResponse(frame);
        if ('error' in response) {
          this.errorAnswers++;
          this.fail(socket, `the server rejected a chunk: ${response.error.slice(0, 200)}`, 'rejected');
          return;
        }
        // Chunk ids are base64 (ASCII): the echoed bytes compare as latin1 text.
        const id = response.ack.toString('latin1');
        this.restoresIdentities = response.identities;
        if (this.settle(id)) this.counters.acked++;
        this.lastAckAt = Date.now();
        // A healthy round trip: the next failure starts the backoff from the beginning.
        this.recovered();
        this.listener.onDelivered(this, id);
      }
    } catch (error) {
      this.fail(socket, (error as Error).message, this.state === 'connecting' ? 'refused' : 'rejected');
    }
  }

  private recovered(): void {
    this.backoff.reset();
    if (this.reportedDown) {
      log.info(`${this.label} is up again`);
      this.reportedDown = false;
    }
  }

  private fail(socket: Socket, reason: string, kind: FailureKind): void {
    if (this.socket !== socket) return;
    this.socket = undefined;
    socket.destroy();
    this.handshake = undefined;
    this.isolatedInFlight = undefined;
    const wasUp = this.state === 'up';
    if (this.state === 'closed') return;
    this.state = 'down';
    this.counters.failures++;
    this.lastError = reason;
    this.lastFailure = kind;
    const chunks = [...this.inFlight.values()];
    this.inFlight.clear();
    // A healthy server refusing data is not overloaded: reconnect at once (poison-isolation.ts
    // needs a few such rounds), without growing the backoff.
    const wait = kind === 'rejected' && this.provedAlive ? this.settings.retryInitialMs : this.backoff.next();
    if (!this.reportedDown) {
      const lost = chunks.length > 0 ? `; ${chunks.length} unacknowledged chunks will be resent` : '';
      log.warn(`${this.label} ${wasUp ? 'down' : 'unavailable'}: ${reason}${lost}; retrying (backoff up to ${formatDuration(this.settings.retryMaxMs)})`);
      this.reportedDown = true;
    }
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (!this.suspended) this.start();
    }, wait);
    this.listener.onDown(this, chunks, reason, kind);
  }

  private clearRetry(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }
}

