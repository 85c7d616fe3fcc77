import type { Writable } from 'node:stream';
import type { LogEvent } from '../event/event.js';
import type { RelayPositions } from '../protocol/raw-entries.js';
import type { EventWriter } from '../codec/event-writer.js';

/**
 * Where receive hands events, and the ACK POINT: a request's `chunk` is acknowledged only after
 * `deliver` resolves. The stdout sink resolves once the bytes are handed to the OS; a durable
 * sink (a disk buffer) can implement the same interface and resolve only once committed.
 */
export interface EventSink {
  /** Takes a batch (the sink may coalesce batches); resolves when it is safely handed on. `ids`: the chunk ids of the batch's requests. */
  deliver(events: LogEvent[], ids?: readonly string[]): Promise<void>;
  /**
   * Only on a sink that remembers chunk ids (receive --buffer): when the chunk id was received
   * before, a promise that resolves once that first copy is safe (the resend is dropped and acked then).
   */
  duplicateOf?(id: string): Promise<void> | undefined;
  /**
   * Only on a sink that must keep a request whole (receive --buffer): a request handed on in
   * several `deliver` calls is bracketed by startRequest/endRequest, so that it becomes durable
   * whole or not at all; between its parts the connection waits for `appended()` (the part is
   * taken, not yet durable) instead of `ready()`, which would wait on the request itself.
   */
  startRequest?(): void;
  endRequest?(): void;
  appended?(): Promise<void>;
  /** True when the sink takes pre-encoded MessagePack Message-mode entries (deliverEncoded). */
  readonly acceptsEncoded: boolean;
  /** Like deliver, for `count` events already encoded as Message-mode entries. */
  deliverEncoded(bytes: Buffer, count: number, ids?: readonly string[]): Promise<void>;
  /**
   * Only on a sink that stamps each event with its own position (receive --buffer): the relay
   * positions the next entries must be transcoded with, taken by the next deliverEncoded.
   */
  relayPositions?(): RelayPositions;
  /** True while the consumer is behind: connections stop reading until `ready()` resolves. */
  readonly congested: boolean;
  ready(): Promise<void>;
  /** Hands on everything pending. */
  flush(): Promise<void>;
}

interface Pending {
  events: LogEvent[] | undefined;
  /** Pre-encoded entries (when events is undefined). */
  bytes?: Buffer;
  resolve: () => void;
  reject: (error: Error) => void;
}

/**
 * Writes to a stream (stdout) through an EventWriter's encoder, coalescing the batches of all
 * connections that arrive within one turn of the event loop into ONE encode and ONE write.
 * Congested while more than `highWaterBytes` wait in the stream's buffer (the pipe is full):
 * that is when connections pause their sockets, so memory stays bounded by
 * connections × request limit + highWaterBytes, whatever the senders do.
 */
export class StreamSink implements EventSink {
  private pending: Pending[] = [];
  private scheduled = false;
  private waiters: Array<() => void> = [];
  /** Events taken but not yet encoded and written (they count toward congestion too). */
  private pendingEvents = 0;
  /** Same, for the writer's `written` counter. */
  private pendingCount = 0;

  constructor(
    private readonly out: Writable,
    private readonly writer: EventWriter,
    private readonly highWaterBytes = 4 * 1024 * 1024,
    private readonly highWaterEvents = 20_000,
  ) {
    out.on('drain', () => this.wake());
  }

  get congested(): boolean {
    return this.out.writableLength >= this.highWaterBytes || this.pendingEvents >= this.highWaterEvents;
  }

  ready(): Promise<void> {
    if (!this.congested) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  get acceptsEncoded(): boolean {
    return this.writer.format === 'msgpack';
  }

  deliver(events: LogEvent[]): Promise<void> {
    return this.enqueue(events, undefined, events.length);
  }

  deliverEncoded(bytes: Buffer, count: number): Promise<void> {
    if (!this.acceptsEncoded) return Promise.reject(new Error(`pre-encoded entries cannot be written as ${this.writer.format}`));
    return this.enqueue(undefined, bytes, count);
  }

  private enqueue(events: LogEvent[] | undefined, bytes: Buffer | undefined, count: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ events, bytes, resolve, reject });
      this.pendingEvents += count;
      this.pendingCount += count;
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.writePending());
      }
    });
  }

  async flush(): Promise<void> {
    if (this.pending.length > 0) this.writePending();
    if (this.out.writableLength > 0) {
      await new Promise<void>((resolve) => this.out.write('', () => resolve()));
    }
  }

  private writePending(): void {
    this.scheduled = false;
    const batch = this.pending;
    if (batch.length === 0) return;
    this.pending = [];
    this.pendingEvents = 0;
    const count = this.pendingCount;
    this.pendingCount = 0;
    let parts: Array<Buffer | string>;
    try {
      parts = this.encode(batch);
    } catch (error) {
      for (const p of batch) p.reject(error as Error);
      return;
    }
    this.writer.written += count;
    for (const data of parts) this.writer.bytesWritten += typeof data === 'string' ? Buffer.byteLength(data) : data.length;
    // corked: the parts go out in one writev, not copied into one buffer first; the stream
    // calls back in order, so the last part's callback says the whole batch is written
    this.out.cork();
    for (let i = 0; i < parts.length - 1; i++) this.out.write(parts[i]!);
    this.out.write(parts[parts.length - 1]!, (error) => {
      for (const p of batch) (error ? p.reject(error) : p.resolve());
      this.wake();
    });
    this.out.uncork();
  }

  /** The batch's bytes in arrival order, in parts; consecutive event lists encode together. */
  private encode(batch: Pending[]): Array<Buffer | string> {
    if (batch.every((p) => p.events)) {
      return [this.writer.encode(batch.length === 1 ? batch[0]!.events! : batch.flatMap((p) => p.events!))];
    }
    const parts: Buffer[] = [];
    let run: LogEvent[] = [];
    for (const p of batch) {
      if (p.events) {
        for (const e of p.events) run.push(e);
        continue;
      }
      if (run.length > 0) parts.push(this.writer.encode(run) as Buffer);
      run = [];
      parts.push(p.bytes!);
    }
    if (run.length > 0) parts.push(this.writer.encode(run) as Buffer);
    return parts;
  }

  private wake(): void {
    if (this.congested || this.waiters.length === 0) return;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}
