import { readdir, readFile } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import test from 'ava';
import { Unpackr } from 'msgpackr/unpack';
import { EventTime } from '../../src/event/event-time.js';
import type { LogEvent } from '../../src/event/event.js';
import { FrameScanner } from '../../src/protocol/frame.js';
import { readIdentities } from '../../src/protocol/identity-option.js';
import { createInnerUnpackr, parseRequest } from '../../src/protocol/request.js';
import { encodeAckForId } from '../../src/protocol/response.js';
import { CHUNK_NAME } from '../../src/buffer/chunk-file.js';
import { encodeEntries } from '../../src/codec/msgpack-writer.js';
import { startForward } from '../forward/helpers.js';
import { logkit, tempDir } from '../helpers/logkit.js';
import { freePort } from '../helpers/net.js';
import { startReceive } from '../helpers/receive.js';
import { startTcpProxy } from '../helpers/tcp-proxy.js';
import { waitFor } from '../helpers/wait.js';
import { aggregatorStarter, storedSeqs } from './helpers.js';

/** Lines of two files as tail emits them (options.src = file identity + offset), and some events without identity. */
function tailedEvents(count: number): LogEvent[] {
  return Array.from({ length: count }, (_, i) => ({
    tag: 'app.id',
    time: new EventTime(1_700_000_000 + i, 0),
    record: { i, msg: `line ${i}` },
    ...(i % 10 === 9 ? {} : { options: { src: { id: i % 2 ? 'dev:ino:odd' : 'dev:ino:even', off: 1000 + i * 57 } } }),
  }));
}

for (const compress of ['none', 'gzip']) {
  test(`forward --compress ${compress} → receive: each event arrives with its own identity in options.src; events without one get the chunk id and their index`, async (t) => {
    const receiver = await startReceive(t);
    const forward = startForward(t, [`127.0.0.1:${receiver.port}`, '--compress', compress]);
    const sent = tailedEvents(3000);
    await forward.send(sent);
    t.is((await forward.end()).exitCode, 0, forward.stderr());
    await waitFor(() => receiver.events.length >= sent.length, 'every event', 30_000);
    let wrong = 0;
    const chunkIdentities = new Set<string>();
    for (const event of receiver.events) {
      const i = event.record.i as number;
      const src = event.options?.src as { id: string; off: number };
      const expected = sent[i]!.options?.src as { id: string; off: number } | undefined;
      if (expected) {
        if (src?.id !== expected.id || src.off !== expected.off) wrong++;
      } else {
        if (!src?.id.startsWith('chunk:')) wrong++;
        else chunkIdentities.add(`${src.id}/${src.off}`);
      }
    }
    t.is(wrong, 0, 'identities restored');
    t.is(chunkIdentities.size, 300, 'the events without identity got distinct chunk identities');
  });
}

/**
 * A server that acknowledges like Fluentd (no logkit mark) and records each chunk's identity
 * option; `closeAfterAck`: it closes each connection once it has acknowledged a chunk on it.
 */
