import { DecodeError } from '../codec/decode-error.js';
import { MAX_DEPTH } from '../codec/depth-limit.js';
import { DEFAULT_MAX_ENTRY_BYTES, createUnpackr } from '../codec/msgpack-reader.js';
import { describe, toEventTime } from '../codec/event-shape.js';
import { scanPosition } from '../codec/scanned-position.js';
import type { EventTime } from '../event/event-time.js';
import { FrameScanner, ProtocolError, bytesSpan, kindAt, readArrayHeader, readMapSpans, readUInt, skipValue } from '../protocol/frame.js';
import type { Identity } from '../protocol/identity-option.js';

/** Where scanned entries go: the bytes of `[time, record]` (or a converted time and the record). */
export interface RawEntrySink {
  /**
   * One entry. `buf[timeStart, recordEnd)` is the time followed by the record, as MessagePack;
   * when the time had to be converted (a float, a v1.5 `[time, metadata]` pair), `time` holds it
   * and the record starts at `recordStart`. `identity`: the entry's `options.src`, when it has one.
   */
  addRaw(tag: string, buf: Buffer, timeStart: number, recordStart: number, recordEnd: number, time: EventTime | undefined, identity: Identity | undefined): void;
}

/**
 * The fast path for MessagePack input (the usual case: forward sits at the end of a logkit
 * pipe): finds each Message-mode entry `[tag, time, record, options?]` by its headers alone and
 * hands the time and record BYTES on, to be copied into a chunk as they are. No record is decoded
 * and re-encoded; per event the cost is a header walk and a copy. Entries are validated as
 * `readEvents` validates them (an array of 3 or 4, a string tag, a valid time, a map record) and a
 * bad one throws DecodeError with its stream offset, after every entry before it was handed on.
 */
export class RawEntryScanner {
  private pending: Buffer | undefined;
  /** Stream offset of `pending[0]` (or of the next chunk). */
  private base = 0;
  private readonly frames: FrameScanner;
  private lastTag = '';
  private lastTagBytes: Buffer = Buffer.alloc(0);
  private readonly unpackr = createUnpackr();
  /** Entries handed to a sink so far. */
  entries = 0;

  constructor(maxEntryBytes = DEFAULT_MAX_ENTRY_BYTES) {
    // the stream's one depth limit, counted from the record (the entry's own array is one more level)
    this.frames = new FrameScanner({ maxBytes: maxEntryBytes, maxDepth: MAX_DEPTH + 1 });
  }

  /** Scans every complete entry; returns how many were handed to `sink`. */
  push(chunk: Buffer, sink: RawEntrySink): number {
    const buf = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    let pos = 0;
    let count = 0;
    try {
      while (pos < buf.length) {
        // The scanner resumes where it stopped in an entry that was incomplete in the last chunk.
        const length = this.frames.scan(pos === 0 ? buf : buf.subarray(pos));
        if (length < 0) break;
        this.entry(buf, pos, pos + length, sink);
        pos += length;
        count++;
      }
    } catch (error) {
      if (error instanceof DecodeError) throw error;
      if (error instanceof ProtocolError) {
        const message = /exceeds the limit/.test(error.message)
          ? `an entry larger than the limit (or a corrupt length prefix): ${error.message}`
          : `invalid MessagePack: ${error.message}`;
        throw new DecodeError(message, this.base + pos);
      }
      throw error;
    }
    this.base += pos;
    this.pending = pos < buf.length ? buf.subarray(pos) : undefined;
    return count;
  }

  /** At end of input: leftover bytes mean the stream was cut inside an entry. */
  end(): void {
    if (this.pending && this.pending.length > 0) {
      throw new DecodeError(`truncated MessagePack: the input ends inside an entry (${this.pending.length} bytes left over)`, this.base);
    }
  }

