import { isUtf8 } from 'node:buffer';
import type { Unpackr } from 'msgpackr/unpack';
import type { EventTime } from '../event/event-time.js';
import type { EventRecord, LogEvent } from '../event/event.js';
import { EntryHeadReader } from './entry-head.js';
import { INCOMPLETE, UNUSUAL, plainValueEnd, stringSpan } from './msgpack-plain.js';
import type { ScannedPositions } from '../event/source-position.js';

/**
 * An event read from MessagePack that keeps its record and options as bytes until something asks
 * for them. A stage that only reads one field (`field`) and replaces the record never decodes the
 * rest, and MsgpackWriter copies what was never decoded or replaced back out as bytes.
 */
export class RawEntryEvent implements LogEvent {
  private recordValue: EventRecord | undefined;
  private optionsValue: EventRecord | undefined;
  /** Its positions as scanned from the options' bytes, once asked for (scanned-position.ts). */
  scannedPositions: ScannedPositions | undefined;
  /** The record, or the options, has been handed out as an object (or replaced): write that. */
  private recordTaken = false;
  private optionsTaken = false;

  constructor(
    readonly tag: string,
    public time: EventTime,
    private readonly unpackr: Unpackr,
    private readonly src: Buffer,
    private readonly recordStart: number,
    private readonly recordEnd: number,
    /** optionsStart === optionsEnd: no options. */
    private readonly optionsStart: number,
    private readonly optionsEnd: number,
  ) {}

  get record(): EventRecord {
    if (!this.recordTaken) {
      this.recordValue = this.unpackr.unpack(this.src.subarray(this.recordStart, this.recordEnd)) as EventRecord;
      this.recordTaken = true;
    }
    return this.recordValue!;
  }

  set record(record: EventRecord) {
    this.recordValue = record;
    this.recordTaken = true;
  }

  get options(): EventRecord | undefined {
    if (!this.optionsTaken) {
      this.optionsValue = this.optionsStart === this.optionsEnd ? undefined : (this.unpackr.unpack(this.src.subarray(this.optionsStart, this.optionsEnd)) as EventRecord);
      this.optionsTaken = true;
    }
    return this.optionsValue;
  }

  set options(options: EventRecord | undefined) {
    this.optionsValue = options;
    this.optionsTaken = true;
  }

  /** `record[key]`, decoding that field alone while the record is still bytes. */
  field(key: string): unknown {
    // msgpackr renames a __proto__ key, and decodes invalid UTF-8 in a key to U+FFFD: let it
    if (this.recordTaken || key.startsWith('__proto_') || key.includes('\ufffd')) return this.record[key];
    const keyBytes = utf8Of(key);
    const src = this.src;
    const end = this.recordEnd;
    const b = src[this.recordStart]!;
    let pos = this.recordStart + (b <= 0x8f ? 1 : b === 0xde ? 3 : 5);
    const count = b <= 0x8f ? b & 0x0f : b === 0xde ? src.readUInt16BE(this.recordStart + 1) : src.readUInt32BE(this.recordStart + 1);
    let found = -1;
    for (let i = 0; i < count; i++) {
      const [from, length] = stringSpan(src, pos, end);
      pos = from + length;
      // the last of repeated keys wins, as in the decoded object
      if (length === keyBytes.length && src.compare(keyBytes, 0, length, from, pos) === 0) found = pos;
      pos = plainValueEnd(src, pos, end, 1);
    }
    if (found < 0) return undefined;
    const s = src[found]!;
    if (s >= 0xa0 && s <= 0xbf) return this.text(found + 1, s & 0x1f);
    if (s === 0xd9) return this.text(found + 2, src[found + 1]!);
    if (s === 0xda) return this.text(found + 3, src.readUInt16BE(found + 1));
    if (s === 0xdb) return this.text(found + 5, src.readUInt32BE(found + 1));
    return this.unpackr.unpack(src.subarray(found, plainValueEnd(src, found, end, 1)));
  }

  private text(from: number, length: number): string {
    const bytes = this.src.subarray(from, from + length);
    // msgpackr replaces bad bytes its own way: let it decode those
    if (isUtf8(bytes)) return bytes.toString('utf8');
    return this.unpackr.unpack(this.src.subarray(from - (length < 32 ? 1 : length < 256 ? 2 : length < 65536 ? 3 : 5), from + length)) as string;
  }

  /** The record's MessagePack bytes if it was never handed out or replaced. */
  get rawRecord(): Buffer | undefined {
    return this.recordTaken ? undefined : this.src.subarray(this.recordStart, this.recordEnd);
  }

  /** Where the options' bytes are in `source` (optionsStart === optionsEnd: none), while never handed out or replaced. */
  get optionsSpan(): [number, number] | undefined {
    return this.optionsTaken ? undefined : [this.optionsStart, this.optionsEnd];
  }

  /** The bytes the entry was read from. */
  get source(): Buffer {
    return this.src;
  }

  /** The options' MessagePack bytes if they were never handed out or replaced (empty: none). */
  get rawOptions(): Buffer | undefined {
    return this.optionsTaken ? undefined : this.src.subarray(this.optionsStart, this.optionsEnd);
  }
}

/** The UTF-8 of the field name last looked up (a stage looks up one name, event after event). */
const lastKey = { key: '', bytes: Buffer.alloc(0) };

function utf8Of(key: string): Buffer {
  if (key !== lastKey.key) {
    lastKey.key = key;
    lastKey.bytes = Buffer.from(key);
  }
  return lastKey.bytes;
}

/**
 * Decodes the Message-mode entries whose record and options are plain MessagePack (see
 * msgpack-plain.ts) into RawEntryEvent, checking their bytes but building nothing, and stops at
 * the first entry that is not or is incomplete: MessageStreamDecoder decodes that one the object
 * way (and reports its faults as it always has), then calls again.
 */
export class RawEntries {
  private readonly head = new EntryHeadReader();
  /** The last decode stopped at an entry cut off by the end of the bytes. */
  incomplete = false;

  constructor(private readonly unpackr: Unpackr) {}

  decode(buf: Buffer, pos: number, events: LogEvent[]): number {
    const end = buf.length;
    this.incomplete = false;
    const head = this.head;
    try {
      while (pos < end) {
        if (!head.read(buf, pos, end)) break;
        const recordStart = head.recordStart;
        const m = buf[recordStart]!;
        if (!((m >= 0x80 && m <= 0x8f) || m === 0xde || m === 0xdf)) break;
        const recordEnd = plainValueEnd(buf, recordStart, end, 0);
        let next = recordEnd;
        let optionsStart = recordEnd;
        if (head.count === 4) {
          if (recordEnd >= end) break;
          const o = buf[recordEnd]!;
          if (o === 0xc0) {
            next = recordEnd + 1;
            optionsStart = next;
          } else if ((o >= 0x80 && o <= 0x8f) || o === 0xde || o === 0xdf) next = plainValueEnd(buf, recordEnd, end, 0);
          else break;
        }
        events.push(new RawEntryEvent(head.tag.tag, head.time, this.unpackr, buf, recordStart, recordEnd, optionsStart, next));
        pos = next;
      }
    } catch (error) {
      if (error === INCOMPLETE) this.incomplete = true;
      else if (error !== UNUSUAL) throw error;
    }
    return pos;
  }
}
