/**
 * Splits a byte stream into text lines a chunk at a time: each chunk is decoded once, up to its
 * last newline, so a multi-byte character cut between chunks is never mangled. `\r\n` endings
 * lose their `\r`. A line longer than `maxLineBytes` is cut there and the rest of it skipped, so
 * memory stays bounded; `truncated` counts the cuts.
 */
export class LineSplitter {
  private rest: Buffer | undefined;
  /** Inside an over-long line whose kept part is in `rest`: drop bytes until its newline. */
  private skipping = false;
  truncated = 0;

  constructor(private readonly maxLineBytes = 1024 * 1024) {}

  push(chunk: Buffer): string[] {
    const last = chunk.lastIndexOf(0x0a);
    if (last < 0) {
      this.hold(chunk);
      return [];
    }
    let lines: string[] = [];
    let from = 0;
    if (this.skipping) {
      lines.push(this.takeRest());
      this.skipping = false;
      from = chunk.indexOf(0x0a) + 1;
    }
    if (from <= last) {
      const body = chunk.subarray(from, last);
      const text = (this.rest ? Buffer.concat([this.rest, body]) : body).toString('utf8');
      this.rest = undefined;
      const split = text.split('\n');
      lines = lines.length === 0 ? split : lines.concat(split);
    }
    this.hold(chunk.subarray(last + 1));
    return this.clean(lines);
  }

  /** The unterminated last line, if any. */
  end(): string[] {
    if (!this.rest || this.rest.length === 0) return [];
    this.skipping = false;
    return this.clean([this.takeRest()]);
  }

  private clean(lines: string[]): string[] {
    const max = this.maxLineBytes;
    for (let i = 0; i < lines.length; i++) {
      let line = lines[i]!;
      if (line.charCodeAt(line.length - 1) === 13) line = lines[i] = line.slice(0, -1);
      if (line.length * 3 > max && Buffer.byteLength(line) > max) {
        lines[i] = Buffer.from(line).subarray(0, max).toString('utf8');
        this.truncated++;
      }
    }
    return lines;
  }

  private takeRest(): string {
    const text = this.rest ? this.rest.toString('utf8') : '';
    this.rest = undefined;
    return text;
  }

  private hold(bytes: Buffer): void {
    if (bytes.length === 0 || this.skipping) return;
    const held = this.rest ? this.rest.length : 0;
    if (held + bytes.length > this.maxLineBytes) {
      const keep = bytes.subarray(0, this.maxLineBytes - held);
      this.rest = this.rest ? Buffer.concat([this.rest, keep]) : Buffer.from(keep);
      this.skipping = true;
      this.truncated++;
      return;
    }
    this.rest = this.rest ? Buffer.concat([this.rest, bytes]) : Buffer.from(bytes);
  }
}
