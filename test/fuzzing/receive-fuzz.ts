/**
 * The fuzzer of `logkit receive`, shared by the suite's reduced run (test/receive/fuzz.test.ts)
 * and the full one (test/fuzzing/receive-fuzz.mjs): random and mutated inputs thrown at real
 * receive processes over real sockets —
 *   framing:   valid requests of every mode with flipped, inserted or dropped bytes, truncated
 *              requests, huge declared lengths, deep nesting, unknown extensions, random bytes;
 *   gzip:      CompressedPackedForward with corrupted, truncated or bomb payloads in valid framing;
 *   handshake: mutated PINGs (right and wrong keys) against a --shared-key server.
 * Many inputs ride on one connection (it lives until its first fatal input), several connections at
 * once. Afterwards a valid client sends 100 events with an ack: they must come out exactly.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { gzipSync } from 'node:zlib';
import { EventTime } from '../../src/event/event-time.js';
import type { LogEvent } from '../../src/event/event.js';
import { MessageStreamDecoder } from '../../src/codec/msgpack-reader.js';
import { MsgpackWriter } from '../../src/codec/msgpack-writer.js';
import { encodeEntryStream, encodeForward, encodeMessage, encodePackedForward } from '../../src/protocol/encode-request.js';
import { FrameScanner } from '../../src/protocol/frame.js';
import { encodePing, parseHelo } from '../../src/protocol/handshake.js';
import { parseResponse } from '../../src/protocol/response.js';
import { LOGKIT_BIN } from '../helpers/logkit.js';
import { mulberry32 } from '../helpers/prng.js';
import { waitFor } from '../helpers/wait.js';

export interface FuzzOptions {
  /** Inputs to send in all (framing and gzip; handshakes add about 1 in 50 on top). */
  inputs: number;
  /** Stop sending once this much time has passed, whatever the count (ms). */
  maxMs: number;
  seed?: number;
  parallel?: number;
  /** Called now and then with the inputs sent so far. */
  progress?: (inputs: number) => void;
}

export interface FuzzReport {
  inputs: number;
  connections: number;
  seconds: number;
  /** Events the fuzzed receive wrote (stdout decoded as a MessagePack stream throughout). */
  eventsEmitted: number;
  /** Emitted tags that are not sanitized (must be 0). */
  unsanitizedTags: number;
  /** Peak RSS of each receive process (VmHWM, KiB): plain and shared-key. */
  peakRssKiB: { plain: number; secured: number };
  /** Both receive processes were still running when the fuzz ended. */
  survived: boolean;
  /** The valid client afterwards: its ack arrived, and its 100 events came out exactly, in order. */
  afterAck: boolean;
  afterExact: boolean;
  /** Exit statuses on SIGTERM (0 expected). */
  exitCodes: { plain: number | null; secured: number | null };
}


const TAGS = ['app', 'a.b.c', '../x', 'nul\u0000', 'line\n', 'x'.repeat(300), 'ünï', ''];
const SANITIZED_TAG = /^[A-Za-z0-9_:@+=~.-]{1,255}$/;
const BOMB = gzipSync(Buffer.alloc(8 << 20)); // 8 MiB of zeros in ~8 KiB

/** The input generators, driven by one seeded PRNG. */
class Inputs {
  private readonly random: () => number;
  constructor(seed: number) {
    this.random = mulberry32(seed);
  }

  chance(p: number): boolean {
    return this.random() < p;
  }

