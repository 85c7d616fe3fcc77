import { Writable } from 'node:stream';
import { EventWriter } from '../codec/event-writer.js';
import { MessageStreamDecoder } from '../codec/msgpack-reader.js';
import { encodeEntries } from '../codec/msgpack-writer.js';
import { prepend, readEvents } from '../codec/read-events.js';
import type { LogEvent } from '../event/event.js';
import { Signal } from './signal.js';
import type { Batch, StageInput, StageOutput } from './stage-io.js';


/** Writing to a channel whose reader is gone: the in-process EPIPE (the writing stage ends quietly, status 0). */
export class BrokenPipeError extends Error {
  readonly code = 'EPIPE';
  constructor() {
    super('the next stage stopped reading');
  }
}

/** What may wait in a channel: this many events, or bytes (or one batch, whatever its size). */
export const CHANNEL_EVENTS = 1024;
export const CHANNEL_BYTES = 256 * 1024;

/**
 * The pipe between two stages of `logkit run`: batches pass by reference, in order, with no
 * encoding. Bounded like a pipe: once CHANNEL_EVENTS events or CHANNEL_BYTES bytes wait, the
 * writer waits, so a slow stage slows the ones before it and memory stays bounded.
 */
export class BatchChannel {
  private readonly queue: Batch[] = [];
  private queuedEvents = 0;
  private queuedBytes = 0;
  private ended = false;
  private closed = false;
  private readonly changed = new Signal();

  /** Resolves once the batch is queued; throws BrokenPipeError when the reader has closed. */
  async push(batch: Batch): Promise<void> {
    while ((this.queuedEvents >= CHANNEL_EVENTS || this.queuedBytes >= CHANNEL_BYTES) && !this.closed) await this.changed.wait();
    if (this.closed) throw new BrokenPipeError();
    this.queue.push(batch);
    if (Array.isArray(batch)) this.queuedEvents += batch.length;
    else this.queuedBytes += batch.length;
    this.changed.notify();
  }

  /** The writer is done: the reader gets what is queued, then the end. */
  end(): void {
    this.ended = true;
    this.changed.notify();
  }

  /** The reader is gone: what is queued is dropped, writes fail with BrokenPipeError. */
  close(): void {
    this.closed = true;
    this.queue.length = 0;
    this.queuedEvents = this.queuedBytes = 0;
    this.changed.notify();
  }

  /** The next batch, or undefined at the end (or once closed). */
  async next(): Promise<Batch | undefined> {
    for (;;) {
      if (this.closed) return undefined;
      const batch = this.queue.shift();
      if (batch !== undefined) {
        if (Array.isArray(batch)) this.queuedEvents -= batch.length;
        else this.queuedBytes -= batch.length;
        this.changed.notify();
        return batch;
      }
      if (this.ended) return undefined;
      await this.changed.wait();
    }
  }

  /** The reading side, as a stage sees its input. */
  input(): StageInput {
    const channel = this;
    async function* batches(): AsyncGenerator<Batch> {
      for (let batch = await channel.next(); batch !== undefined; batch = await channel.next()) yield batch;
    }
    async function* bytes(): AsyncGenerator<Buffer> {
      for await (const batch of batches()) yield Array.isArray(batch) ? encodeEntries(batch) : batch;
    }
    return {
      async *events(options) {
        const first = await channel.next();
        if (first === undefined) return;
        if (!Array.isArray(first)) {
          // a stage that writes bytes (receive, buffer): read them as standard input would be
          yield* readEvents(prepend(first, bytes()), options);
          return;
        }
        yield first;
        const decoder = new MessageStreamDecoder(options.maxEntryBytes, options.entries);
        for await (const batch of batches()) yield Array.isArray(batch) ? batch : decoder.push(batch);
      },
      bytes,
      batches,
      close: () => channel.close(),
    };
  }

  /** The writing side, as a stage sees its output. */
  output(): StageOutput {
    const stream = new ChannelWritable(this);
    return {
      stream,
      isTTY: false,
      format: () => 'msgpack',
      writer: () => new ChannelEventWriter(this, stream),
    };
  }
}

/** Bytes written by a stage (receive, buffer) go into the channel as they are. */
class ChannelWritable extends Writable {
  constructor(private readonly channel: BatchChannel) {
    super({ highWaterMark: 1024 * 1024 });
    // a failed write reaches its callback (EPIPE: the next stage is gone); no 'error' crash besides
    this.on('error', () => {});
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    // an empty write is how a stage waits for what it wrote before to be taken: nothing to hand on
    if (chunk.length === 0) return done();
    this.channel.push(chunk).then(() => done(), done);
  }
}

/** An EventWriter that hands batches over instead of encoding them (whatever --output asked for). */
class ChannelEventWriter extends EventWriter {
  constructor(
    private readonly channel: BatchChannel,
    stream: Writable,
  ) {
    super(stream, 'msgpack');
  }

  override async write(events: readonly LogEvent[]): Promise<void> {
    if (events.length === 0) return;
    this.written += events.length;
    await this.channel.push(events as LogEvent[]);
  }

  override async flush(): Promise<void> {}
}
