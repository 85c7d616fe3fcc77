import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import { execa, type ResultPromise } from 'execa';
import type { LogEvent } from '../../src/event/event.js';
import { MessageStreamDecoder } from '../../src/codec/msgpack-reader.js';
import { FrameScanner } from '../../src/protocol/frame.js';
import { LOGKIT_BIN } from '../helpers/logkit.js';

export interface RunningReceive {
  child: ResultPromise;
  /** The TCP port it listens on (0 for a Unix socket). */
  port: number;
  stderr(): string;
  /** Every event written to stdout so far (decoded from MessagePack). */
  events(): LogEvent[];
  /** Polls until at least n events were written (or the timeout passes); returns them. */
  waitForEvents(n: number, timeoutMs?: number): Promise<LogEvent[]>;
  /** Starts consuming stdout (when started with pausedStdout). */
  resumeStdout(): void;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | undefined>;
  pid: number;
}

/** Starts `logkit receive --bind 127.0.0.1:0 ...` and waits for its "listening on" line. */
export async function startReceive(t: ExecutionContext, args: readonly string[] = [], options: { bind?: string; stdout?: 'pipe' | 'ignore'; stdoutFile?: string; pausedStdout?: boolean } = {}): Promise<RunningReceive> {
  const child = execa(process.execPath, [LOGKIT_BIN, 'receive', '--bind', options.bind ?? '127.0.0.1:0', ...args], {
    reject: false,
    buffer: false,
    stdin: 'ignore',
    stdout: options.stdoutFile ? { file: options.stdoutFile } : (options.stdout ?? 'pipe'),
    env: { NO_COLOR: '', FORCE_COLOR: '' },
  });
  t.teardown(() => {
    child.kill('SIGKILL');
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const decoder = new MessageStreamDecoder();
  const events: LogEvent[] = [];
  const consume = () =>
    child.stdout?.on('data', (d: Buffer) => {
      for (const e of decoder.push(d)) events.push(e);
    });
  // paused explicitly: execa resumes (and discards) a stream nobody reads in flowing-null state
  if (options.pausedStdout) child.stdout?.pause();
  else consume();
  // generous: on a loaded machine several receive processes starting at once take a while
  const deadline = Date.now() + 60_000;
  while (!/listening on/.test(stderr)) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`receive did not start: ${stderr}`);
    await sleep(20);
  }
  const match = /listening on \S+?:\/\/\S*?:(\d+)/.exec(stderr);
  const port = match ? Number(match[1]) : 0;
  return {
    child,
    port,
    pid: child.pid!,
    stderr: () => stderr,
    events: () => events,
    resumeStdout: () => {
      consume();
      child.stdout?.resume();
    },
    async waitForEvents(n, timeoutMs = 30_000) {
      const end = Date.now() + timeoutMs;
      while (events.length < n && Date.now() < end) await sleep(20);
      return events;
    },
    async stop() {
      child.kill('SIGTERM');
      const result = await child;
      return result.exitCode;
    },
  };
}

/** A self-signed certificate for 127.0.0.1 (openssl), written to DIR/NAME.pem and DIR/NAME.key. */
export async function selfSignedCert(dir: string, name: string): Promise<{ cert: string; key: string }> {
  const cert = join(dir, `${name}.pem`);
  const key = join(dir, `${name}.key`);
  const r = await execa('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', `/CN=${name}`, '-addext', 'subjectAltName=IP:127.0.0.1'], { reject: false });
  if (r.exitCode !== 0) throw new Error(`openssl failed: ${r.stderr}`);
  return { cert, key };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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

  async waitForResponses(n: number, timeoutMs = 10_000): Promise<Buffer[]> {
    const end = Date.now() + timeoutMs;
    while (this.responses.length < n && !this.closed && Date.now() < end) await sleep(10);
    while (this.responses.length < n && Date.now() < end && !this.closed) await sleep(10);
    return this.responses;
  }

  async waitForClose(timeoutMs = 10_000): Promise<boolean> {
    const end = Date.now() + timeoutMs;
    while (!this.closed && Date.now() < end) await sleep(10);
    return this.closed;
  }

  destroy(): void {
    this.socket.destroy();
  }
}
