import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import { EventTime } from '../../src/event/event-time.js';
import type { LogEvent } from '../../src/event/event.js';
import { MsgpackWriter } from '../../src/codec/msgpack-writer.js';
import { logkit } from '../helpers/logkit.js';
import { sleep } from '../helpers/wait.js';

/** Tags that a database must keep exactly: quotes, backslashes, SQL, unicode, tab and newline. */
export const SPECIAL_TAGS = [
  'app.web',
  'sp ace.and-dash_under',
  `quote'double"back\\slash`,
  'ünï.日本語.🚀',
  'tab\there.nl\nthere',
  'semi;DROP TABLE logs;--',
] as const;

/** 2026-11-27T23:59:00Z: 100,000 events (1 ms apart) run across midnight. */
export const BASE_SECONDS = 1795823940;

/**
 * Event i: seq i, a time that moves 1 ms per event with a nanosecond part that has digits below
 * the microsecond, a tag from SPECIAL_TAGS, a unicode message and a nested record.
 */
export function makeEvent(i: number, tags: readonly string[] = SPECIAL_TAGS): LogEvent {
  const ms = i;
  const sec = BASE_SECONDS + Math.floor(ms / 1000);
  const nsec = (ms % 1000) * 1_000_000 + ((i * 7919) % 1_000_000);
  return {
    tag: tags[i % tags.length]!,
    time: new EventTime(sec, nsec),
    record: {
      seq: i,
      message: `héllo wörld 🌍 #${i} "quoted" back\\slash\ttab`,
      level: i % 10 === 0 ? 'error' : 'info',
      nested: { list: [1, 'two', { three: 3.5 }], none: null, yes: true, deep: { deeper: { deepest: `${i}` } } },
    },
  };
}

export function makeEvents(from: number, count: number, tags?: readonly string[]): LogEvent[] {
  const events: LogEvent[] = [];
  for (let i = from; i < from + count; i++) events.push(makeEvent(i, tags));
  return events;
}

export function encode(events: readonly LogEvent[]): Buffer {
  const writer = new MsgpackWriter();
  for (const e of events) writer.writeEntry(e);
  return writer.take();
}

/** Writes `count` generated events as a MessagePack file and returns its path. */
export async function eventFile(dir: string, count: number, tags?: readonly string[]): Promise<string> {
  const path = join(dir, `events-${count}.msgpack`);
  await writeFile(path, encode(makeEvents(0, count, tags)));
  return path;
}

/** `time` truncated to microseconds, as `YYYY-MM-DDTHH:MM:SS.ffffff`. */
export function microsText(time: EventTime): string {
  return time.toISO().slice(0, 26);
}

export function requiredEnv(t: ExecutionContext, name: string): string {
  const value = process.env[name];
  if (!value) t.fail(`${name} is not set: run 'npm run test:all' (or eval "$(tools/test-env/start-clickhouse.sh)")`);
  return value ?? '';
}

/**
 * Runs `logkit store ARGS` with a pipe for stdin, feeds `total` events in chunks of `chunk`
 * (pausing `pauseMs` between chunks), starting `midway` once half has been fed (feeding goes on meanwhile); then closes stdin.
 */
export async function feedStore(
  args: readonly string[],
  total: number,
  options: { chunk: number; pauseMs: number; midway: () => Promise<void> },
): Promise<Awaited<ReturnType<typeof logkit>>> {
  const child = logkit(['store', ...args], { stdin: 'pipe' });
  let midway: Promise<void> | undefined;
  let exited = false;
  void child.finally(() => (exited = true));
  child.stdin!.on('error', () => {}); // EPIPE once a store that stopped has exited
  for (let from = 0; from < total && !exited; from += options.chunk) {
    const bytes = encode(makeEvents(from, Math.min(options.chunk, total - from)));
    if (!child.stdin!.write(bytes)) {
      await Promise.race([new Promise((resolve) => child.stdin!.once('drain', resolve)), child.catch(() => {})]);
    }
    // the disruption runs while events keep flowing
    if (!midway && from + options.chunk >= total / 2) midway = options.midway();
    await sleep(options.pauseMs);
  }
  await midway;
  child.stdin!.end();
  return child;
}

/** Events `seqs` (as makeEvent) carrying an identity: options.src = {id, off: offsetOf(seq)}. */
export function sourcedEvents(seqs: readonly number[], id: string, offsetOf: (seq: number) => number = (seq) => seq): LogEvent[] {
  return seqs.map((seq) => ({ ...makeEvent(seq), options: { src: { id, off: offsetOf(seq) } } }));
}

/** seq from, from + 1, …, to - 1. */
export function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, i) => from + i);
}

/** The same numbers in a scrambled (but fixed) order: resends do not come in order. */
export function scrambled(seqs: readonly number[]): number[] {
  return seqs.map((seq, i) => ({ seq, key: (i * 7919) % 1009 })).sort((a, b) => a.key - b.key).map((x) => x.seq);
}

/**
 * Runs `logkit store ARGS --stats` over `events` (a MessagePack file in `dir`); returns the
 * result and the duplicates the store reported dropping.
 */
export async function storeEvents(dir: string, args: readonly string[], events: readonly LogEvent[]): Promise<{ exitCode: number | undefined; stderr: string; duplicates: number }> {
  const path = join(dir, `input-${Date.now()}-${Math.random().toString(36).slice(2)}.msgpack`);
  await writeFile(path, encode(events));
  const r = await logkit(['store', ...args, '--stats'], { inputFile: path });
  const stderr = String(r.stderr);
  const duplicates = Number(/duplicates=(\d+)/.exec(stderr)?.[1] ?? NaN);
  return { exitCode: r.exitCode, stderr, duplicates };
}
