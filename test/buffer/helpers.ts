import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdir, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import type { ExecutionContext } from 'ava';
import { EventTime } from '../../src/event/event-time.js';
import type { LogEvent } from '../../src/event/event.js';
import { encodeEntries } from '../../src/codec/msgpack-writer.js';
import { MessageStreamDecoder } from '../../src/codec/msgpack-reader.js';
import { LOGKIT_BIN } from '../helpers/logkit.js';

/** Numbered events from one source, as tail would emit them: `options.src.off` just past line n. */
export function numbered(from: number, to: number, padding = 0): LogEvent[] {
  const pad = 'x'.repeat(padding);
  const events: LogEvent[] = [];
  for (let n = from; n < to; n++) {
    events.push({ tag: 'app.test', time: new EventTime(1700000000 + (n % 1000), n), record: { n, message: `line ${n}${pad}` }, options: { src: { id: 'file-1', off: (n + 1) * 100 } } });
  }
  return events;
}

export function encodeNumbered(from: number, to: number, padding = 0): Buffer {
  return encodeEntries(numbered(from, to, padding));
}

/** Decodes a child's stdout as it arrives (tolerating a cut at the end, as after kill -9). */
export class Collector {
  readonly numbers: number[] = [];
  error: Error | undefined;
  private readonly decoder = new MessageStreamDecoder();

  constructor(private readonly stream: Readable) {}

  resume(): void {
    this.stream.resume();
  }

  /** Resolves when the stream has ended (all output read). */
  async ended(): Promise<void> {
    if (this.stream.readableEnded) return;
    await new Promise((resolve) => this.stream.once('end', resolve));
  }

  /**
   * Starts decoding. `paused`: attach now but do not read yet — a stalled consumer. (Node resumes
   * a child's unread stdout once it exits; with our listener attached, nothing is lost then.)
   */
  start(paused = false): this {
    this.stream.on('data', (chunk: Buffer) => {
      if (this.error) return;
      try {
        const events = this.decoder.push(chunk);
        for (let i = 0; i < events.length; i++) this.numbers.push(events[i]!.record.n as number);
      } catch (error) {
        this.error = error as Error; // the test asserts on it
      }
    });
    if (paused) this.stream.pause();
    return this;
  }
}

/** Writes `payload` to a child's stdin in pieces; `accepted` counts the bytes the kernel has taken. */
export class Feeder {
  accepted = 0;
  done = false;
  constructor(
    private readonly stdin: Writable,
    private readonly payload: Buffer,
    private readonly pieceBytes = 16 * 1024,
  ) {}

  async run(end = true): Promise<void> {
    for (let at = 0; at < this.payload.length; at += this.pieceBytes) {
      const piece = this.payload.subarray(at, at + this.pieceBytes);
      await new Promise<void>((resolve, reject) => this.stdin.write(piece, (error) => (error ? reject(error) : resolve())));
      this.accepted += piece.length;
    }
    if (end) this.stdin.end();
    this.done = true;
  }
}

/** Chunk files in a buffer directory and their total size. */
export async function chunksIn(dir: string): Promise<{ names: string[]; bytes: number }> {
  const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => /^chunk-\d+\.lkc$/.test(n));
  let bytes = 0;
  for (const name of names) bytes += (await stat(join(dir, name)).catch(() => ({ size: 0 }))).size;
  return { names, bytes };
}

/** Every number in [0, total) present? Returns the missing ones and the duplicate count. */
export function audit(numbers: readonly number[], total: number): { missing: number[]; duplicates: number } {
  const seen = new Uint8Array(total);
  let duplicates = 0;
  for (const n of numbers) {
    if (seen[n]) duplicates++;
    seen[n] = 1;
  }
  const missing: number[] = [];
  for (let n = 0; n < total; n++) if (!seen[n]) missing.push(n);
  return { missing, duplicates };
}

/** A real size-limited filesystem: a tmpfs of `size` mounted on a fresh directory, unmounted in teardown. */
export async function smallTmpfs(t: ExecutionContext, parent: string, size: string): Promise<string> {
  const dir = join(parent, 'tmpfs');
  await mkdir(dir);
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]);
  t.teardown(() => {
    try {
      execFileSync('umount', ['-l', dir]);
    } catch {
      /* already gone */
    }
  });
  return dir;
}

/**
 * Starts `logkit ARGS` (the built CLI, as logkit() in test/helpers does) with plain pipes the test
 * controls: until a Collector starts reading stdout, nothing does, so the child meets a stalled
 * consumer exactly as it would in a shell pipeline. (execa reads a child's stdout itself.)
 */
export function spawnStage(t: ExecutionContext, args: readonly string[]): Stage {
  const child = spawn(process.execPath, [LOGKIT_BIN, ...args], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
  const stage: Stage = {
    child,
    stderr: '',
    // After the exit, and after stderr is read to its end (so assertions see every message).
    exited: Promise.all([
      new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal }))),
      new Promise((resolve) => child.stderr!.on('end', resolve)),
    ]).then(([status]) => status),
  };
  child.stderr!.on('data', (d: Buffer) => (stage.stderr += d.toString()));
  child.stdin!.on('error', () => {}); // a stage that exits early closes its stdin
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return stage;
}

export interface Stage {
  child: ChildProcess;
  stderr: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}
