import { isUtf8 } from 'node:buffer';

/**
 * A line's text: a string when its bytes are valid UTF-8, otherwise the bytes themselves (a
 * Buffer, written as MessagePack bin / NDJSON {"$base64"}), so nothing is mangled.
 */
export type LineText = string | Buffer;

/** The default line limit of every reader of text lines. */
export const DEFAULT_MAX_LINE_BYTES = 1024 * 1024;

/** The lines split from one chunk, as parallel arrays (no object per line). */
export class LineBatch {
  texts: LineText[] = [];
  /** File offset just past each line's newline: where reading resumes after it. */
  ends: number[] = [];
  /** Indexes of lines cut at --max-line-bytes. */
  truncated: number[] = [];

  get length(): number {
    return this.texts.length;
  }

  clear(): void {
    this.texts = [];
    this.ends = [];
    this.truncated = [];
  }
}

/**
 * Splits a file's bytes into lines, a chunk at a time, knowing each line's end offset.
 *
 * The fast path decodes everything up to a chunk's last newline with one toString and one
 * split; for pure ASCII the offsets follow from string lengths. Only a chunk holding invalid
 * UTF-8 is split line by line, so the valid lines stay strings and the invalid ones stay bytes.
 * `\n` and `\r\n` both end a line. A line longer than `maxLineBytes` is cut there (at a character
 * boundary) and flagged; its remaining bytes are skipped without being held, so memory stays
 * bounded by the line limit plus one chunk.
 */
export class ByteLineSplitter {
  /** Bytes of the unfinished last line (at most maxLineBytes). */
  private held: Buffer | undefined;
  /** Inside an over-long line: its kept part is `held`; drop the rest up to its newline. */
  private skipping = false;
  /** File offset where the unfinished line starts. */
  private heldStart = 0;

  constructor(
    private readonly maxLineBytes: number,
    /** File offset of the next byte pushed. */
    public pos = 0,
  ) {}

  /** Offset up to which every line has been handed out: the unfinished line starts here. */
  get lineStart(): number {
    return this.held || this.skipping ? this.heldStart : this.pos;
  }

  get holding(): boolean {
    return this.held !== undefined || this.skipping;
  }

  /** Forgets any unfinished line and continues at `pos` (after truncation or a switch of file). */
  reset(pos: number): void {
    this.held = undefined;
    this.skipping = false;
    this.pos = pos;
  }

  push(chunk: Buffer, out: LineBatch): void {
    const base = this.pos;
    let from = 0;
    if (this.holding) {
      const nl = chunk.indexOf(0x0a);
      if (nl < 0) {
        this.hold(chunk);
        this.pos += chunk.length;
        return;
      }
      let bytes: Buffer;
      if (this.skipping) bytes = this.held ?? Buffer.alloc(0);
      else bytes = this.held ? Buffer.concat([this.held, chunk.subarray(0, nl)]) : chunk.subarray(0, nl);
      this.emitBytes(bytes, base + nl + 1, this.skipping, out);
      this.held = undefined;
      this.skipping = false;
      from = nl + 1;
    }
    const last = chunk.lastIndexOf(0x0a);
    if (last >= from) {
      this.split(chunk.subarray(from, last), base + from, out);
      from = last + 1;
    }
    if (from < chunk.length) {
      this.heldStart = base + from;
      this.hold(chunk.subarray(from));
    }
    this.pos += chunk.length;
  }

  /** Hands out the unfinished line (flush timeout, end of input); its end is the current offset. */
  flush(out: LineBatch): void {
    if (!this.holding) return;
    this.emitBytes(this.held ?? Buffer.alloc(0), this.pos, this.skipping, out);
    this.held = undefined;
    this.skipping = false;
  }

  private hold(bytes: Buffer): void {
    if (this.skipping) return;
    const held = this.held ? this.held.length : 0;
    if (held + bytes.length > this.maxLineBytes) {
      const keep = bytes.subarray(0, this.maxLineBytes - held);
      this.held = this.held ? Buffer.concat([this.held, keep]) : Buffer.from(keep);
      this.skipping = true;
      return;
    }
    // a copy: the chunk's buffer is reused for the next read
    this.held = this.held ? Buffer.concat([this.held, bytes]) : Buffer.from(bytes);
  }

  /** `body`: complete lines without the final newline, starting at file offset `offset`. */
  private split(body: Buffer, offset: number, out: LineBatch): void {
    if (!isUtf8(body)) {
      this.splitBytewise(body, offset, out);
      return;
    }
    const text = body.toString('utf8');
    const lines = text.split('\n');
    const ascii = text.length === body.length;
    const max = this.maxLineBytes;
    const { texts, ends } = out;
    let end = offset;
    for (let i = 0; i < lines.length; i++) {
      let line = lines[i]!;
      end += (ascii ? line.length : Buffer.byteLength(line)) + 1;
      if (line.charCodeAt(line.length - 1) === 13) line = line.slice(0, -1);
      if (line.length > max / 3 && Buffer.byteLength(line) > max) {
        line = cutUtf8(Buffer.from(line), max).toString('utf8');
        out.truncated.push(texts.length);
      }
      texts.push(line);
      ends.push(end);
    }
  }

  private splitBytewise(body: Buffer, offset: number, out: LineBatch): void {
    let start = 0;
    for (;;) {
      const nl = body.indexOf(0x0a, start);
      const stop = nl < 0 ? body.length : nl;
      this.emitBytes(body.subarray(start, stop), offset + stop + 1, false, out);
      if (nl < 0) return;
      start = nl + 1;
    }
  }

  private emitBytes(bytes: Buffer, end: number, truncated: boolean, out: LineBatch): void {
    let line = bytes;
    if (line.length > 0 && line[line.length - 1] === 13) line = line.subarray(0, line.length - 1);
    if (line.length > this.maxLineBytes) {
      line = cutUtf8(line, this.maxLineBytes);
      truncated = true;
    } else if (truncated) {
      // cut while held, possibly inside a character that continued in a later chunk
      line = withoutPartialChar(line);
    }
    if (truncated) out.truncated.push(out.texts.length);
    out.texts.push(isUtf8(line) ? line.toString('utf8') : Buffer.from(line));
    out.ends.push(end);
  }
}

/** The first `max` bytes, backed off to a UTF-8 character boundary when the bytes are text. */
export function cutUtf8(bytes: Buffer, max: number): Buffer {
  if (bytes.length <= max) return bytes;
  let cut = max;
  // a continuation byte at the cut means a character straddles it: keep it whole or not at all
  for (let back = 0; back < 3 && cut > 0 && (bytes[cut]! & 0xc0) === 0x80; back++) cut--;
  return bytes.subarray(0, (bytes[cut]! & 0xc0) === 0x80 ? max : cut);
}

/** Drops an incomplete UTF-8 sequence at the end of a cut line (bytes that are not text stay as they are). */
export function withoutPartialChar(bytes: Buffer): Buffer {
  const n = bytes.length;
  for (let back = 1; back <= 3 && back <= n; back++) {
    const b = bytes[n - back]!;
    if ((b & 0xc0) === 0x80) continue; // a continuation byte: look further back for the lead
    const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return need > back ? bytes.subarray(0, n - back) : bytes;
  }
  return bytes;
}
