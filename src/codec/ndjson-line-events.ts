import { isUtf8 } from 'node:buffer';
import { EventTime } from '../event/event-time.js';
import type { EventRecord, LogEvent } from '../event/event.js';
import { INCOMPLETE, JsonOutput, MsgpackJsonTranscoder, UNUSUAL } from './msgpack-to-json.js';
import type { Unpackr } from 'msgpackr/unpack';

/**
 * An event read from MessagePack that carries its NDJSON line (what `eventToJSON` writes, and a
 * newline) as bytes, transcoded from the entry without building the record. The record is
 * decoded only if something asks for it. A store that writes NDJSON copies the line.
 */
export class EventWithLine implements LogEvent {
  private decoded: EventRecord | undefined;

  constructor(
    readonly tag: string,
    readonly time: EventTime,
    readonly options: EventRecord | undefined,
    /** The line is `lineBuf[lineStart, lineEnd)`, newline included. */
    readonly lineBuf: Buffer,
    readonly lineStart: number,
    readonly lineEnd: number,
    private readonly unpackr: Unpackr,
    private readonly src: Buffer,
    private readonly recordStart: number,
    private readonly recordEnd: number,
  ) {}

  get record(): EventRecord {
    return (this.decoded ??= this.unpackr.unpack(this.src.subarray(this.recordStart, this.recordEnd)) as EventRecord);
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
  private readonly knownTags: KnownTag[] = [];
  private isoSec = Number.NaN;
  private isoPrefix: Buffer = Buffer.alloc(0);

  constructor(private readonly unpackr: Unpackr) {}

  /** Decodes entries from `buf[pos]` on into `events`; returns where it stopped. */
  decode(buf: Buffer, pos: number, events: LogEvent[]): number {
    const end = buf.length;
    while (pos < end) {
      const next = this.entry(buf, pos, end, events);
      if (next < 0) break;
      pos = next;
    }
    return pos;
  }

  private entry(buf: Buffer, start: number, end: number, events: LogEvent[]): number {
    const head = buf[start]!;
    if (head !== 0x93 && head !== 0x94) return -1;
    let pos = start + 1;
    // the tag
    if (pos >= end) return -1;
    const t = buf[pos]!;
    let tagFrom: number;
    let tagLength: number;
    if (t >= 0xa0 && t <= 0xbf) {
      tagFrom = pos + 1;
      tagLength = t & 0x1f;
    } else if (t === 0xd9 && pos + 2 <= end) {
      tagFrom = pos + 2;
      tagLength = buf[pos + 1]!;
    } else if (t === 0xda && pos + 3 <= end) {
      tagFrom = pos + 3;
      tagLength = buf.readUInt16BE(pos + 1);
    } else if (t === 0xdb && pos + 5 <= end) {
      tagFrom = pos + 5;
      tagLength = buf.readUInt32BE(pos + 1);
    } else {
      return -1;
    }
    pos = tagFrom + tagLength;
    if (pos >= end) return -1;
    const tag = this.tagAt(buf, tagFrom, tagLength);
    if (tag === undefined) return -1;
    // the time: an EventTime, or whole seconds as an unsigned integer (other forms: the object path)
    let time: EventTime;
    const b = buf[pos]!;
    if (b === 0xd7) {
      if (pos + 10 > end || buf[pos + 1] !== 0x00) return -1;
      time = new EventTime(buf.readUInt32BE(pos + 2), buf.readUInt32BE(pos + 6));
      pos += 10;
    } else if (b <= 0x7f) {
      time = new EventTime(b, 0);
      pos += 1;
    } else if (b === 0xce && pos + 5 <= end) {
      time = new EventTime(buf.readUInt32BE(pos + 1), 0);
      pos += 5;
    } else {
      return -1;
    }
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
      let options: EventRecord | undefined;
      if (head === 0x94) {
        if (pos >= end) throw INCOMPLETE;
        const o = buf[pos]!;
        if (o === 0xc0) pos++;
        else if ((o >= 0x80 && o <= 0x8f) || o === 0xde || o === 0xdf) {
          json.text(',"options":');
          const optionsStart = pos;
          pos = json.value(buf, pos, end, 0);
          options = this.unpackr.unpack(buf.subarray(optionsStart, pos)) as EventRecord;
        } else return this.giveUp();
      }
      json.put(0x7d); // }
      json.put(0x0a);
      events.push(new EventWithLine(tag.tag, time, options, out.buf, json.lineStart, out.len, this.unpackr, buf, recordStart, recordEnd));
      return pos;
    } catch (error) {
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

  /** The tag and its JSON, from a few recently seen tags when the bytes match one (streams hold few tags). */
  private tagAt(buf: Buffer, from: number, length: number): KnownTag | undefined {
    const known = this.knownTags;
    for (let k = 0; k < known.length; k++) {
      const candidate = known[k]!;
      const bytes = candidate.bytes;
      if (bytes.length !== length) continue;
      let i = 0;
      while (i < length && buf[from + i] === bytes[i]) i++;
      if (i === length) return candidate;
    }
    const bytes = buf.subarray(from, from + length);
    if (!isUtf8(bytes)) return undefined; // decoders differ in how they replace bad bytes
    const tag = bytes.toString('utf8');
    const entry: KnownTag = { bytes: Buffer.from(bytes), tag, json: Buffer.from(JSON.stringify(tag)) };
    if (known.length >= MAX_KNOWN_TAGS) known.pop();
    known.unshift(entry);
    return entry;
  }
}

interface KnownTag {
  bytes: Buffer;
  tag: string;
  /** The tag as a JSON string, UTF-8. */
  json: Buffer;
}

const MAX_KNOWN_TAGS = 16;
