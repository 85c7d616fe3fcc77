/**
 * Fuzz: well over 100,000 random and mutated inputs thrown at a real `logkit receive` —
 * valid requests of every mode with flipped, inserted or dropped bytes, truncated requests, huge
 * declared lengths, deep nesting, gzip bombs, random bytes, broken handshakes. Many inputs ride on
 * one connection (a connection lives until its first fatal input), several connections at once.
 * receive must stay up, stay under a memory bound, keep its stdout a valid stream, and serve a
 * valid client correctly afterwards.
 */
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { gzipSync } from 'node:zlib';
import test from 'ava';
import { EventTime } from '../../src/event/event-time.js';
import type { LogEvent } from '../../src/event/event.js';
import { MsgpackWriter } from '../../src/codec/msgpack-writer.js';
import { encodeEntryStream, encodeForward, encodeMessage, encodePackedForward } from '../../src/protocol/encode-request.js';
import { encodePing, parseHelo } from '../../src/protocol/handshake.js';
import { parseResponse } from '../../src/protocol/response.js';
import { RawClient, startReceive } from './receive-helper.js';

/** Deterministic PRNG (mulberry32) so a failure can be replayed. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

const random = prng(20261121);
const int = (n: number) => Math.floor(random() * n);
const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
const TAGS = ['app', 'a.b.c', '../x', 'nul\u0000', 'line\n', 'x'.repeat(300), 'ünï', ''];

function randomEvent(i: number): LogEvent {
  return { tag: pick(TAGS), time: new EventTime(int(2 ** 32), int(1e9)), record: { i, s: 'v'.repeat(int(40)), n: int(1e6) - 5e5, b: Buffer.from([int(256)]), l: [1, { k: null }] } };
}

function validRequest(i: number): Buffer {
  const events = Array.from({ length: 1 + int(4) }, (_, j) => randomEvent(i * 10 + j));
  const options = random() < 0.5 ? { chunk: `c${i}\n`, size: events.length } : undefined;
  switch (int(4)) {
    case 0:
      return encodeMessage(events[0]!, options);
    case 1:
      return encodeForward(pick(TAGS), events, options);
    case 2:
      return encodePackedForward(pick(TAGS), encodeEntryStream(events), options);
    default:
      return encodePackedForward(pick(TAGS), gzipSync(encodeEntryStream(events)), { ...options, compressed: 'gzip' });
  }
}

function mutate(buf: Buffer): Buffer {
  const out = Buffer.from(buf);
  switch (int(4)) {
    case 0: // flip bytes
      for (let k = 1 + int(3); k > 0; k--) out[int(out.length)] = int(256);
      return out;
    case 1: // drop a byte
      return Buffer.concat([out.subarray(0, int(out.length)), out.subarray(int(out.length) + 1)]);
    case 2: // insert random bytes
    {
      const at = int(out.length);
      return Buffer.concat([out.subarray(0, at), Buffer.from(Array.from({ length: 1 + int(4) }, () => int(256))), out.subarray(at)]);
    }
    default: // untouched
      return out;
  }
}

const BOMB = gzipSync(Buffer.alloc(8 << 20)); // 8 MiB of zeros in ~8 KiB

function killer(): Buffer {
  switch (int(9)) {
    case 0:
      return Buffer.from([0xdb, 0xff, 0xff, 0xff, 0xf0]); // str32 of 4 GiB
    case 1:
      return Buffer.from([0xdd, 0x7f, 0xff, 0xff, 0xff, 0x01]); // array32 of 2^31 elements
    case 2:
      return Buffer.from([0xdf, 0xff, 0xff, 0xff, 0xff]); // map32 of 4 billion entries
    case 3:
      return Buffer.concat([Buffer.from([0x92, 0xa1, 0x61, 0xc6, 0x7f, 0xff, 0xff, 0xff]), Buffer.alloc(int(1000))]); // packed bin of 2 GiB
    case 4:
      return Buffer.alloc(1000 + int(100_000), 0x91); // deep nesting
    case 5:
      return validRequest(0).subarray(0, 1 + int(8)); // truncated, then the connection ends
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
      return Buffer.from(Array.from({ length: 1 + int(300) }, () => int(256))); // random bytes
  }
}

function rssKiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
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
      const extra = onOpen ? await onOpen(socket) : [];
      for (const input of [...extra, ...inputs]) socket.write(input);
      socket.end();
    });
  });
}

test('fuzz: 100,000+ hostile inputs; receive stays up, bounded, and correct afterwards', async (t) => {
  const args = ['--max-chunk-bytes', String(1 << 20), '--max-decompressed-bytes', String(2 << 20)];
  const receive = await startReceive(t, args);
  const secured = await startReceive(t, [...args, '--shared-key', 'fuzz-key']);
  const started = Date.now();
  let inputs = 0;
  let connections = 0;
  let maxRss = 0;
  const sample = setInterval(() => {
    maxRss = Math.max(maxRss, rssKiB(receive.pid), rssKiB(secured.pid));
  }, 50);
  t.teardown(() => clearInterval(sample));

  const PARALLEL = 8;
  const PER_CONNECTION = 40;
  const TARGET = 100_000;
  let next = 0;
  async function worker(): Promise<void> {
    while (inputs < TARGET) {
      const batch: Buffer[] = [];
      // mostly valid requests with a few mutated ones: a connection lives until its first fatal input
      for (let k = 0; k < PER_CONNECTION; k++) batch.push(random() < 0.1 ? mutate(validRequest(next++)) : validRequest(next++));
      if (random() < 0.5) batch.push(killer());
      inputs += batch.length;
      connections++;
      await session(receive.port, batch);
    }
  }
  // broken handshakes against the shared-key server
  async function handshakeWorker(): Promise<void> {
    for (let k = 0; k < 300; k++) {
      connections++;
      inputs += 2;
      await session(secured.port, [mutate(validRequest(k))], async (socket) => {
        const helo = await new Promise<Buffer>((resolve) => socket.once('data', resolve));
        const ping = encodePing(parseHelo(helo), { sharedKey: random() < 0.5 ? 'fuzz-key' : 'bad', clientHostname: pick(TAGS) });
        return [random() < 0.7 ? mutate(ping.bytes) : killer()];
      });
    }
  }
  await Promise.all([...Array.from({ length: PARALLEL }, worker), handshakeWorker()]);
  clearInterval(sample);
  const seconds = (Date.now() - started) / 1000;
  t.log(`${inputs} inputs on ${connections} connections in ${seconds.toFixed(1)} s; peak RSS ${(maxRss / 1024).toFixed(0)} MiB; ${receive.events().length} events emitted`);
  t.true(inputs >= 100_000);

  // still up, bounded, and serving correctly
  t.is(receive.child.exitCode, null);
  t.is(secured.child.exitCode, null);
  t.true(maxRss < 400 * 1024, `peak RSS ${maxRss} KiB`);
  const before = receive.events().length;
  const client = new RawClient(receive.port);
  await client.ready;
  const good: LogEvent[] = Array.from({ length: 100 }, (_, i) => ({ tag: 'after.fuzz', time: new EventTime(1700000000, i), record: { i } }));
  client.write(encodePackedForward('after.fuzz', encodeEntryStream(good), { chunk: 'final' }));
  const [response] = await client.waitForResponses(1, 30_000);
  t.deepEqual(parseResponse(response!), { ack: Buffer.from('final'), identities: true });
  const events = await receive.waitForEvents(before + 100, 30_000);
  t.deepEqual(events.slice(before).map((e) => [e.tag, e.time.nsec, e.record.i]), good.map((e) => [e.tag, e.time.nsec, e.record.i]));
  t.deepEqual(events.filter((e) => !/^[A-Za-z0-9_:@+=~.-]{1,255}$/.test(e.tag) || e.tag.includes('..')), [], 'every emitted tag is sanitized');
  client.destroy();
  t.is(await receive.stop(), 0);
  t.is(await secured.stop(), 0);
});
