import type { Socket } from 'node:net';
import { reverse } from 'node:dns/promises';
import type { Unpackr } from 'msgpackr/unpack';
import type { LogEvent } from '../event/event.js';
import { FrameScanner, OversizeError, ProtocolError, valueBoundaries } from '../protocol/frame.js';
import { encodeHelo, encodePong, newHeloState, parsePing, verifyPing, type HeloState, type PingVerdict, type ServerAuthConfig } from '../protocol/handshake.js';
import { createInnerUnpackr, decompressPayload, packedEvents, parseRequest, requestEvents, type ParsedRequest, type RequestLimits } from '../protocol/request.js';
import { encodeAck, encodeRejection } from '../protocol/response.js';
import { MsgpackWriter } from '../codec/msgpack-writer.js';
import { transcodeEntries } from '../protocol/raw-entries.js';
import { ByteQueue } from './byte-queue.js';
import type { AuthBackoff } from './auth-backoff.js';
import { RequestIdentities } from './request-identities.js';
import type { EventSink } from './event-sink.js';
import type { RateLimitedLog } from './rate-limited-log.js';
import type { ReceiveStats } from './receive-stats.js';
import { sanitizeTag } from '../event/tag.js';

export interface ConnectionConfig {
  limits: RequestLimits;
  /** Shared-key authentication (HELO/PING/PONG) when set. */
  auth?: ServerAuthConfig;
  sourceAddressKey?: string;
  sourceHostnameKey?: string;
  /** Prepended to every tag as `PREFIX.tag` (already validated as a clean tag). */
  tagPrefix?: string;
  idleTimeoutMs: number;
  /** From accept to the end of the TLS and shared-key handshakes, in total. */
  handshakeTimeoutMs: number;
  /** From a request's first byte to its last, in total (time waiting for our own stdout not counted). */
  requestTimeoutMs: number;
  /** Events decoded from one read are handed on in batches of at most this many. */
  maxBatchEvents: number;
}

/** The memory all connections may hold in receive buffers together (requests still arriving). */
export class BufferBudget {
  used = 0;
  constructor(readonly limit: number) {}
}

export interface ConnectionContext {
  budget: BufferBudget;
  config: ConnectionConfig;
  sink: EventSink;
  log: RateLimitedLog;
  stats: ReceiveStats;
  backoff: AuthBackoff;
}

/** PackedForward payloads beyond this are decoded a slice at a time (deliverLarge). */
const LARGE_PAYLOAD_BYTES = 1024 * 1024;
/**
 * The same when records stay bytes (the raw path): no objects are made, so a whole forward
 * chunk (1 MiB and one event, by default) is transcoded in one go rather than validated in a
 * pass of its own and cut into slices.
 */
const LARGE_RAW_PAYLOAD_BYTES = 8 * 1024 * 1024;
/** A connection holding less than this is never refused for the shared budget. */
const BUDGET_EXEMPT_BYTES = 1024 * 1024;
const SLICE_EVENTS = 10_000;

/** A tiny counting semaphore: how many connections may hold a decompressed payload at once. */
class Slots {
  private waiting: Array<() => void> = [];
  constructor(private free: number) {}
  async acquire(): Promise<() => void> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next();
      else this.free++;
    };
  }
}
const largeSlots = new Slots(2);

/** After a rejection or bad data the socket is drained this long so the client can read the acks and the reason, then destroyed. */
const REJECT_GRACE_MS = 2000;

/**
 * One forward-protocol connection: optional handshake, then requests in any event mode, each
 * decoded, handed to the sink in batches, and acknowledged once the sink has taken it.
 *
 * Reading is sequential per connection (requests are handled in order, acks go out in order) and
 * the socket is paused whenever the connection waits (decompression, a congested sink), which is
 * what turns a slow stdout into TCP back pressure on the senders.
 */
export class ForwardConnection {
  private readonly queue = new ByteQueue();
  private readonly scanner: FrameScanner;
  private readonly unpackr: Unpackr = createInnerUnpackr();
  private phase: 'handshake' | 'transport' | 'closing' = 'transport';
  private helo: HeloState | undefined;
  private busy = false;
  private peerEnded = false;
  /** PackedForward entries are copied, not decoded, when nothing needs the decoded records. */
  private readonly raw: boolean;
  private rawWriter: MsgpackWriter | undefined; // made at the first PackedForward request
  private hostname: string | undefined;
  private hostnameLookup: Promise<string> | undefined;
  /** The last delivery this connection started: shutdown waits for it (and its acks). */
  private lastDelivery: Promise<void> = Promise.resolve();
  /** This connection's share of ctx.budget.used. */
  private accounted = 0;
  /** Runs while part of a request has arrived and the rest has not (--request-timeout). */
  private requestTimer: NodeJS.Timeout | undefined;
  /** When the request now arriving began (its first byte, or the end of the one before it). */
  private requestSince = 0;
  /** Frames completed, and that count when the request deadline last looked (so the clock is read per read, not per frame). */
  private frames = 0;
  private framesWatched = 0;
  readonly peer: string;

