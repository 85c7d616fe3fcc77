import type { LogEvent } from '../event/event.js';
import { RendezvousRouter, WeightedRoundRobin } from './balancer.js';
import { buildChunk, type Chunk } from './chunk.js';
import { ChunkBatcher, type SealedBatch } from './chunk-batcher.js';
import { ChunkLedger, type ChunkStore } from './chunk-ledger.js';
import { Heartbeat, type HeartbeatType } from './heartbeat.js';
import type { RawEntryScanner } from './raw-entry-scanner.js';
import type { ServerAddress } from './server-address.js';
import { ServerConnection, type ConnectionListener, type ConnectionSettings, type FailureKind } from './server-connection.js';
import type { ForwardStats } from './stats.js';
import { Signal } from '../stream/signal.js';
import { log } from '../log/logger.js';
import { bisectChunk } from './chunk-split.js';
import type { DeadLetterFile } from './dead-letter.js';
import { triageRejected, type Triage } from './poison-isolation.js';

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
  /** How long a source's chunks wait for its server after it went down before they move to the next one (--failover-delay). */
  failoverDelayMs: number;
  store?: ChunkStore;
  /** Where events a server refuses as bad data go (poison-isolation.ts); without it they are held and reported. */
  deadLetter?: DeadLetterFile;
}

