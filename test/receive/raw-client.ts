import { connect, type Socket } from 'node:net';
import { FrameScanner } from '../../src/protocol/frame.js';
import { waitFor } from '../helpers/wait.js';

/** A raw protocol client: write bytes, read back complete msgpack responses. */
export class RawClient {
  readonly socket: Socket;
  private pending = Buffer.alloc(0);
  private readonly scanner = new FrameScanner({ maxBytes: 1 << 20, maxDepth: 16 });
  readonly responses: Buffer[] = [];
  closed = false;
  readonly ready: Promise<void>;

  constructor(port: number, host = '127.0.0.1', socket?: Socket) {
    this.socket = socket ?? connect(port, host);
    this.socket.on('error', () => {});
    this.ready = new Promise((resolve) => {
      this.socket.once('connect', () => resolve());
      this.socket.once('secureConnect', () => resolve());
      this.socket.once('close', () => resolve());
    });
    this.socket.on('data', (d: Buffer) => {
      this.pending = Buffer.concat([this.pending, d]);
      let n: number;
      while ((n = this.scanner.scan(this.pending)) >= 0) {
        this.responses.push(Buffer.from(this.pending.subarray(0, n)));
        this.pending = this.pending.subarray(n);
      }
    });
    this.socket.on('close', () => (this.closed = true));
  }

  write(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  /** Waits for n responses, or the connection's close, or the timeout (the test asserts what came). */
  async waitForResponses(n: number, timeoutMs = 10_000): Promise<Buffer[]> {
    await waitFor(() => this.responses.length >= n || this.closed, `${n} responses`, timeoutMs, 10).catch(() => {});
    return this.responses;
  }

  /** Waits for the server to close the connection; false if it did not within the timeout. */
  async waitForClose(timeoutMs = 10_000): Promise<boolean> {
    await waitFor(() => this.closed, 'the connection to close', timeoutMs, 10).catch(() => {});
    return this.closed;
  }

  destroy(): void {
    this.socket.destroy();
  }
}
