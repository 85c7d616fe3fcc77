import { execFile } from 'node:child_process';
import { createServer, connect } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { ExecutionContext } from 'ava';
import type { ResultPromise } from 'execa';
import { MessageStreamDecoder } from '../../src/codec/msgpack-reader.js';
import { encodeEntries } from '../../src/codec/msgpack-writer.js';
import { EventTime } from '../../src/event/event-time.js';
import type { LogEvent } from '../../src/event/event.js';
import { logkit } from '../helpers/logkit.js';

/** An ephemeral port that was free a moment ago (the kernel picks it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `condition` every 25 ms until it holds or `timeoutMs` passes (then throws with `what`). */
export async function waitFor(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** A running `logkit receive`, its events decoded from stdout as they arrive. */
export interface Receiver {
  port: number;
  process: ResultPromise;
  events: LogEvent[];
  /** When each event was decoded from receive's stdout (performance.now()), same order as `events`. */
  arrivals: number[];
  stderr: () => string;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** Starts the real `logkit receive` on 127.0.0.1:`port` and waits until it accepts connections. */
export async function startReceive(t: ExecutionContext, args: readonly string[] = [], port?: number): Promise<Receiver> {
  const chosen = port ?? (await freePort());
  const child = logkit(['receive', '--bind', `127.0.0.1:${chosen}`, '--output', 'msgpack', ...args], { buffer: false, stdin: 'ignore' });
  const decoder = new MessageStreamDecoder();
  const receiver: Receiver = {
    port: chosen,
    process: child,
    events: [],
    arrivals: [],
    stderr: () => stderr,
    kill: async (signal = 'SIGTERM') => {
      child.kill(signal);
      await child;
    },
  };
  let stderr = '';
  child.stderr!.on('data', (data: Buffer) => (stderr += data.toString()));
  child.stdout!.on('data', (data: Buffer) => {
    const events = decoder.push(data);
    const now = performance.now();
    for (const event of events) {
      receiver.events.push(event);
      receiver.arrivals.push(now);
    }
  });
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  await waitFor(async () => {
    if (child.exitCode !== null) throw new Error(`logkit receive exited (${child.exitCode}): ${stderr}`);
    return canConnect(chosen);
  }, `logkit receive on port ${chosen}`);
  return receiver;
}

/** Events with varied content: unicode, nesting, big integers, bytes, nanosecond times. */
export function sampleEvents(count: number, tag = 'app.test'): LogEvent[] {
  return Array.from({ length: count }, (_, i) => ({
    tag: i % 7 === 0 ? `${tag}.seven` : tag,
    time: new EventTime(1_700_000_000 + Math.floor(i / 10), (i * 7919) % 1_000_000_000),
    record: {
      i,
      msg: i % 5 === 0 ? `héllo wörld ✓ 日本 ${i}` : `event number ${i}`,
      nested: { list: [i, i * 2, 'x'], ok: i % 2 === 0, none: null },
      big: 5_000_000_000 + i,
      ...(i % 11 === 0 ? { bytes: new Uint8Array([0, 255, i & 0xff]) } : {}),
    },
  }));
}

export function encode(events: readonly LogEvent[]): Buffer {
  return encodeEntries(events);
}

/** Events keyed by record.i, for comparisons independent of arrival order. */
export function byIndex(events: readonly LogEvent[]): Map<number, LogEvent> {
  return new Map(events.map((e) => [Number(e.record.i), e]));
}

/** Compares what arrived to what was sent: every event exactly once, tag, time and record intact. */
export function assertSameEvents(t: ExecutionContext, received: readonly LogEvent[], sent: readonly LogEvent[]): void {
  t.is(received.length, sent.length, 'event count');
  const got = byIndex(received);
  t.is(got.size, sent.length, 'no duplicates');
  let mismatches = 0;
  for (const event of sent) {
    const other = got.get(Number(event.record.i));
    const same =
      other !== undefined &&
      other.tag === event.tag &&
      other.time.sec === event.time.sec &&
      other.time.nsec === event.time.nsec &&
      JSON.stringify(normalize(other.record)) === JSON.stringify(normalize(event.record));
    if (!same && mismatches++ < 3) t.log('mismatch', event, other);
  }
  t.is(mismatches, 0, 'events differing from what was sent');
}

function normalize(value: unknown): unknown {
  if (value instanceof Uint8Array) return { bytes: Buffer.from(value).toString('hex') };
  if (typeof value === 'bigint') return value.toString();
  if (Array.isArray(value)) return value.map(normalize);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, normalize(v)]));
  return value;
}

const run = promisify(execFile);

/** A self-signed certificate for 127.0.0.1 and localhost, made with openssl. */
export async function selfSignedCert(dir: string): Promise<{ cert: string; key: string }> {
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  await run('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2',
    '-subj', '/CN=logkit-test', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
  ]);
  return { cert, key };
}

/** A running `logkit forward` fed through its stdin pipe. */
export interface ForwardProcess {
  process: ResultPromise;
  stderr: () => string;
  /** Writes events to forward's stdin; resolves once the pipe took them. */
  send(events: readonly LogEvent[]): Promise<void>;
  /** Asks for the counters (SIGUSR1) and returns the line. */
  stats(): Promise<string>;
  /** Closes stdin and waits for the exit. */
  end(): Promise<{ exitCode?: number }>;
}

export function startForward(t: ExecutionContext, args: readonly string[]): ForwardProcess {
  const child = logkit(['forward', ...args], { buffer: false, stdin: 'pipe', stdout: 'ignore' });
  let stderr = '';
  child.stderr!.on('data', (data: Buffer) => (stderr += data.toString()));
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  return {
    process: child,
    stderr: () => stderr,
    send: (events) =>
      new Promise((resolve, reject) => child.stdin!.write(encode(events), (error) => (error ? reject(error) : resolve()))),
    stats: async () => {
      const before = stderr.length;
      const hasLine = (): boolean => stderr.slice(before).split('\n').slice(0, -1).some((line) => line.includes('events='));
      // Ask again every 2 s: a loaded machine may still be starting forward (no handler yet).
      for (let attempt = 0; attempt < 10 && !hasLine(); attempt++) {
        child.kill('SIGUSR1');
        await waitFor(hasLine, 'a stats line', 2000).catch(() => {});
      }
      const line = stderr.slice(before).split('\n').find((l) => l.includes('events='));
      if (!line) throw new Error(`no stats line from forward; stderr: ${stderr}`);
      return line;
    },
    end: async () => {
      child.stdin!.end();
      const result = await child;
      return { exitCode: result.exitCode };
    },
  };
}

/** The state forward reports for a server (`up`, `down`, `connecting`) in a stats line. */
export function serverState(statsLine: string, port: number): string | undefined {
  return new RegExp(`127\\.0\\.0\\.1:${port}(?:\\(standby\\))?=(\\w+)`).exec(statsLine)?.[1];
}

/** Events numbered from `from` (record.i), for runs sent in phases. */
export function numberedEvents(from: number, count: number, tag = 'app.phase'): LogEvent[] {
  return Array.from({ length: count }, (_, k) => ({
    tag,
    time: new EventTime(1_700_000_000 + from + k, k),
    record: { i: from + k, msg: `event ${from + k}` },
  }));
}

export function indexes(events: readonly LogEvent[]): Set<number> {
  return new Set(events.map((e) => Number(e.record.i)));
}