  private entry(buf: Buffer, start: number, end: number, sink: RawEntrySink): void {
    const fail = (why: string): never => {
      throw new DecodeError(why, this.base + start);
    };
    if (kindAt(buf, start) !== 'array') fail(`expected a Message-mode entry [tag, time, record], got ${this.describeAt(buf, start, end)}`);
    const { count, pos: tagPos } = readArrayHeader(buf, start);
    if (count !== 3 && count !== 4) fail(`expected a Message-mode entry of 3 or 4 elements, got an array of ${count}`);
    const tag = this.tagAt(buf, tagPos);
    if (tag === undefined) fail(`expected a tag (string) as the first element, got ${this.describeAt(buf, tagPos, end)}`);
    const timeStart = skipValue(buf, tagPos);
    const recordStart = skipValue(buf, timeStart);
    let time: EventTime | undefined;
    const t = buf[timeStart]!;
    const isEventTime = t === 0xd7 && buf[timeStart + 1] === 0x00;
    const isUnsigned = t <= 0x7f || (t >= 0xcc && t <= 0xce);
    if (!isEventTime && !isUnsigned) {
      // Floats, uint64, [EventTime, metadata]: decode just the time, write it as EventTime.
      let value: unknown;
      try {
        value = this.unpackr.unpack(buf.subarray(timeStart, recordStart));
      } catch (error) {
        fail(`expected an event time as the second element: ${(error as Error).message}`);
      }
      time = toEventTime(value);
      if (!time) fail(`expected an event time as the second element, got ${describe(value)}`);
    }
    if (kindAt(buf, recordStart) !== 'map') fail(`expected a record (map) as the third element, got ${this.describeAt(buf, recordStart, end)}`);
    const recordEnd = skipValue(buf, recordStart);
    let identity: Identity | undefined;
    if (count === 4 && recordEnd < end) {
      const kind = kindAt(buf, recordEnd);
      if (kind !== 'map' && kind !== 'nil') fail(`expected an options map as the fourth element, got ${this.describeAt(buf, recordEnd, end)}`);
      if (kind === 'map') identity = identityIn(buf, recordEnd, end);
    }
    sink.addRaw(tag!, buf, timeStart, recordStart, recordEnd, time, identity);
    this.entries++;
  }

  /** The tag at `pos`, reusing the previous string when the bytes are the same (runs of one tag). */
  private tagAt(buf: Buffer, pos: number): string | undefined {
    const b = buf[pos]!;
    let from: number;
    let length: number;
    if (b >= 0xa0 && b <= 0xbf) {
      from = pos + 1;
      length = b & 0x1f;
    } else if (b === 0xd9) {
      from = pos + 2;
      length = buf[pos + 1]!;
    } else if (b === 0xda) {
      from = pos + 3;
      length = buf.readUInt16BE(pos + 1);
    } else if (b === 0xdb) {
      from = pos + 5;
      length = buf.readUInt32BE(pos + 1);
    } else {
      return undefined;
    }
    const last = this.lastTagBytes;
    if (length === last.length) {
      let same = true;
      for (let i = 0; i < length; i++) {
        if (buf[from + i] !== last[i]) {
          same = false;
          break;
        }
      }
      if (same) return this.lastTag;
    }
    this.lastTagBytes = Buffer.from(buf.subarray(from, from + length));
    this.lastTag = buf.toString('utf8', from, from + length);
    return this.lastTag;
  }

  private describeAt(buf: Buffer, pos: number, end: number): string {
    try {
      return describe(this.unpackr.unpack(buf.subarray(pos, skipValue(buf.subarray(0, end), pos))));
    } catch {
      return 'invalid MessagePack';
    }
  }
}

/**
 * `options.src` (`{id, off}`) of the options map `buf[optionsAt, optionsEnd)`, read from its
 * bytes; undefined when absent or malformed. The plain form (what logkit writes) is scanned
 * without making any object; anything else is read the general way.
 */
function identityIn(buf: Buffer, optionsAt: number, optionsEnd: number): Identity | undefined {
  try {
    const scanned = scanPosition(buf, optionsAt, optionsEnd, 'src');
    if (scanned !== 'decode') return scanned;
  } catch {
    // not the plain form: read below
  }
  try {
    return readIdentity(buf, optionsAt);
  } catch {
    return undefined; // an options map this reader does not follow: the event goes without identity
  }
}

function readIdentity(buf: Buffer, optionsAt: number): Identity | undefined {
  const src = readMapSpans(buf, optionsAt).get('src');
  if (src === undefined || kindAt(buf, src[0]) !== 'map') return undefined;
  const fields = readMapSpans(buf, src[0]);
  const id = fields.get('id');
  const off = fields.get('off');
  const idSpan = id && kindAt(buf, id[0]) === 'string' ? bytesSpan(buf, id[0]) : undefined;
  const offset = off ? readUInt(buf, off[0]) : undefined;
  if (idSpan === undefined || offset === undefined || !Number.isSafeInteger(offset)) return undefined;
  return { id: buf.toString('utf8', idSpan[0], idSpan[1]), off: offset };
}
