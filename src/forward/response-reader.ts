import { FrameScanner } from '../protocol/frame.js';

/** Bound on one server message: acks, HELO and PONG are tiny; anything bigger is garbage. */
export const MAX_RESPONSE_BYTES = 64 * 1024;

/**
 * Splits what a server sends back (HELO, PONG, `{ack}` / `{error}` maps — a MessagePack stream)
 * into complete messages, with the protocol layer's bounded, resumable FrameScanner. Throws a
 * ProtocolError on garbage or an oversize message, so the caller drops that connection.
 */
export class ResponseReader {
  private pending: Buffer = Buffer.alloc(0);
  private readonly scanner = new FrameScanner({ maxBytes: MAX_RESPONSE_BYTES, maxDepth: 8 });

  push(data: Buffer): Buffer[] {
    this.pending = this.pending.length === 0 ? data : Buffer.concat([this.pending, data]);
    const frames: Buffer[] = [];
    for (;;) {
      const length = this.scanner.scan(this.pending);
      if (length < 0) break;
      frames.push(this.pending.subarray(0, length));
      this.pending = this.pending.subarray(length);
    }
    return frames;
  }
}