/**
 * The sending side of `logkit forward`: events in (write), chunks out to the servers, acks back.
 * It owns the chunk lifecycle (ChunkLedger), the choice of server per chunk (the primaries that
 * are up, the standbys only while no primary is; a chunk of one source goes to that source's
 * server, see RendezvousRouter, a chunk of events without identity by weighted round-robin), resends
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
  private readonly primaryRoutes: RendezvousRouter<ServerConnection>;
  private readonly standbyRoutes: RendezvousRouter<ServerConnection>;
  /** Over primaries and standbys: sources with the same order here go to the same server in every case. */
  private readonly allRoutes: RendezvousRouter<ServerConnection>;
  /** When each server that is down went down (Date.now()): within --failover-delay it still holds its sources. */
  private readonly downSince = new Map<ServerConnection, number>();
  private readonly failoverTimers = new Set<NodeJS.Timeout>();
  /**
   * At the end without a durable buffer: a source whose server is down moves at once, since what is
   * left when forward exits is lost. With --buffer it keeps its server for --failover-delay even
   * then: what is left stays on disk for the next start, and moving it would store on a second
   * aggregator what the first may already hold (a duplicate no store can drop).
   */
  private movingAtOnce = false;
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
    this.connections = options.servers.map((address) => new ServerConnection(address, options.connection, this));
    this.allRoutes = new RendezvousRouter(this.connections);
    this.batcher = new ChunkBatcher(options.chunkBytes, this.routeOf);
    this.primaries = this.connections.filter((c) => !c.address.standby);
    this.standbys = this.connections.filter((c) => c.address.standby);
    this.primaryRoutes = new RendezvousRouter(this.primaries);
    this.standbyRoutes = new RendezvousRouter(this.standbys);
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

  /** What a batcher groups sources by: sources with the same route may share a chunk (see ChunkBatcher). */
  readonly routeOf = (source: string): string => this.allRoutes.routeKey(source);

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
    this.movingAtOnce = this.options.store === undefined;
    this.flush();
    this.pump();
    const deadline = Date.now() + timeoutMs;
    await this.sealingChain;
    // chunks refused for good (no dead-letter file) are not waited for: nothing will change them
    while (this.ledger.heldChunks - this.ledger.refusedChunks > 0 && Date.now() < deadline) {
      await Promise.race([this.signal.wait(), sleep(Math.min(100, Math.max(1, deadline - Date.now())))]);
    }
    return [...this.ledger.unackedChunks()];
  }

  async close(timeoutMs = 2000): Promise<void> {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    if (this.startTimer) clearTimeout(this.startTimer);
    for (const timer of this.failoverTimers) clearTimeout(timer);
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
      ack: this.options.connection.ack,
      events: this.events,
      rejectedEvents: t.deadLetteredEvents + this.ledger.refusedEvents,
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

  onUp(connection: ServerConnection): void {
    this.downSince.delete(connection);
    this.checkStartup();
    this.pump();
  }

  onDown(connection: ServerConnection, chunks: Chunk[], reason: string, kind: FailureKind): void {
    this.checkStartup();
    this.balancer.reset(connection);
    if (!this.downSince.has(connection)) {
      this.downSince.set(connection, Date.now());
      // its sources' chunks wait for it until then: then they must move even if nothing else happens
      const timer = setTimeout(() => {
        this.failoverTimers.delete(timer);
        this.pump();
      }, this.options.failoverDelayMs + 1);
      this.failoverTimers.add(timer);
    }
    // Without acks nothing is resent, so there is nothing to isolate.
    const triage = kind === 'rejected' && this.options.connection.ack ? triageRejected(chunks, connection.provedAlive) : undefined;
    // Oldest first at the front of the queue: requeue in reverse so the order holds.
    for (let i = chunks.length - 1; i >= 0; i--) {
      const verdict = triage?.[i] ?? 'retry';
      if (verdict === 'retry') this.ledger.requeue(chunks[i]!);
      else this.isolate(chunks[i]!, verdict, connection, reason);
    }
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
    // an isolated chunk may be waiting for a connection with nothing in flight
    if (this.ledger.queued > 0) this.pump();
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
    const { ackedEvents, deadLetteredEvents } = this.ledger.totals;
    return Math.max(0, this.events - ackedEvents - deadLetteredEvents - this.ledger.pendingEvents);
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
        chunk.source = batch.source;
        this.sealing -= batch.entries.length;
        await this.ledger.add(chunk);
        this.pump();
        this.signal.notify();
      });
    }
  }

  /**
   * A chunk a healthy server refused (poison-isolation.ts): cut in two, or — one event — kept in
   * the dead-letter file (or, without one, held and reported), so that what follows it moves on.
   */
  private isolate(chunk: Chunk, verdict: Exclude<Triage, 'retry'>, server: ServerConnection, reason: string): void {
    if (chunk.state !== 'sent') return; // acknowledged elsewhere meanwhile
    chunk.state = 'created'; // out of flight, and out of the queue until the work below is done
    chunk.carrier = undefined;
    const work =
      verdict === 'split'
        ? bisectChunk(chunk, { ack: this.options.connection.ack, compress: this.options.compress }).then((parts) => {
            this.ledger.replace(chunk, parts);
            log.warn(
              `${server.label} refused a chunk of ${chunk.events} events ${chunk.rejectionsAlone} times (${reason}); ` +
                `sending it in halves of ${parts[0].events} and ${parts[1].events} to isolate the events it refuses`,
            );
          })
        : this.refuse(chunk, server, reason);
    void work
      .catch((error: Error) => {
        log.error(`cannot isolate a refused chunk: ${error.message}; it is held and reported at the end`);
        this.ledger.holdRefused(chunk);
      })
      .finally(() => {
        this.signal.notify();
        this.pump();
      });
  }

  private async refuse(chunk: Chunk, server: ServerConnection, reason: string): Promise<void> {
    const deadLetter = this.options.deadLetter;
    const what = `${server.label} refused ${chunk.events === 1 ? 'an event' : `${chunk.events} events`} (tag ${chunk.tag}) ${chunk.rejectionsAlone} times as bad data (${reason})`;
    if (deadLetter) {
      await deadLetter.keep(chunk);
      this.ledger.deadLetter(chunk);
      log.warn(`${what}; kept in ${deadLetter.path} (${this.ledger.totals.deadLetteredEvents} events there from this run), moving on`);
    } else {
      this.ledger.holdRefused(chunk);
      log.error(`${what}; not sent again and not delivered (${this.ledger.refusedEvents} events so far): give --dead-letter FILE to keep such events`);
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

  /**
   * Hands queued chunks to servers while some server can take them. A chunk whose source's server
   * is up but busy waits for it, in its place, while the chunks behind it go on to other servers.
   */
  private pump(): void {
    if (this.starting) return;
    const now = Date.now();
    const waiting: Chunk[] = [];
    for (;;) {
      const candidates = this.candidates();
      if (candidates.length === 0) break;
      const chunk = this.ledger.next();
      if (!chunk) break;
      const server = this.serverFor(chunk, candidates, now);
      if (server === 'later') {
        waiting.push(chunk);
        continue;
      }
      if (server === 'stop') {
        // An isolated chunk goes alone: to a connection with nothing in flight, or it waits (at the front).
        waiting.push(chunk);
        break;
      }
      this.ledger.markSent(chunk, server, now);
      server.send(chunk);
    }
    if (waiting.length > 0) this.ledger.putBack(waiting);
  }

  /**
   * Where `chunk` goes now: a chunk of one source to its server, the others by weighted
   * round-robin over `candidates`; 'later' when its server is busy or within --failover-delay
   * of going down, 'stop' when it is isolated and no server it may go to is idle.
   */
  private serverFor(chunk: Chunk, candidates: ServerConnection[], now: number): ServerConnection | 'later' | 'stop' {
    if (chunk.source === undefined) {
      const pool = chunk.isolated ? candidates.filter((c) => c.isIdle) : candidates;
      if (pool.length === 0) return 'stop';
      return this.balancer.pick(pool, chunk.lastFailedOn as ServerConnection | undefined)!;
    }
    const home = this.homeOf(chunk.source, now);
    if (home !== undefined && (chunk.isolated ? home.isIdle : home.isWritable)) return home;
    return chunk.isolated ? 'stop' : 'later';
  }

  /**
   * The server of a source: the first of its rendezvous order that holds (is up, or went down
   * less than --failover-delay ago, before the drain: a restarting aggregator keeps its sources,
   * so that resends and the lines tail reads again reach the store that may have them), among the
   * primaries while one holds, else among the standbys.
   */
  private homeOf(source: string, now: number): ServerConnection | undefined {
    const holds = (c: ServerConnection): boolean =>
      c.isUp || (!this.movingAtOnce && now - (this.downSince.get(c) ?? -Infinity) <= this.options.failoverDelayMs);
    const routes = this.primaries.some(holds) ? this.primaryRoutes : this.standbyRoutes;
    return routes.pick(source, holds);
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