  int(n: number): number {
    return Math.floor(this.random() * n);
  }

  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }

  event(i: number): LogEvent {
    return { tag: this.pick(TAGS), time: new EventTime(this.int(2 ** 32), this.int(1e9)), record: { i, s: 'v'.repeat(this.int(40)), n: this.int(1e6) - 5e5, b: Buffer.from([this.int(256)]), l: [1, { k: null }] } };
  }

  valid(i: number): Buffer {
    const events = Array.from({ length: 1 + this.int(4) }, (_, j) => this.event(i * 10 + j));
    const options = this.chance(0.5) ? { chunk: `c${i}\n`, size: events.length } : undefined;
    switch (this.int(4)) {
      case 0:
        return encodeMessage(events[0]!, options);
      case 1:
        return encodeForward(this.pick(TAGS), events, options);
      case 2:
        return encodePackedForward(this.pick(TAGS), encodeEntryStream(events), options);
      default:
        return encodePackedForward(this.pick(TAGS), gzipSync(encodeEntryStream(events)), { ...options, compressed: 'gzip' });
    }
  }

  /** Valid framing around a damaged gzip payload: flipped bytes, cut short, or several members. */
  badGzip(i: number): Buffer {
    const events = Array.from({ length: 1 + this.int(20) }, (_, j) => this.event(i * 10 + j));
    const gz = gzipSync(encodeEntryStream(events));
    const payload = this.pick([
      () => this.mutate(gz),
      () => gz.subarray(0, this.int(gz.length)),
      () => Buffer.concat([gz, gzipSync(encodeEntryStream(events.slice(0, 1)))]),
      () => gzipSync(this.mutate(encodeEntryStream(events))),
    ])();
    return encodePackedForward(this.pick(TAGS), payload, { compressed: 'gzip', ...(this.chance(0.5) ? { chunk: `g${i}` } : {}) });
  }

  mutate(buf: Buffer): Buffer {
    const out = Buffer.from(buf);
    if (out.length === 0) return out;
    switch (this.int(4)) {
      case 0: // flip bytes
        for (let k = 1 + this.int(3); k > 0; k--) out[this.int(out.length)] = this.int(256);
        return out;
      case 1: { // drop a byte
        const at = this.int(out.length);
        return Buffer.concat([out.subarray(0, at), out.subarray(at + 1)]);
      }
      case 2: { // insert random bytes
        const at = this.int(out.length);
        return Buffer.concat([out.subarray(0, at), Buffer.from(Array.from({ length: 1 + this.int(4) }, () => this.int(256))), out.subarray(at)]);
      }
      default: // untouched
        return out;
    }
  }

  /** An input meant to end the connection, or the process if receive had a hole. */
  killer(): Buffer {
    switch (this.int(9)) {
      case 0:
        return Buffer.from([0xdb, 0xff, 0xff, 0xff, 0xf0]); // str32 of 4 GiB
      case 1:
        return Buffer.from([0xdd, 0x7f, 0xff, 0xff, 0xff, 0x01]); // array32 of 2^31 elements
      case 2:
        return Buffer.from([0xdf, 0xff, 0xff, 0xff, 0xff]); // map32 of 4 billion entries
      case 3:
        return Buffer.concat([Buffer.from([0x92, 0xa1, 0x61, 0xc6, 0x7f, 0xff, 0xff, 0xff]), Buffer.alloc(this.int(1000))]); // packed bin of 2 GiB
      case 4:
        return Buffer.alloc(1000 + this.int(100_000), 0x91); // deep nesting
      case 5:
        return this.valid(0).subarray(0, 1 + this.int(8)); // truncated, then the connection ends
      case 6: {
        const w = new MsgpackWriter();
        w.writeArrayHeader(3);
        w.writeString('bomb');
        w.writeBinHeader(BOMB.length);
        w.writeRaw(BOMB);
        w.writeMapHeader(1);
        w.writeString('compressed');
        w.writeString('gzip');
        return w.take();
      }
      case 7:
        return Buffer.from([0x93, 0xa1, 0x61, 0xd7, 0x00, 1, 2, 3, 4, 5, 6, 7, 8, 0xc7, 0x03, 0x05, 1, 2, 3]); // unknown ext as record
      default:
        return Buffer.from(Array.from({ length: 1 + this.int(300) }, () => this.int(256))); // random bytes
    }
  }
}

/** A receive child process whose stdout is decoded as it comes. */
class FuzzedReceive {
  readonly child: ChildProcess;
  port = 0;
  stderr = '';
  eventsEmitted = 0;
  unsanitizedTags = 0;
  /** Events with the tag the final check uses. */
  readonly after: LogEvent[] = [];

