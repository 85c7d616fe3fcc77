/**
 * When stdout is slower than the senders, receive stops reading its sockets instead of growing
 * its memory: with nobody reading receive's stdout, a sender can push only a bounded amount
 * before TCP pushes back; receive's RSS stays bounded; once stdout is read again, every event
 * arrives.
 */
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import test from 'ava';
import { EventTime } from '../../src/event/event-time.js';
import { encodeEntryStream, encodePackedForward } from '../../src/protocol/encode-request.js';
import { startReceive } from '../helpers/receive.js';
import { sleep, waitForSteady } from '../helpers/wait.js';

const rssMiB = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;

test('a stalled stdout stalls the senders (TCP back pressure), memory stays bounded, nothing is lost', async (t) => {
  const receive = await startReceive(t, [], { pausedStdout: true });
  const PER_REQUEST = 1000;
  const REQUESTS = 600; // 600,000 events, ~38 MiB of requests
  const request = (r: number) =>
    encodePackedForward(
      'bp',
      encodeEntryStream(Array.from({ length: PER_REQUEST }, (_, i) => ({ tag: 'bp', time: new EventTime(1700000000, i), record: { r, i, pad: 'x'.repeat(40) } }))),
      { chunk: `bp-${r}` },
    );
  const requestBytes = request(0).length;
  const socket = connect(receive.port, '127.0.0.1');
  socket.on('data', () => {});
  await new Promise((resolve) => socket.once('connect', resolve));
  let sentRequests = 0;
  let stop = false;
  const sending = (async () => {
    for (let r = 0; r < REQUESTS && !stop; r++) {
      if (!socket.write(request(r))) await new Promise((resolve) => socket.once('drain', resolve));
      sentRequests++;
    }
  })();

  // stdout is not read: let the sender push as hard as it can for a while
  let peak = 0;
  for (let k = 0; k < 30; k++) {
    await sleep(100);
    peak = Math.max(peak, rssMiB(receive.pid));
  }
  const accepted = sentRequests * requestBytes - socket.writableLength;
  t.log(`while stdout stalled: sender handed over ${(accepted / 1048576).toFixed(1)} MiB of ${((REQUESTS * requestBytes) / 1048576).toFixed(0)} MiB; receive peak RSS ${peak.toFixed(0)} MiB`);
  t.true(sentRequests < REQUESTS, 'the sender is held back');
  t.true(accepted < 40 * 1048576, `accepted ${accepted} bytes while stdout was stalled`);
  t.true(peak < 200, `receive RSS ${peak} MiB`);

  // read stdout again: everything flows and arrives, in order, once
  receive.resumeStdout();
  await sending;
  const events = await receive.waitForEvents(REQUESTS * PER_REQUEST, 50_000);
  t.is(events.length, REQUESTS * PER_REQUEST);
  let ordered = true;
  for (let r = 0; r < REQUESTS && ordered; r += 37) {
    const e = events[r * PER_REQUEST + 999]!;
    ordered = e.record.r === r && e.record.i === 999;
  }
  t.true(ordered);
  socket.destroy();
});

test('a large request (200,000 events, gzip and plain) is decoded a slice at a time and acked once, after its last event', async (t) => {
  const receive = await startReceive(t);
  const { gzipSync } = await import('node:zlib');
  const { RawClient } = await import('./raw-client.js');
  const { parseResponse } = await import('../../src/protocol/response.js');
  const N = 200_000;
  const entries = encodeEntryStream(Array.from({ length: N }, (_, i) => ({ tag: 'big', time: new EventTime(1700000000, i), record: { i, pad: 'y'.repeat(30) } })));
  const client = new RawClient(receive.port);
  await client.ready;
  let peak = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, rssMiB(receive.pid))), 50);
  t.teardown(() => clearInterval(sampler));
  client.write(encodePackedForward('big', entries, { chunk: 'plain' }));
  client.write(encodePackedForward('big', gzipSync(entries), { chunk: 'gzip', compressed: 'gzip' }));
  const responses = await client.waitForResponses(2, 50_000);
  clearInterval(sampler);
  t.deepEqual(responses.map((r) => parseResponse(r)), [{ ack: Buffer.from('plain'), identities: true }, { ack: Buffer.from('gzip'), identities: true }]);
  const events = await receive.waitForEvents(2 * N);
  t.is(events.length, 2 * N);
  t.true(events.every((e, k) => e.record.i === k % N && e.time.nsec === k % N));
  t.log(`request of ${(entries.length / 1048576).toFixed(1)} MiB; receive peak RSS ${peak.toFixed(0)} MiB`);
  t.true(peak < 300, `peak RSS ${peak} MiB`);
  client.destroy();
});

test('SIGTERM with a stdout that never drains ends within a bounded time, status 75, saying why', async (t) => {
  const receive = await startReceive(t, [], { pausedStdout: true });
  const socket = connect(receive.port, '127.0.0.1');
  socket.on('error', () => {});
  socket.on('data', () => {});
  await new Promise((resolve) => socket.once('connect', resolve));
  const entries = encodeEntryStream(Array.from({ length: 1000 }, (_, i) => ({ tag: 'stuck', time: new EventTime(1700000000, i), record: { i, pad: 'z'.repeat(60) } })));
  for (let r = 0; r < 200; r++) socket.write(encodePackedForward('stuck', entries, { chunk: `s${r}` }));
  // receive has taken all it will: stdout is full, and what the sender still queues stops shrinking
  await waitForSteady(() => socket.writableLength, 'what the sender still queues', { intervalMs: 300, accept: (queued) => queued > 0 });
  const started = Date.now();
  process.kill(receive.pid, 'SIGTERM'); // not child.kill: execa would follow with SIGKILL after 5 s
  const result = await receive.child;
  const seconds = (Date.now() - started) / 1000;
  t.is(result.exitCode, 75);
  t.true(seconds < 25, `${seconds} s`);
  t.regex(receive.stderr(), /stdout did not drain within 10 s of SIGTERM; unwritten events were not acknowledged/);
  socket.destroy();
});
