import { isUtf8 } from 'node:buffer';
import { EventTime } from '../event/event-time.js';

/** A tag seen recently: its bytes, its string, and its JSON (UTF-8). */
export interface KnownTag {
  bytes: Buffer;
  tag: string;
  json: Buffer;
}

const MAX_KNOWN_TAGS = 16;

/**
 * Reads the head of a Message-mode entry `[tag, time, record, options?]` from its bytes, for the
 * byte paths: an array of 3 or 4, a string tag (valid UTF-8), and a time that is an EventTime or
 * whole seconds as an unsigned integer. Anything else (another shape, a float time, a bad entry)
 * is left to the object path: `read` returns false.
 */
export class EntryHeadReader {
  /** 3 or 4 elements. */
  count = 0;
  tag!: KnownTag;
  time!: EventTime;
  /** Where the record starts. */
  recordStart = 0;
  private readonly knownTags: KnownTag[] = [];

  read(buf: Buffer, start: number, end: number): boolean {
    const head = buf[start]!;
    if (head !== 0x93 && head !== 0x94) return false;
    this.count = head & 0x0f;
    let pos = start + 1;
    if (pos >= end) return false;
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
      return false;
    }
    pos = tagFrom + tagLength;
    if (pos >= end) return false;
    const tag = this.tagAt(buf, tagFrom, tagLength);
    if (tag === undefined) return false;
    const b = buf[pos]!;
    if (b === 0xd7) {
      if (pos + 10 > end || buf[pos + 1] !== 0x00) return false;
      this.time = new EventTime(buf.readUInt32BE(pos + 2), buf.readUInt32BE(pos + 6));
      pos += 10;
    } else if (b <= 0x7f) {
      this.time = new EventTime(b, 0);
      pos += 1;
    } else if (b === 0xce && pos + 5 <= end) {
      this.time = new EventTime(buf.readUInt32BE(pos + 1), 0);
      pos += 5;
    } else {
      return false;
    }
    this.tag = tag;
    this.recordStart = pos;
    return true;
  }

  /** The tag, from a few recently seen tags when the bytes match one (streams hold few tags). */
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
