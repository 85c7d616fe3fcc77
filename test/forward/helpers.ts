import type { ExecutionContext } from 'ava';
import type { ResultPromise } from 'execa';
import { encodeEntries } from '../../src/codec/msgpack-writer.js';
import { EventTime } from '../../src/event/event-time.js';
import type { LogEvent } from '../../src/event/event.js';
import { logkit } from '../helpers/logkit.js';
import { waitFor } from '../helpers/wait.js';

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