  /**
   * `addressKey`: the peer's address as per-address limits count it (auth backoff);
   * `established`: called once the shared-key handshake (if any) is done, ending the handshake deadline.
   */
  constructor(
    readonly socket: Socket,
    private readonly ctx: ConnectionContext,
    private readonly addressKey: string | undefined = undefined,
    private readonly established: () => void = () => {},
  ) {
    const { config } = ctx;
    this.scanner = new FrameScanner(config.limits);
    this.raw = ctx.sink.acceptsEncoded && !config.sourceAddressKey && !config.sourceHostnameKey;
    this.peer = socket.remoteAddress ? `${socket.remoteAddress}:${socket.remotePort}` : 'unix socket';
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => socket.destroy()); // resets from peers are routine; the close says it
    socket.on('close', () => {
      clearTimeout(this.requestTimer);
      this.queue.clear();
      this.account();
    });
    // A client may half-close after its last request and wait for the acks (the server is
    // created with allowHalfOpen): finish, ack, then close our side.
    socket.on('end', () => {
      this.peerEnded = true;
      if (!this.busy) this.closeWhenSettled();
    });
    // the handshake has its own total deadline (ReceiveServer); this one is for silence
    socket.setTimeout(config.idleTimeoutMs);
    socket.on('timeout', () => socket.destroy());
    if (config.sourceHostnameKey && socket.remoteAddress) {
      const address = socket.remoteAddress;
      this.hostnameLookup = reverse(address).then(
        (names) => names[0] ?? address,
        () => address,
      );
    }
    if (config.auth) {
      this.phase = 'handshake';
      this.helo = newHeloState(config.auth.users.size > 0);
      socket.write(encodeHelo(this.helo));
    } else {
      established();
    }
  }

  /** Resolves when everything this connection handed on has been acknowledged (or failed). */
  settled(): Promise<void> {
    return this.lastDelivery;
  }

  private onData(chunk: Buffer): void {
    if (this.phase === 'closing') return; // draining after a rejection
    this.ctx.stats.bytes += chunk.length;
    if (this.queue.length === 0) this.requestSince = Date.now();
    this.queue.append(chunk);
    this.account();
    const { budget } = this.ctx;
    if (budget.used > budget.limit && this.queue.length > BUDGET_EXEMPT_BYTES) {
      // all connections together hold too much of requests still arriving: refuse this one
      // explicitly (the client retries later) rather than let memory grow
      this.fail(new OversizeError(this.queue.length, 0, `server busy: requests in progress hold more than ${budget.limit} bytes (--max-buffered-bytes); retry later`));
      return;
    }
    if (!this.busy) void this.process();
  }

  /** Keeps the shared budget in step with this connection's receive buffer. */
  private account(): void {
    const held = this.queue.capacity;
    this.ctx.budget.used += held - this.accounted;
    this.accounted = held;
  }

  private async process(): Promise<void> {
    this.busy = true;
    let batch: LogEvent[] = [];
    let acks: Buffer[] = [];
    /** Chunk ids of the batch's requests, when the sink remembers them (receive --buffer drops resends). */
    let ids: string[] = [];
    /** Where the request being decoded began in the batch: its events are not handed on if it proves bad. */
    let requestFrom: number | undefined;
    const dedup = this.ctx.sink.duplicateOf !== undefined;
    try {
      if (this.hostnameLookup && this.hostname === undefined) {
        this.socket.pause();
        this.hostname = await this.hostnameLookup;
      }
      for (;;) {
        batch = [];
        acks = [];
        ids = [];
        for (;;) {
          const frameLength = this.scanner.scan(this.queue.view());
          if (frameLength < 0) break;
          const frame = this.queue.view().subarray(0, frameLength);
          this.frames++;
          if (this.phase === 'handshake') {
            this.queue.consume(frameLength);
            if (!this.handshake(frame)) return;
            continue;
          }
          const request = parseRequest(frame, this.unpackr);
          this.queue.consume(frameLength);
          this.account();
          if (!request) continue; // nil heartbeat, or any non-array value: ignored per the spec
          this.ctx.stats.requests++;
          const tag = this.finalTag(request.tag);
          const first = batch.length;
          const id = dedup && request.chunk ? request.chunk.toString('base64') : undefined;
          const earlier = id === undefined ? undefined : this.ctx.sink.duplicateOf!(id);
          if (earlier) {
            // a resend of a chunk already received (its ack was lost): drop it, ack it once the first copy is durable
            if (batch.length > 0 || acks.length > 0) this.deliver(batch.splice(0), acks.splice(0), 0, ids.splice(0));
            this.ackDuplicate(earlier, encodeAck(request.chunk!));
            continue;
          }
          if (request.mode === 'CompressedPackedForward' || (request.payload && request.payload.length > (this.raw ? LARGE_RAW_PAYLOAD_BYTES : LARGE_PAYLOAD_BYTES))) {
            // hand on what came before (order), then the large request a slice at a time
            if (batch.length > 0 || acks.length > 0) this.deliver(batch.splice(0), acks.splice(0), 0, ids.splice(0));
            if (!(await this.deliverLarge(tag, request))) return;
            continue;
          }
          if (this.raw && request.mode === 'PackedForward') {
            if (batch.length > 0 || acks.length > 0) this.deliver(batch.splice(0), acks.splice(0), 0, ids.splice(0));
            // the entries are counted by transcoding them (a second pass only to count them cost
            // as much): the carried identities are checked against that count afterwards
            const identities = this.identities(request, undefined);
            let { bytes, count } = this.transcode(tag, request.payload!, identities);
            const carried = identities?.carriedCount;
            if (carried !== undefined && carried !== count) ({ bytes, count } = this.transcode(tag, request.payload!, this.identities(request, count)));
            this.deliver(bytes, request.chunk ? [encodeAck(request.chunk)] : [], count, id === undefined ? [] : [id]);
            continue;
          }
          request.tag = tag;
          requestFrom = first;
          requestEvents(request, this.unpackr, this.ctx.config.limits, batch);
          this.decorate(batch, first);
          this.identities(request, batch.length - first)?.assign(batch, first, 0);
          requestFrom = undefined;
          if (request.chunk) acks.push(encodeAck(request.chunk));
          if (id !== undefined) ids.push(id);
          if (batch.length >= this.ctx.config.maxBatchEvents) {
            this.deliver(batch.splice(0), acks.splice(0), 0, ids.splice(0));
          }
        }
        if (batch.length > 0 || acks.length > 0) this.deliver(batch, acks, 0, ids);
        batch = [];
        acks = [];
        if (!this.ctx.sink.congested) break;
        // stdout is behind: stop reading this socket (TCP back pressure) until it catches up
        this.socket.pause();
        await this.ctx.sink.ready();
        if (this.socket.destroyed) return;
      }
    } catch (error) {
      // the valid requests before the bad one are handed on and acknowledged before the close
      // (a client would resend them otherwise); what the bad one had decoded is not handed on
      if (requestFrom !== undefined) batch.length = requestFrom;
      if (batch.length > 0 || acks.length > 0) this.deliver(batch, acks, 0, ids);
      this.fail(error);
      return;
    } finally {
      this.busy = false;
    }
    if (this.socket.destroyed || this.phase === 'closing') return;
    this.watchRequestDeadline();
    if (this.peerEnded) this.closeWhenSettled();
    else this.socket.resume();
  }

  /**
   * A request must arrive whole within --request-timeout of its first byte: the idle timeout alone
   * is reset by every byte, so a client trickling one byte now and then would hold its connection
   * (and its share of the server) forever. Armed when a pass leaves part of a request waiting,
   * stopped when none is; time spent waiting for our own stdout is not the client's and restarts it.
   */
  private watchRequestDeadline(): void {
    if (this.phase !== 'transport' || this.queue.length === 0) {
      clearTimeout(this.requestTimer);
      this.requestTimer = undefined;
      this.framesWatched = this.frames;
      return;
    }
    if (this.frames !== this.framesWatched) {
      // a request was completed since: the one arriving now began in this read
      this.requestSince = Date.now();
      this.framesWatched = this.frames;
    }
    if (this.requestTimer) return;
    const ms = this.ctx.config.requestTimeoutMs;
    const expire = () => {
      this.requestTimer = undefined;
      if (this.socket.destroyed || this.phase !== 'transport' || this.queue.length === 0) return;
      if (this.busy) this.requestSince = Date.now();
      const left = this.requestSince + ms - Date.now();
      if (left > 0) {
        this.requestTimer = setTimeout(expire, left).unref();
        return;
      }
      this.ctx.stats.requestTimeouts++;
      this.ctx.log.line(`${this.peer}: request not complete within ${ms / 1000} s (${this.queue.length} bytes so far, --request-timeout); closing`);
      this.phase = 'closing';
      this.queue.clear();
      this.account();
      this.socket.destroy();
    };
    this.requestTimer = setTimeout(expire, Math.max(0, this.requestSince + ms - Date.now())).unref();
  }

  private closeWhenSettled(): void {
    if (this.phase === 'closing') return;
    this.phase = 'closing';
    if (this.queue.length > 0) this.ctx.log.line(`${this.peer}: connection ended inside a request (${this.queue.length} bytes); closing`);
    void this.lastDelivery.then(() => this.socket.end());
  }

  /**
   * A large or compressed PackedForward request: decompressed (at most two at a time in the
   * process, `largeSlots`, so concurrent gzip bombs cannot add up), validated whole, then decoded and handed
   * on SLICE_EVENTS at a time, waiting whenever the sink is congested, so the decoded objects in
   * memory stay bounded whatever the request's size. The ack goes with the last slice.
   * A sink that keeps requests whole (receive --buffer) gets every slice, even when the client
   * went away meanwhile (the request is in memory already): a request cut in the buffer would
   * be half durable, and its resend stored twice. Between slices it is waited for `appended()`.
   * Returns false when the connection went away meanwhile.
   */
  private async deliverLarge(tag: string, request: ParsedRequest): Promise<boolean> {
    const limits = this.ctx.config.limits;
    const sink = this.ctx.sink;
    const chunk = request.chunk;
    this.socket.pause();
    const release = await largeSlots.acquire();
    try {
      const entries = request.mode === 'CompressedPackedForward' ? await decompressPayload(request.payload!, limits) : request.payload!;
      if (this.socket.destroyed) return false;
      const { count, cuts } = valueBoundaries(entries, limits, SLICE_EVENTS);
      const identities = this.identities(request, count);
      const whole = sink.startRequest !== undefined && cuts.length > 1;
      if (whole) sink.startRequest!();
      try {
        let start = 0;
        let index = 0;
        for (let i = 0; i < cuts.length; i++) {
          const slice = entries.subarray(start, cuts[i]);
          start = cuts[i]!;
          const last = i === cuts.length - 1;
          const acks = last && chunk ? [encodeAck(chunk)] : [];
          // the chunk id goes with the last slice: recorded once the whole request is durable
          const ids = acks.length > 0 && sink.duplicateOf ? [chunk!.toString('base64')] : [];
          if (this.raw) {
            const { bytes, count: sliceCount } = this.transcode(tag, slice, identities, index);
            index += sliceCount;
            this.deliver(bytes, acks, sliceCount, ids);
          } else {
            const events = packedEvents(tag, slice, this.unpackr, limits, [], true);
            this.decorate(events, 0);
            identities?.assign(events, 0, index);
            index += events.length;
            this.deliver(events, acks, 0, ids);
          }
          if (whole && !last) {
            await sink.appended!();
            continue;
          }
          if (sink.congested) await sink.ready();
          if (this.socket.destroyed) return false;
        }
      } finally {
        if (whole) sink.endRequest!();
      }
      return true;
    } finally {
      release();
    }
  }

  /** The identities of a request's `entries` entries (see RequestIdentities); a bad carrier is logged. */
  private identities(request: ParsedRequest, entries: number | undefined): RequestIdentities | undefined {
    return RequestIdentities.of(request, entries, this.unpackr, (why) => this.ctx.log.line(`${this.peer}: ${why}`));
  }

  /** Entries copied into Message-mode form, tag first; on a ProtocolError nothing is kept. */
  private transcode(tag: string, entries: Buffer, identities: RequestIdentities | undefined, firstIndex = 0): { bytes: Buffer; count: number } {
    const w = (this.rawWriter ??= new MsgpackWriter(64 * 1024));
    w.writeString(tag);
    const encodedTag = w.take();
    try {
      const identityOf = identities ? (index: number) => identities.identityOf(firstIndex + index) : undefined;
      // receive --buffer: its own positions stamped in too; the deliver that follows takes them
      const count = transcodeEntries(entries, encodedTag, this.ctx.config.limits, w, identityOf, this.ctx.sink.relayPositions?.());
      return { bytes: w.take(), count };
    } catch (error) {
      w.take();
      throw error;
    }
  }

  /** Hands events (or pre-encoded entries) to the sink; the acks go out once it has them. */
  private deliver(events: LogEvent[] | Buffer, acks: Buffer[], encodedCount = 0, ids?: readonly string[]): void {
    const count = Array.isArray(events) ? events.length : encodedCount;
    this.ctx.stats.events += count;
    const delivered = Array.isArray(events) ? this.ctx.sink.deliver(events, ids) : this.ctx.sink.deliverEncoded(events, count, ids);
    this.lastDelivery = delivered.then(
      () => {
        if (acks.length === 0 || this.socket.destroyed) return;
        this.ctx.stats.acks += acks.length;
        this.socket.write(acks.length === 1 ? acks[0]! : Buffer.concat(acks));
      },
      (error: Error) => {
        // not handed on: no ack, the client resends
        this.ctx.log.line(`cannot hand events on: ${error.message}`);
        this.socket.destroy();
      },
    );
  }

  /** Acks a dropped resend after what this connection handed on before it and after the first copy is durable. */
  private ackDuplicate(earlier: Promise<void>, ack: Buffer): void {
    this.ctx.stats.duplicateChunks++;
    this.ctx.log.line(`${this.peer}: dropped a resent chunk already received (${this.ctx.stats.duplicateChunks} so far); acknowledged it again`);
    this.lastDelivery = Promise.all([this.lastDelivery, earlier]).then(
      () => {
        if (this.socket.destroyed) return;
        this.ctx.stats.acks++;
        this.socket.write(ack);
      },
      () => {
        // the first copy failed: no ack, the client resends
        this.socket.destroy();
      },
    );
  }

  private finalTag(tag: string): string {
    const prefixed = this.ctx.config.tagPrefix ? `${this.ctx.config.tagPrefix}.${tag}` : tag;
    const clean = sanitizeTag(prefixed);
    if (clean !== prefixed) this.ctx.stats.sanitizedTags++;
    return clean;
  }

  private decorate(batch: LogEvent[], from: number): void {
    const { sourceAddressKey, sourceHostnameKey } = this.ctx.config;
    if (!sourceAddressKey && !sourceHostnameKey) return;
    const address = this.socket.remoteAddress;
    for (let i = from; i < batch.length; i++) {
      const record = batch[i]!.record;
      if (sourceAddressKey && address) record[sourceAddressKey] = address;
      if (sourceHostnameKey && address) record[sourceHostnameKey] = this.hostname ?? address;
    }
  }

  /** Handles PING; false when the connection is closed (authentication failed). */
  private handshake(frame: Buffer): boolean {
    const { config, backoff } = this.ctx;
    const auth = config.auth!;
    const ping = parsePing(frame);
    // an address that is backing off gets no verdict on its key, even on connections opened before
    const verdict: PingVerdict = backoff.waitMs(this.addressKey) > 0 ? { ok: false, reason: 'too many failed authentications from this address; retry later' } : verifyPing(ping, this.helo!, auth);
    this.socket.write(encodePong(verdict, ping, this.helo!, auth));
    if (!verdict.ok) {
      this.ctx.stats.authFailures++;
      const waitMs = backoff.failed(this.addressKey);
      this.ctx.log.line(`${this.peer}: authentication failed (${verdict.reason}); closing${waitMs > 0 ? `; its address is refused for ${waitMs / 1000} s` : ''}`);
      this.phase = 'closing';
      this.socket.end();
      setTimeout(() => this.socket.destroy(), REJECT_GRACE_MS).unref();
      return false;
    }
    this.phase = 'transport';
    backoff.succeeded(this.addressKey);
    this.established();
    return true;
  }

  private fail(error: unknown): void {
    if (this.socket.destroyed) return;
    this.phase = 'closing';
    this.queue.clear();
    this.account();
    let rejection: Buffer | undefined;
    if (error instanceof OversizeError) {
      this.ctx.stats.oversizeRejections++;
      this.ctx.log.line(`${this.peer}: ${error.message}; rejected, closing`);
      rejection = encodeRejection(error.message);
    } else {
      this.ctx.stats.protocolErrors++;
      const message = error instanceof ProtocolError ? error.message : `invalid request: ${(error as Error)?.message ?? String(error)}`;
      this.ctx.log.line(`${this.peer}: ${message}; closing`);
    }
    // the acks of what was handed on before go out first, then the rejection (if any) and the
    // close; reading (and discarding) goes on for a moment so that the close is a FIN, not a
    // reset that could destroy the acks and the rejection before the client reads them
    void this.lastDelivery.then(() => {
      if (this.socket.destroyed) return;
      if (rejection) this.socket.end(rejection);
      else this.socket.end();
      this.socket.resume();
      setTimeout(() => this.socket.destroy(), REJECT_GRACE_MS).unref();
    });
  }
}
