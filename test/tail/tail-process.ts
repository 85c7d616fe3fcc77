import { appendFile, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import { execa, type ResultPromise } from 'execa';
import { parseJSON } from '../../src/codec/ndjson.js';
import { LOGKIT_BIN, ROOT } from '../helpers/logkit.js';
import { waitFor } from '../helpers/wait.js';

/** The fixture that writes numbered lines while rotating the file. */
export const ROTATING_WRITER = join(ROOT, 'test', 'fixtures', 'rotating-writer.mjs');

export interface TailEvent {
  tag: string;
  time: string;
  record: Record<string, unknown>;
  options?: { src?: { id: string; off: number } };
}

/**
 * A running `logkit tail -o json …`, its output parsed as it arrives. Killed at test end.
 */
export class TailProcess {
  readonly child: ResultPromise;
  readonly events: TailEvent[] = [];
  stderr = '';
  private rest = '';

  constructor(t: ExecutionContext, args: readonly string[], cwd?: string) {
    this.child = execa(process.execPath, [LOGKIT_BIN, 'tail', '-o', 'json', ...args], {
      reject: false,
      cwd,
      env: { NO_COLOR: '', FORCE_COLOR: '' },
      buffer: false,
    });
    this.child.stdout!.setEncoding('utf8');
    this.child.stdout!.on('data', (text: string) => {
      const lines = (this.rest + text).split('\n');
      this.rest = lines.pop()!;
      for (const line of lines) this.events.push(parseJSON(line) as TailEvent);
    });
    this.child.stderr!.on('data', (text: Buffer) => (this.stderr += text.toString()));
    t.teardown(() => {
      this.child.kill('SIGKILL');
    });
  }

  messages(): string[] {
    return this.events.map((e) => String(e.record.message));
  }

  /** Polls until `condition` holds; fails with what was seen after `timeoutMs`, or at once if tail exits. */
  async waitFor(condition: () => boolean, timeoutMs = 30_000, what = 'condition'): Promise<void> {
    await waitFor(() => {
      if (this.child.exitCode !== null) throw new Error(`tail exited (${this.child.exitCode}) while waiting for ${what}; stderr: ${this.stderr}`);
      return condition();
    }, what, timeoutMs).catch((error: Error) => {
      throw error.message.startsWith('timed out') ? new Error(`${error.message}; ${this.events.length} events so far; stderr: ${this.stderr}`) : error;
    });
  }

  async waitForEvents(count: number, timeoutMs = 30_000): Promise<void> {
    await this.waitFor(() => this.events.length >= count, timeoutMs, `${count} events`);
  }

  /** SIGTERM, and the exit code. */
  async stop(): Promise<number | undefined> {
    this.child.kill('SIGTERM');
    const result = await this.child;
    return result.exitCode;
  }
}

/** How often each number 1..n occurs among the messages: lost and duplicated numbers. */
export function countNumbers(messages: readonly string[], first: number, total: number): { lost: number[]; duplicated: number[]; foreign: string[] } {
  const seen = new Uint8Array(total);
  const foreign: string[] = [];
  const duplicated: number[] = [];
  for (const message of messages) {
    const n = Number(message);
    if (!/^\d+$/.test(message) || n < first || n >= first + total) {
      foreign.push(message);
      continue;
    }
    if (seen[n - first]!++ > 0) duplicated.push(n);
  }
  const lost: number[] = [];
  for (let i = 0; i < total; i++) if (seen[i] === 0) lost.push(first + i);
  return { lost, duplicated, foreign };
}

/**
 * Waits until tail really follows: appends "ping" to `file` (one of its paths) until a ping
 * comes out. A file that tail found at start is read from its end, so a line written before
 * tail was up would otherwise be missed by the test, not by tail.
 */
export async function untilFollowing(tail: TailProcess, file: string, timeoutMs = 30_000): Promise<void> {
  await waitFor(async () => {
    if (tail.messages().includes('ping')) return true;
    await appendFile(file, 'ping\n');
    return false;
  }, `tail to follow ${file}; stderr: ${tail.stderr}`, timeoutMs, 200);
}

/** Whether process `pid` still holds `path` open after its deletion (Linux: /proc/PID/fd). */
export async function holdsDeleted(pid: number, path: string): Promise<boolean> {
  const fds = await readdir(`/proc/${pid}/fd`).catch(() => [] as string[]);
  for (const fd of fds) if ((await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '')) === `${path} (deleted)`) return true;
  return false;
}
