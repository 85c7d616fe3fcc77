import { createServer, type Socket } from 'node:net';
import test from 'ava';
import { Unpackr } from 'msgpackr/unpack';
import { EventTime } from '../../src/event/event-time.js';
import type { LogEvent } from '../../src/event/event.js';
import { FrameScanner } from '../../src/protocol/frame.js';
import { readIdentities } from '../../src/protocol/identity-option.js';
import { createInnerUnpackr, parseRequest } from '../../src/protocol/request.js';
import { encodeAckForId } from '../../src/protocol/response.js';
import { startForward } from '../forward/helpers.js';
import { startReceive } from '../helpers/receive.js';
import { waitFor } from '../helpers/wait.js';

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
