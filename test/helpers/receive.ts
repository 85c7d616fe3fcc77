import type { ExecutionContext } from 'ava';
import type { ResultPromise } from 'execa';
import { MessageStreamDecoder } from '../../src/codec/msgpack-reader.js';
import type { LogEvent } from '../../src/event/event.js';
import { logkit } from './logkit.js';
import { waitFor } from './wait.js';

/** A running `logkit receive`, its MessagePack output decoded as it arrives. */
export interface Receiver {
  child: ResultPromise;
  pid: number;
  /** The TCP port it listens on (0 for a Unix socket). */
  port: number;
  /** Every event written to stdout so far, in order. */
  events: LogEvent[];
  /** When each event was decoded from stdout (performance.now()), same order as `events`. */
  arrivals: number[];
  stderr(): string;
  /** Waits until at least n events were written (or the timeout passes: the test asserts the count); returns them. */
  waitForEvents(n: number, timeoutMs?: number): Promise<LogEvent[]>;
  /** Starts reading stdout (when started with pausedStdout: a consumer that stalled until now). */
  resumeStdout(): void;
  /** Sends `signal` (SIGTERM by default) and returns the exit status. */
  stop(signal?: NodeJS.Signals): Promise<number | undefined>;
}

export interface ReceiveStart {
  /** 127.0.0.1:`port` (to start one again on the same port); a free port by default. */
  port?: number;
  /** --bind as given (a Unix socket, 0.0.0.0:0), instead of 127.0.0.1:`port`. */
  bind?: string;
  stdout?: 'pipe' | 'ignore';
  /** Standard output to this file instead of the test. */
  stdoutFile?: string;
  /** Attach to stdout but read nothing until resumeStdout(): a stalled consumer. */
  pausedStdout?: boolean;
}

/** Starts the real `logkit receive ARGS` (MessagePack to stdout) and waits for its "listening on" line. */
export async function startReceive(t: ExecutionContext, args: readonly string[] = [], options: ReceiveStart = {}): Promise<Receiver> {
  const bind = options.bind ?? `127.0.0.1:${options.port ?? 0}`;
  const child = logkit(['receive', '--bind', bind, '--output', 'msgpack', ...args], {
    buffer: false,
    stdin: 'ignore',
    stdout: options.stdoutFile ? { file: options.stdoutFile } : (options.stdout ?? 'pipe'),
  });
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const decoder = new MessageStreamDecoder();
  const events: LogEvent[] = [];
  const arrivals: number[] = [];
  const consume = () =>
    child.stdout?.on('data', (d: Buffer) => {
      const now = performance.now();
      for (const e of decoder.push(d)) {
        events.push(e);
        arrivals.push(now);
      }
    });
  // paused explicitly: execa resumes (and discards) a stream nobody reads in flowing-null state
  if (options.pausedStdout) child.stdout?.pause();
  else consume();
  // generous: on a loaded machine several receive processes starting at once take a while
  await waitFor(() => {
    if (child.exitCode !== null) throw new Error(`logkit receive exited (${child.exitCode}): ${stderr}`);
    return /listening on/.test(stderr);
  }, `logkit receive listening on ${bind}`, 60_000);
  const match = /listening on \S+?:\/\/\S*?:(\d+)/.exec(stderr);
  return {
    child,
    pid: child.pid!,
    port: match ? Number(match[1]) : 0,
    events,
    arrivals,
    stderr: () => stderr,
    resumeStdout: () => {
      consume();
      child.stdout?.resume();
    },
    async waitForEvents(n, timeoutMs = 30_000) {
      await waitFor(() => events.length >= n, `${n} events`, timeoutMs).catch(() => {});
      return events;
    },
    async stop(signal = 'SIGTERM') {
      // process.kill, not child.kill: execa would follow a SIGTERM with SIGKILL after 5 s
      if (child.exitCode === null) process.kill(child.pid!, signal);
      return (await child).exitCode;
    },
  };
}
