// msgpackr/unpack: the decoder alone — the package root also loads the encoder and probes for the
// optional native addon (never built here), ~20 ms of every stage's start-up
import { Unpackr, addExtension } from 'msgpackr/unpack';
import { EventTime } from '../event/event-time.js';
import type { LogEvent } from '../event/event.js';
import { DecodeError } from './decode-error.js';
import { entryToEvent } from './event-shape.js';
import { TooDeepError } from './depth-limit.js';
import { decodeEscapedUtf8 } from './escaped-utf8.js';
import { NdjsonLineEntries } from './ndjson-line-events.js';
import { RawEntries } from './raw-entry-event.js';

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

/**
 * What MessagePack entries become: plain objects; events carrying their NDJSON line
 * (EventWithLine, for a consumer that writes NDJSON); or events keeping their record and options
 * as bytes until asked (RawEntryEvent, for a stage that reads one field and passes the rest on).
 */
export type EntryForm = 'objects' | 'ndjson-lines' | 'raw';

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
  /** Decodes the entries of the usual shape without building objects (see ReadOptions.entries). */
  private readonly fast: NdjsonLineEntries | RawEntries | undefined;

  constructor(
    private readonly maxEntryBytes = DEFAULT_MAX_ENTRY_BYTES,
    entries: EntryForm = 'objects',
  ) {
    if (entries === 'ndjson-lines') this.fast = new NdjsonLineEntries(this.unpackr);
    else if (entries === 'raw') this.fast = new RawEntries(this.unpackr);
  }

  /** Stream offset up to which every byte has been decoded. */
  get offset(): number {
    return this.base;
  }

  push(chunk: Buffer): LogEvent[] {
    const buf = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    const events: LogEvent[] = [];
    let consumed = 0;
    for (;;) {
      if (this.fast) {
        consumed = this.fast.decode(buf, consumed, events);
        if (this.fast.incomplete) break; // the rest is the start of an entry: wait for more bytes
      }
      if (consumed >= buf.length) break;
      // the object path: every entry (without a fast path), or the one entry the fast path left
      const from = consumed;
      try {
        this.unpackr.unpackMultiple(from === 0 ? buf : buf.subarray(from), (value: unknown, _start?: number, end?: number) => {
          const event = entryToEvent(value);
          if (typeof event === 'string') throw new DecodeError(event, this.base + consumed, events);
          // U+FFFD may stand for invalid bytes: keep them apart (a tag can name a file)
          if (event.tag.includes('\uFFFD')) event.tag = exactTag(buf, consumed) ?? event.tag;
          events.push(event);
          consumed = from + end!;
          return this.fast ? false : undefined;
        });
      } catch (error) {
        if (error instanceof DecodeError) throw error;
        if (!(error as IncompleteError).incomplete) {
          // msgpackr recurses: nesting in the thousands overflows the stack before the depth check
          const reason = error instanceof RangeError && /call stack/.test(error.message) ? new TooDeepError('an entry').message : (error as Error).message;
          throw new DecodeError(`invalid MessagePack: ${reason}`, this.base + consumed, events);
        }
        break;
      }
      if (!this.fast || consumed === from) break;
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
