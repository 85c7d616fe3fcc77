// msgpackr/unpack: the decoder alone — the package root also loads the encoder and probes for the
// optional native addon (never built here), ~20 ms of every stage's start-up
import { Unpackr, addExtension } from 'msgpackr/unpack';
import { EventTime } from '../event/event-time.js';
import type { LogEvent } from '../event/event.js';
import { DecodeError } from './decode-error.js';
import { entryToEvent } from './event-shape.js';
import { TooDeepError } from './depth-limit.js';
import { decodeEscapedUtf8 } from './escaped-utf8.js';

// EventTime is ext type 0. msgpackr's registry is process-wide; registering the decoder here
// means every Unpackr in logkit turns fixext8/type-0 into an EventTime.
addExtension({
  type: 0,
  unpack(data: Buffer) {
    if (data.length !== 8) throw new RangeError(`EventTime extension of ${data.length} bytes (expected 8)`);
    return new EventTime(data.readUInt32BE(0), data.readUInt32BE(4));
  },
});

/** msgpackr configured for plain MessagePack: maps become objects, int64 beyond 2^53 become bigint. */
export function createUnpackr(): Unpackr {
  return new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: 'auto' as 'bigint' }); // 'auto' exists; the typings lag
}

/** The default bound on one entry; a larger one (or a corrupt length prefix) is a data error. */
export const DEFAULT_MAX_ENTRY_BYTES = 64 * 1024 * 1024;

/** The tag of the Message-mode entry at `pos`, decoded with invalid bytes kept apart (decodeEscapedUtf8). */
function exactTag(buf: Buffer, pos: number): string | undefined {
  const array = buf[pos]!;
  let p = pos + (array === 0xdc ? 3 : array === 0xdd ? 5 : 1);
  const head = buf[p]!;
  let length: number;
  if (head >= 0xa0 && head <= 0xbf) [length, p] = [head & 0x1f, p + 1];
  else if (head === 0xd9) [length, p] = [buf[p + 1]!, p + 2];
  else if (head === 0xda) [length, p] = [buf.readUInt16BE(p + 1), p + 3];
  else if (head === 0xdb) [length, p] = [buf.readUInt32BE(p + 1), p + 5];
  else return undefined;
  return decodeEscapedUtf8(buf.subarray(p, p + length));
}

interface IncompleteError extends Error {
  incomplete?: boolean;
}

/**
 * Streaming decoder for a MessagePack stream of Message-mode entries. Feed it chunks as they
 * arrive; each call returns every complete entry in the buffered bytes as one batch.
 */
export class MessageStreamDecoder {
  private pending: Buffer | undefined;
  /** Absolute stream offset of `pending[0]`. */
  private base = 0;
  private readonly unpackr = createUnpackr();

  constructor(private readonly maxEntryBytes = DEFAULT_MAX_ENTRY_BYTES) {}

  /** Stream offset up to which every byte has been decoded. */
  get offset(): number {
    return this.base;
  }

  push(chunk: Buffer): LogEvent[] {
    const buf = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    const events: LogEvent[] = [];
    let consumed = 0;
    try {
      this.unpackr.unpackMultiple(buf, (value: unknown, _start?: number, end?: number) => {
        const event = entryToEvent(value);
        if (typeof event === 'string') throw new DecodeError(event, this.base + consumed, events);
        // U+FFFD may stand for invalid bytes: keep them apart (a tag can name a file)
        if (event.tag.includes('\uFFFD')) event.tag = exactTag(buf, consumed) ?? event.tag;
        events.push(event);
        consumed = end!;
      });
    } catch (error) {
      if (error instanceof DecodeError) throw error;
      if (!(error as IncompleteError).incomplete) {
        // msgpackr recurses: nesting in the thousands overflows the stack before the depth check
        const reason = error instanceof RangeError && /call stack/.test(error.message) ? new TooDeepError('an entry').message : (error as Error).message;
        throw new DecodeError(`invalid MessagePack: ${reason}`, this.base + consumed, events);
      }
    }
    this.base += consumed;
    this.pending = consumed < buf.length ? buf.subarray(consumed) : undefined;
    if (this.pending && this.pending.length > this.maxEntryBytes) {
      throw new DecodeError(
        `an entry larger than ${this.maxEntryBytes} bytes (or a corrupt length prefix)`,
        this.base,
        events,
      );
    }
    return events;
  }

  /** Call at end of input: leftover bytes mean the stream was cut in the middle of an entry. */
  end(): void {
    if (this.pending && this.pending.length > 0) {
      throw new DecodeError(
        `truncated MessagePack: the input ends inside an entry (${this.pending.length} bytes left over)`,
        this.base,
      );
    }
  }
}
