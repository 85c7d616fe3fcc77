/**
 * The bytes received on a connection and not yet consumed, in one growable buffer: appending
 * copies only the new segment (amortized O(n) for a large request arriving in small segments,
 * where Buffer.concat per segment would be O(n²)), and consumed bytes are reclaimed by
 * compacting when the buffer would otherwise grow. Nothing is allocated before the first bytes,
 * and a buffer that grew large is let go once empty: a server with a thousand connections open,
 * or a thousand opened and closed a second, holds (and leaves to the garbage collector) only what
 * their requests need.
 */
export class ByteQueue {
  private buf: Buffer = EMPTY;
  private start = 0;
  private end = 0;

  /** `largestKept`: a buffer that grew beyond this is let go when emptied. */
  constructor(private readonly largestKept = 256 * 1024) {}

  /** Bytes of memory held (the buffer's size, not just the unconsumed part). */
  get capacity(): number {
    return this.buf.length;
  }

  get length(): number {
    return this.end - this.start;
  }

  /** The unconsumed bytes (a view, valid until the next append). */
  view(): Buffer {
    return this.buf.subarray(this.start, this.end);
  }

  append(chunk: Uint8Array): void {
    if (this.end + chunk.length > this.buf.length) {
      const live = this.end - this.start;
      if (live + chunk.length <= this.buf.length && this.start > 0) {
        this.buf.copy(this.buf, 0, this.start, this.end);
      } else {
        const grown = Buffer.allocUnsafe(Math.max(this.buf.length * 2, live + chunk.length, SMALLEST));
        this.buf.copy(grown, 0, this.start, this.end);
        this.buf = grown;
      }
      this.start = 0;
      this.end = live;
    }
    this.buf.set(chunk, this.end);
    this.end += chunk.length;
  }

  consume(n: number): void {
    this.start += n;
    if (this.start === this.end) {
      this.start = this.end = 0;
      // give back a buffer a huge request made us grow
      if (this.buf.length > this.largestKept) this.buf = EMPTY;
    }
  }

  clear(): void {
    this.start = this.end = 0;
    this.buf = EMPTY;
  }
}

const EMPTY = Buffer.alloc(0);
/** The first allocation: a trickle of small segments grows it by doubling. */
const SMALLEST = 4 * 1024;
