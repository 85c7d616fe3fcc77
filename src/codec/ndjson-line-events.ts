import type { EventTime } from '../event/event-time.js';
import type { EventRecord, LogEvent } from '../event/event.js';
import { EntryHeadReader } from './entry-head.js';
import { INCOMPLETE, UNUSUAL } from './msgpack-plain.js';
import { JsonOutput, MsgpackJsonTranscoder } from './msgpack-to-json.js';
import type { Unpackr } from 'msgpackr/unpack';
import type { ScannedPositions } from '../event/source-position.js';

/**
 * An event read from MessagePack that carries its NDJSON line (what `eventToJSON` writes, and a
 * newline) as bytes, transcoded from the entry without building the record. The record is
 * decoded only if something asks for it. A store that writes NDJSON copies the line.
 */
export class EventWithLine implements LogEvent {
  private decoded: EventRecord | undefined;
  private decodedOptions: EventRecord | undefined;
  /** Its positions as scanned from the options' bytes, once asked for (scanned-position.ts). */
  scannedPositions: ScannedPositions | undefined;

  constructor(
    readonly tag: string,
    readonly time: EventTime,
    /** The line is `lineBuf[lineStart, lineEnd)`, newline included. */
    readonly lineBuf: Buffer,
    readonly lineStart: number,
    readonly lineEnd: number,
    private readonly unpackr: Unpackr,
    private readonly src: Buffer,
    private readonly recordStart: number,
    private readonly recordEnd: number,
    /** The options map is `src[optionsStart, optionsEnd)`; empty: none. */
    readonly optionsStart: number,
    readonly optionsEnd: number,
  ) {}

  get record(): EventRecord {
    return (this.decoded ??= this.unpackr.unpack(this.src.subarray(this.recordStart, this.recordEnd)) as EventRecord);
  }

  get options(): EventRecord | undefined {
    if (this.optionsStart === this.optionsEnd) return undefined;
    return (this.decodedOptions ??= this.unpackr.unpack(this.src.subarray(this.optionsStart, this.optionsEnd)) as EventRecord);
  }

  /** The bytes the entry was read from (for reading the options without decoding them). */
  get source(): Buffer {
    return this.src;
  }
}

/**
 * Decodes the Message-mode entries `[tag, time, record, options?]` that have the usual shape (a
 * str tag, an EventTime or integer time, a map record, no options or a map) into EventWithLine,
 * stopping at the first entry that has another shape or is incomplete: MessageStreamDecoder
 * decodes that one the object way (and reports its faults as it always has), then calls again.
 */
export class NdjsonLineEntries {
  private readonly out = new JsonOutput();
  private readonly json = new MsgpackJsonTranscoder(this.out);
  private readonly head = new EntryHeadReader();
  private isoSec = Number.NaN;
  private isoPrefix: Buffer = Buffer.alloc(0);

  /** The last decode stopped at an entry cut off by the end of the bytes. */
  incomplete = false;

  constructor(private readonly unpackr: Unpackr) {}

  /** Decodes entries from `buf[pos]` on into `events`; returns where it stopped. */
  decode(buf: Buffer, pos: number, events: LogEvent[]): number {
    const end = buf.length;
    this.incomplete = false;
    while (pos < end) {
      const next = this.entry(buf, pos, end, events);
      if (next < 0) break;
      pos = next;
    }
    return pos;
  }

  private entry(buf: Buffer, start: number, end: number, events: LogEvent[]): number {
    const head = this.head;
    if (!head.read(buf, start, end)) return -1;
    const { tag, time } = head;
    let pos = head.recordStart;
    if (time.nsec >= 1e9) return -1; // the object path writes such a time its own way
    if (pos >= end) return -1;
    const m = buf[pos]!;
    if (!((m >= 0x80 && m <= 0x8f) || m === 0xde || m === 0xdf)) return -1;
    const json = this.json;
    const out = this.out;
    json.lineStart = out.len;
    try {
      this.linePrefix(time);
      json.bytes(tag.json);
      json.text(',"record":');
      const recordStart = pos;
      pos = json.value(buf, pos, end, 0);
      const recordEnd = pos;
      let optionsStart = pos;
      if (head.count === 4) {
        if (pos >= end) throw INCOMPLETE;
        const o = buf[pos]!;
        if (o === 0xc0) optionsStart = ++pos;
        else if ((o >= 0x80 && o <= 0x8f) || o === 0xde || o === 0xdf) {
          json.text(',"options":');
          pos = json.value(buf, pos, end, 0);
        } else return this.giveUp();
      }
      json.put(0x7d); // }
      json.put(0x0a);
      events.push(new EventWithLine(tag.tag, time, out.buf, json.lineStart, out.len, this.unpackr, buf, recordStart, recordEnd, optionsStart, pos));
      return pos;
    } catch (error) {
      if (error === INCOMPLETE) this.incomplete = true;
      if (error === UNUSUAL || error === INCOMPLETE) return this.giveUp();
      throw error;
    }
  }

  private giveUp(): number {
    this.json.abandonLine();
    return -1;
  }

  /** `{"time":"2026-…T…:SS.nnnnnnnnnZ","tag":` as EventTime.toISO writes the time. */
  private linePrefix(time: EventTime): void {
    if (time.sec !== this.isoSec) {
      this.isoSec = time.sec;
      this.isoPrefix = Buffer.from(`{"time":"${new Date(time.sec * 1000).toISOString().slice(0, 20)}`, 'latin1');
    }
    const out = this.out;
    const prefix = this.isoPrefix;
    this.json.lineStart = out.reserve(prefix.length + 18, this.json.lineStart);
    const buf = out.buf;
    prefix.copy(buf, out.len);
    out.len += prefix.length;
    let nsec = time.nsec;
    for (let i = out.len + 8; i >= out.len; i--) {
      buf[i] = 0x30 + (nsec % 10);
      nsec = Math.floor(nsec / 10);
    }
    out.len += 9;
    out.ascii('Z","tag":');
  }
}