  constructor(args: readonly string[]) {
    this.child = spawn(process.execPath, [LOGKIT_BIN, 'receive', '--bind', '127.0.0.1:0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const decoder = new MessageStreamDecoder();
    this.child.stdout!.on('data', (d: Buffer) => {
      for (const e of decoder.push(d)) {
        this.eventsEmitted++;
        if (!SANITIZED_TAG.test(e.tag) || e.tag.includes('..')) this.unsanitizedTags++;
        if (e.tag === 'after.fuzz') this.after.push(e);
      }
    });
    // keep only the tail: a long fuzz logs a lot (rate-limited, but for hours)
    this.child.stderr!.on('data', (d: Buffer) => (this.stderr = (this.stderr + d.toString()).slice(-20_000)));
  }

  async started(): Promise<void> {
    const listening = /listening on tcp:\/\/127\.0\.0\.1:(\d+)/;
    await waitFor(() => {
      if (this.child.exitCode !== null) throw new Error(`receive did not start: ${this.stderr}`);
      return listening.test(this.stderr);
    }, 'receive to listen', 30_000).catch((error: Error) => {
      throw new Error(`${error.message}: ${this.stderr}`);
    });
    this.port = Number(listening.exec(this.stderr)![1]);
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  peakRssKiB(): number {
    try {
      return Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${this.child.pid}/status`, 'utf8'))?.[1] ?? 0);
    } catch {
      return 0;
    }
  }

  async stop(): Promise<number | null> {
    if (!this.running) return this.child.exitCode;
    const exited = new Promise<number | null>((resolve) => this.child.once('exit', (code) => resolve(code)));
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 30_000);
    const code = await exited;
    clearTimeout(timer);
    return code;
  }
}

/** Sends inputs on one connection, drains responses, resolves when the server has closed it. */
function session(port: number, inputs: Buffer[], onOpen?: (socket: Socket) => Promise<Buffer[]>): Promise<void> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const timer = setTimeout(() => socket.destroy(), 15_000);
    socket.on('error', () => {});
    socket.on('data', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve();
    });
    socket.on('connect', async () => {
      const extra = onOpen ? await onOpen(socket).catch(() => []) : [];
      for (const input of [...extra, ...inputs]) socket.write(input);
      socket.end();
    });
  });
}

/** After the fuzz: 100 events in one acked PackedForward request; true when the ack came back. */
function validClient(port: number, events: LogEvent[]): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const scanner = new FrameScanner({ maxBytes: 1 << 20, maxDepth: 16 });
    let pending = Buffer.alloc(0);
    const timer = setTimeout(() => done(false), 60_000);
    const done = (ok: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write(encodePackedForward('after.fuzz', encodeEntryStream(events), { chunk: 'final' })));
    socket.on('data', (d: Buffer) => {
      pending = Buffer.concat([pending, d]);
      const n = scanner.scan(pending);
      if (n < 0) return;
      const response = parseResponse(pending.subarray(0, n)) as { ack?: Buffer };
      done(response.ack?.toString() === 'final');
    });
  });
}

export async function fuzzReceive(options: FuzzOptions): Promise<FuzzReport> {
  const seed = options.seed ?? 20261121;
  const parallel = options.parallel ?? 8;
  const gen = new Inputs(seed);
  const limits = ['--max-chunk-bytes', String(1 << 20), '--max-decompressed-bytes', String(2 << 20)];
  const plain = new FuzzedReceive(limits);
  // no auth backoff: every fuzzed PING comes from 127.0.0.1 and must reach the handshake code
  const secured = new FuzzedReceive([...limits, '--shared-key', 'fuzz-key', '--max-auth-backoff', '0']);
  try {
    await Promise.all([plain.started(), secured.started()]);
    const started = Date.now();
    const inTime = () => Date.now() - started < options.maxMs;
    let inputs = 0;
    let connections = 0;
    let next = 0;
    let reported = 0;
    const PER_CONNECTION = 40;
    const framingWorker = async () => {
      while (inputs < options.inputs && inTime() && plain.running) {
        const batch: Buffer[] = [];
        // mostly valid requests with a few damaged ones: a connection lives until its first fatal input
        for (let k = 0; k < PER_CONNECTION; k++) {
          const roll = gen.int(100);
          batch.push(roll < 8 ? gen.mutate(gen.valid(next++)) : roll < 10 ? gen.badGzip(next++) : gen.valid(next++));
        }
        if (gen.chance(0.5)) batch.push(gen.killer());
        inputs += batch.length;
        connections++;
        await session(plain.port, batch);
        if (options.progress && inputs - reported >= 50_000) {
          reported = inputs;
          options.progress(inputs);
        }
      }
    };
    const handshakeWorker = async () => {
      while (inputs < options.inputs && inTime() && secured.running) {
        connections++;
        inputs += 2;
        await session(secured.port, [gen.mutate(gen.valid(next++))], async (socket) => {
          const helo = await new Promise<Buffer>((resolve) => socket.once('data', resolve));
          const ping = encodePing(parseHelo(helo), { sharedKey: gen.chance(0.5) ? 'fuzz-key' : 'bad', clientHostname: gen.pick(TAGS) });
          return [gen.chance(0.7) ? gen.mutate(ping.bytes) : gen.killer()];
        });
      }
    };
    await Promise.all([...Array.from({ length: parallel }, framingWorker), handshakeWorker()]);
    const seconds = (Date.now() - started) / 1000;
    const survived = plain.running && secured.running;

    const good: LogEvent[] = Array.from({ length: 100 }, (_, i) => ({ tag: 'after.fuzz', time: new EventTime(1700000000, i), record: { i } }));
    const afterAck = survived && (await validClient(plain.port, good));
    await waitFor(() => plain.after.length >= good.length, 'the valid events after the fuzzing', 30_000).catch(() => {});
    const afterExact =
      plain.after.length === good.length && plain.after.every((e, i) => e.time.nsec === i && e.record.i === i && Object.keys(e.record).length === 1);
    const peakRssKiB = { plain: plain.peakRssKiB(), secured: secured.peakRssKiB() };
    const exitCodes = { plain: await plain.stop(), secured: await secured.stop() };
    return {
      inputs,
      connections,
      seconds,
      eventsEmitted: plain.eventsEmitted,
      unsanitizedTags: plain.unsanitizedTags + secured.unsanitizedTags,
      peakRssKiB,
      survived,
      afterAck,
      afterExact,
      exitCodes,
    };
  } finally {
    plain.child.kill('SIGKILL');
    secured.child.kill('SIGKILL');
  }
}
