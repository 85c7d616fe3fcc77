import type { LogEvent } from '../event/event.js';
import { WeightedRoundRobin } from './balancer.js';
import { buildChunk, type Chunk } from './chunk.js';
import { ChunkBatcher, type SealedBatch } from './chunk-batcher.js';
import { ChunkLedger, type ChunkStore } from './chunk-ledger.js';
import { Heartbeat, type HeartbeatType } from './heartbeat.js';
import type { RawEntryScanner } from './raw-entry-scanner.js';
import type { ServerAddress } from './server-address.js';
import { ServerConnection, type ConnectionListener, type ConnectionSettings } from './server-connection.js';
import type { ForwardStats } from './stats.js';
import { Signal } from '../stream/signal.js';

export interface ForwarderOptions {
  servers: readonly ServerAddress[];
  connection: ConnectionSettings;
  compress: 'gzip' | 'none';
  chunkBytes: number;
  flushIntervalMs: number;
  /** immediate: also send a partly filled chunk as soon as the input pauses with no chunk in flight. */
  flushMode: 'immediate' | 'interval';
  ackTimeoutMs: number;
  maxPendingBytes: number;
  heartbeat: HeartbeatType;
  heartbeatIntervalMs: number;
  store?: ChunkStore;
}

/**
 * The sending side of `logkit forward`: events in (write), chunks out to the servers, acks back.
 * It owns the chunk lifecycle (ChunkLedger), the choice of server per chunk (weighted
 * round-robin over the primaries that are up, the standbys only while no primary is), resends
 * after a failure or an ack timeout, and the bound on memory (write() waits while
 * --max-pending-bytes are held, which stops the reading of stdin: back pressure).
 */