async function fluentdLike(t: import('ava').ExecutionContext, closeAfterAck = false): Promise<{ port: number; chunks: Array<{ carried: boolean; size: number }>; connections: number }> {
  const chunks: Array<{ carried: boolean; size: number }> = [];
  const unpackr: Unpackr = createInnerUnpackr();
  const result = { port: 0, chunks, connections: 0 };
  const server = createServer((socket: Socket) => {
    result.connections++;
    const scanner = new FrameScanner({ maxBytes: 64 << 20, maxDepth: 64 });
    let pending = Buffer.alloc(0);
    let ended = false;
    socket.on('data', (data: Buffer) => {
      if (ended) return; // closing: what comes now is neither recorded nor acknowledged (forward resends it)
      pending = Buffer.concat([pending, data]);
      let n: number;
      while ((n = scanner.scan(pending)) >= 0) {
        const request = parseRequest(pending.subarray(0, n), unpackr)!;
        pending = pending.subarray(n);
        const carried = request.identities !== undefined && Array.isArray(readIdentities(unpackr.unpack(request.identities), request.size!));
        chunks.push({ carried, size: request.size! });
        if (request.chunk) socket.write(encodeAckForId(request.chunk.subarray(1).toString('latin1')));
        if (closeAfterAck) {
          ended = true;
          socket.end();
          return;
        }
      }
    });
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => server.close());
  result.port = (server.address() as { port: number }).port;
  return result;
}

for (const [mode, expectFirst, expectLater] of [
  ['auto', true, false],
  ['on', true, true],
  ['off', false, false],
] as const) {
  test(`--identities ${mode}: towards a server whose acks lack the logkit mark (Fluentd, Fluent Bit), the first chunk ${expectFirst ? 'carries' : 'does not carry'} identities, later ones ${expectLater ? 'do' : 'do not'}`, async (t) => {
    const server = await fluentdLike(t);
    const forward = startForward(t, [`127.0.0.1:${server.port}`, '--identities', mode]);
    const sent = tailedEvents(40);
    await forward.send(sent.slice(0, 20));
    await waitFor(() => server.chunks.length >= 1, 'the first chunk', 20_000);
    // its acknowledgement, which says whether the server restores identities, must have reached
    // forward before the next events are sent (on a loaded machine it can take longer than a flush)
    await waitFor(async () => /acked_chunks=[1-9]/.test(await forward.stats()), 'forward to have the first acknowledgement', 20_000, 50);
    await forward.send(sent.slice(20));
    t.is((await forward.end()).exitCode, 0, forward.stderr());
    t.true(server.chunks.length >= 2);
    t.is(server.chunks[0]!.carried, expectFirst);
    if (expectLater) {
      // events without identity go in chunks of their own (forward routes by source), which have nothing to carry
      const bare = server.chunks.filter((c) => !c.carried).reduce((sum, c) => sum + c.size, 0);
      t.is(bare, sent.filter((e) => e.options === undefined).length, JSON.stringify(server.chunks));
    } else {
      t.true(server.chunks.slice(1).every((c) => !c.carried), JSON.stringify(server.chunks));
    }
    t.is(server.chunks.reduce((sum, c) => sum + c.size, 0), 40);
  });
}

test('--identities auto: what the first acknowledgement of a server said holds across reconnections (a Fluentd gets identities only before its first ack, not again on each new connection)', async (t) => {
  const server = await fluentdLike(t, true);
  const forward = startForward(t, [`127.0.0.1:${server.port}`, '--identities', 'auto']);
  const sent = tailedEvents(60);
  for (let i = 0; i < 3; i++) {
    await forward.send(sent.slice(i * 20, i * 20 + 20));
    // the server acknowledges, then closes: chunks after its first ack go on new connections
    await waitFor(() => server.chunks.reduce((sum, c) => sum + c.size, 0) >= 20 * (i + 1), `the server to have ${20 * (i + 1)} events`, 20_000);
  }
  t.is((await forward.end()).exitCode, 0, forward.stderr());
  t.true(server.connections >= 3, `${server.connections} connections`);
  t.true(server.chunks[0]!.carried);
  t.true(server.chunks.slice(1).every((c) => !c.carried), JSON.stringify(server.chunks));
  t.is(server.chunks.reduce((sum, c) => sum + c.size, 0), 60);
});

test('--no-ack: auto sends no identities (no acknowledgement can tell that the server is logkit), on sends them', async (t) => {
  for (const [mode, carried] of [['auto', false], ['on', true]] as const) {
    const server = await fluentdLike(t);
    const forward = startForward(t, [`127.0.0.1:${server.port}`, '--no-ack', '--identities', mode]);
    const sent = tailedEvents(40).filter((e) => e.options !== undefined);
    await forward.send(sent);
    t.is((await forward.end()).exitCode, 0, forward.stderr());
    await waitFor(() => server.chunks.reduce((sum, c) => sum + c.size, 0) >= sent.length, `the server to have ${sent.length} events`);
    t.true(server.chunks.every((c) => c.carried === carried), `${mode}: ${JSON.stringify(server.chunks)}`);
  }
});

// A chunk cut in halves (poison-isolation.ts) after a server stored it and failed before its
// acknowledgement left: the halves are new chunks with new ids, so only their events' identities
// let the store recognise what it has. They used to go without them (receive then stamped each
// half's events `chunk:<half id>/index`) and the store took all of them a second time.
test('a chunk the aggregator stored, then cut in halves after two lost acknowledgements: the halves carry their events\' identities and the store keeps each event once', async (t) => {
  const dir = await tempDir(t);
  const port = await freePort();
  const start = aggregatorStarter(t, port, dir);
  await start();
  // the first two answers (acknowledgements of the chunk, which receive has made durable) never
  // reach forward: the connection is cut instead, twice with the chunk alone in flight, so forward cuts it
  let answers = 0;
  const proxy = await startTcpProxy(t, port, { cutOnResponse: () => ++answers <= 2 });
  const sent = tailedEvents(100).map((event, i) => ({ ...event, options: { src: { id: 'dev:ino:split', off: 1000 + i * 57 } } }));
  const forward = await logkit(['forward', `127.0.0.1:${proxy.port}`, '--retry-max-interval', '0.1'], { input: encodeEntries(sent) });
  t.is(forward.exitCode, 0, String(forward.stderr));
  t.is(proxy.cut, 2);
  t.regex(String(forward.stderr), /refused a chunk of 100 events 2 times .*sending it in halves of 50 and 50/);

  // every buffered chunk committed by the store (receive deletes it then): the store has all it will have
  const buffer = join(dir, 'rbuf');
  await waitFor(async () => (await readdir(buffer)).every((name) => !CHUNK_NAME.test(name)), 'the store to commit every buffered chunk', 30_000);
  const seqs = await storedSeqs(dir);
  t.is(new Set(seqs).size, 100, 'nothing lost');
  t.is(seqs.length - 100, 0, 'duplicates in the store');
  const stored = (await readFile(join(dir, 'out', 'app.id.ndjson'), 'utf8')).split('\n').filter(Boolean);
  const wrong = stored.filter((line) => {
    const event = JSON.parse(line) as { record: { i: number }; options?: { src?: { id: string; off: number } } };
    return event.options?.src?.id !== 'dev:ino:split' || event.options.src.off !== 1000 + event.record.i * 57;
  });
  t.deepEqual(wrong, [], 'every stored event has its own identity');
});