export class Forwarder implements ConnectionListener {
  readonly ledger: ChunkLedger;
  private readonly batcher: ChunkBatcher;
  private readonly connections: ServerConnection[];
  private readonly primaries: ServerConnection[];
  private readonly standbys: ServerConnection[];
  private readonly balancer = new WeightedRoundRobin<ServerConnection>();
  private readonly heartbeat: Heartbeat;
  private flushTimer: NodeJS.Timeout | undefined;
  private sweepTimer: NodeJS.Timeout | undefined;
  /** Bytes being compressed or persisted: sealed, not yet in the ledger's queue. */
  private sealing = 0;
  private idleSealScheduled = false;
  private sealingChain: Promise<void> = Promise.resolve();
  private readonly signal = new Signal();
  private events = 0;
  /**
   * Until every server's first connection attempt has succeeded or failed (bounded by the connect
   * timeout), chunks wait: otherwise the first server to answer takes the whole backlog and the
   * weights are off from the start.
   */
  private starting = true;
  private startTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: ForwarderOptions) {
    this.ledger = new ChunkLedger(options.store);
    this.batcher = new ChunkBatcher(options.chunkBytes);
    this.connections = options.servers.map((address) => new ServerConnection(address, options.connection, this));
    this.primaries = this.connections.filter((c) => !c.address.standby);
    this.standbys = this.connections.filter((c) => c.address.standby);
    this.heartbeat = new Heartbeat(options.heartbeat, options.heartbeatIntervalMs, this.connections);
  }

  start(): void {
    for (const connection of this.connections) connection.start();
    this.startTimer = setTimeout(() => this.endStartup(), this.options.connection.connectTimeoutMs);
    this.heartbeat.start();
    const sweepEvery = Math.max(10, Math.min(1000, this.options.ackTimeoutMs / 4));
    this.sweepTimer = setInterval(() => this.sweepTimeouts(), sweepEvery);
    this.sweepTimer.unref();
  }

  /** Bytes held in memory: packed, sealing, or chunks not yet acknowledged. */
  get heldBytes(): number {
    return this.batcher.bufferedBytes + this.sealing + this.ledger.heldBytes;
  }

  /** Takes a batch of events; resolves when there is room for more (back pressure). */
  async write(events: readonly LogEvent[]): Promise<void> {
    this.events += events.length;
    this.afterAdd(this.batcher.add(events));
    while (this.heldBytes >= this.options.maxPendingBytes) await this.signal.wait();
  }

  /**
   * Takes raw MessagePack input (the fast path): entries are scanned and copied into chunks
   * without decoding records. Throws DecodeError at a bad entry, after taking those before it.
   */
  async writeRaw(data: Buffer, scanner: RawEntryScanner): Promise<void> {
    const before = scanner.entries;
    try {
      scanner.push(data, this.batcher);
    } finally {
      this.events += scanner.entries - before;
      this.afterAdd(this.batcher.takeSealed());
    }
    while (this.heldBytes >= this.options.maxPendingBytes) await this.signal.wait();
  }

  /**
   * Takes batches that are chunks already (from a durable source: see durable-input.ts), each
   * with its id, in order; resolves when there is room for more (back pressure).
   */
  async enqueue(batches: readonly SealedBatch[], ids: readonly string[]): Promise<void> {
    for (const batch of batches) this.events += batch.events;
    this.seal(batches, ids);
    while (this.heldBytes >= this.options.maxPendingBytes) await this.signal.wait();
  }

  /** Seals every partly filled chunk now (flush interval, end of input, SIGTERM). */
  flush(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    this.seal(this.batcher.flush());
  }

  /**
   * Flushes, then waits until every chunk is acknowledged or `timeoutMs` passes. Returns the
   * chunks still unacknowledged (an empty list means everything was delivered).
   */
  async drain(timeoutMs: number): Promise<Chunk[]> {
    this.flush();
    const deadline = Date.now() + timeoutMs;
    await this.sealingChain;
    while (this.ledger.heldChunks > 0 && Date.now() < deadline) {
      await Promise.race([this.signal.wait(), sleep(Math.min(100, Math.max(1, deadline - Date.now())))]);
    }
    return [...this.ledger.unackedChunks()];
  }

  async close(timeoutMs = 2000): Promise<void> {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    if (this.startTimer) clearTimeout(this.startTimer);
    this.heartbeat.stop();
    await Promise.all(this.connections.map((c) => c.close(timeoutMs)));
  }

  /** Each server's state and last error, for the final message. */
  servers(): Array<{ label: string; state: string; lastError: string | undefined }> {
    return this.connections.map((c) => ({ label: c.label, state: c.state, lastError: c.lastError }));
  }

  stats(): ForwardStats {
    const t = this.ledger.totals;
    return {
      events: this.events,
      chunks: t.created,
      ackedChunks: t.acked,
      ackedEvents: t.ackedEvents,
      bytes: this.connections.reduce((sum, c) => sum + c.counters.bytes, 0),
      retries: t.resent,
      pendingChunks: this.ledger.heldChunks,
      pendingEvents: this.ledger.pendingEvents + this.batchedEvents(),
      pendingBytes: this.heldBytes,
      servers: this.connections.map((c) => ({
        label: c.label,
        state: c.state,
        standby: c.address.standby,
        ...c.counters,
      })),
    };
  }

  // ------------------------------------------------------------------ ConnectionListener

  onUp(): void {
    this.checkStartup();
    this.pump();
  }

  onDown(connection: ServerConnection, chunks: Chunk[]): void {
    this.checkStartup();
    this.balancer.reset(connection);
    // Oldest first at the front of the queue: requeue in reverse so the order holds.
    for (let i = chunks.length - 1; i >= 0; i--) this.ledger.requeue(chunks[i]!);
    this.pump();
  }

  onDelivered(connection: ServerConnection, chunkId: string): void {
    const chunk = this.ledger.get(chunkId);
    if (!chunk) return;
    // A late ack from a server we had given up on: the resend may be in flight elsewhere.
    if (chunk.carrier && chunk.carrier !== connection) (chunk.carrier as ServerConnection).forget(chunkId);
    this.ledger.ack(chunkId);
    this.signal.notify();
    this.sealIfIdle();
  }

  onWritable(): void {
    this.pump();
  }

  // ------------------------------------------------------------------ internals

  private afterAdd(sealed: SealedBatch[]): void {
    this.seal(sealed);
    if (!this.batcher.isEmpty) {
      if (!this.flushTimer) this.flushTimer = setTimeout(() => this.flush(), this.options.flushIntervalMs);
      this.scheduleIdleSeal();
    }
  }

  /**
   * Group commit: with no chunk in flight, a partly filled chunk is sealed and sent as soon as
   * the input pauses (setImmediate runs after the input already queued has been read), not
   * --flush-interval later: a quiet stream's events leave at once. With chunks in flight the
   * events arriving meanwhile wait for the acknowledgement (onDelivered) or the interval, so
   * chunks still grow with the rate.
   */
  private scheduleIdleSeal(): void {
    if (this.options.flushMode !== 'immediate' || this.idleSealScheduled) return;
    this.idleSealScheduled = true;
    setImmediate(() => {
      this.idleSealScheduled = false;
      this.sealIfIdle();
    });
  }

  private sealIfIdle(): void {
    if (this.options.flushMode === 'immediate' && !this.batcher.isEmpty && this.sealing === 0 && this.ledger.heldChunks === 0) this.flush();
  }

  private batchedEvents(): number {
    return Math.max(0, this.events - this.ledger.totals.ackedEvents - this.ledger.pendingEvents);
  }

  private seal(batches: readonly SealedBatch[], ids?: readonly string[]): void {
    if (batches.length === 0) return;
    const frame = { ack: this.options.connection.ack, compress: this.options.compress };
    for (let i = 0; i < batches.length; i++) {
      const batch = batches[i]!;
      this.sealing += batch.entries.length;
      // Chained so that chunks enter the queue in the order they were sealed.
      const identities = this.options.connection.identities === 'off' ? undefined : batch.identities;
      const built = buildChunk(batch.tag, batch.entries, batch.events, frame, ids?.[i], identities);
      this.sealingChain = this.sealingChain.then(async () => {
        const chunk = await built;
        this.sealing -= batch.entries.length;
        await this.ledger.add(chunk);
        this.pump();
        this.signal.notify();
      });
    }
  }

  private checkStartup(): void {
    if (this.starting && this.connections.every((c) => c.isUp || c.counters.failures > 0)) this.endStartup();
  }

  private endStartup(): void {
    if (!this.starting) return;
    this.starting = false;
    if (this.startTimer) clearTimeout(this.startTimer);
    this.pump();
  }

  /** Hands queued chunks to servers while some server can take them. */
  private pump(): void {
    if (this.starting) return;
    const now = Date.now();
    for (;;) {
      const candidates = this.candidates();
      if (candidates.length === 0) return;
      const chunk = this.ledger.next();
      if (!chunk) return;
      const server = this.balancer.pick(candidates, chunk.lastFailedOn as ServerConnection | undefined)!;
      this.ledger.markSent(chunk, server, now);
      server.send(chunk);
    }
  }

  /** The primaries that are up; the standbys only when no primary is up. Busy ones excluded. */
  private candidates(): ServerConnection[] {
    const pool = this.primaries.some((c) => c.isUp) ? this.primaries : this.standbys;
    return pool.filter((c) => c.isWritable);
  }

  private sweepTimeouts(): void {
    if (!this.options.connection.ack) return;
    const late = this.ledger.expired(Date.now(), this.options.ackTimeoutMs);
    const servers = new Set<ServerConnection>();
    for (const chunk of late) if (chunk.carrier) servers.add(chunk.carrier as ServerConnection);
    // As Fluentd does: a server that does not answer in time is treated as failed; its
    // unacknowledged chunks go to another server, and it is reconnected after a backoff.
    for (const server of servers) server.abandon(`no acknowledgement within ${this.options.ackTimeoutMs / 1000} s`);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
