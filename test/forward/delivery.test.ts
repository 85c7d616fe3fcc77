import test from 'ava';
import { createServer, type Socket } from 'node:net';
import { logkit } from '../helpers/logkit.js';
import { encode, indexes, numberedEvents, startForward } from './helpers.js';
import { freePort } from '../helpers/net.js';
import { startReceive } from '../helpers/receive.js';
import { sleep, waitFor, waitForSteady } from '../helpers/wait.js';

/** A deliberately broken server: accepts connections and reads everything, never acknowledges. */
async function silentServer(t: import('ava').ExecutionContext): Promise<{ port: number; bytes: () => number }> {
  let bytes = 0;
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('data', (data) => (bytes += data.length));
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    for (const socket of sockets) socket.destroy();
    server.close();
  });
  return { port: (server.address() as { port: number }).port, bytes: () => bytes };
}

test('chunks a server never acknowledges are resent to another server after --ack-timeout', async (t) => {
  const silent = await silentServer(t);
  const receiver = await startReceive(t);
  const events = numberedEvents(0, 2000);
  const forward = await logkit(
    ['forward', `127.0.0.1:${silent.port}`, `127.0.0.1:${receiver.port}`, '--ack-timeout', '1', '--chunk-bytes', '2000', '--heartbeat', 'none', '--stats'],
    { input: encode(events) },
  );
  t.is(forward.exitCode, 0, String(forward.stderr));
  t.true(silent.bytes() > 0, 'the silent server got chunks first');
  t.regex(String(forward.stderr), /no acknowledgement within 1 s; \d+ unacknowledged chunks will be resent/);
  t.regex(String(forward.stderr), /retries=[1-9]/);
  await waitFor(() => indexes(receiver.events).size === 2000, 'every event at the receiver');
  t.is(receiver.events.length, 2000, 'a chunk the silent server swallowed is delivered once to the receiver');
});

test('while the only server is down, forward holds at most --max-pending-bytes and stops reading; nothing is lost when it comes up', async (t) => {
  const port = await freePort();
  const forward = startForward(t, [`127.0.0.1:${port}`, '--max-pending-bytes', '200000', '--retry-max-interval', '0.3', '--chunk-bytes', '20000']);
  // Write 4 MB of events without waiting: the pipe must stall once forward stops reading.
  const total = 40_000;
  let written = 0;
  const writing = (async () => {
    for (let i = 0; i < total; i += 1000) {
      await forward.send(numberedEvents(i, 1000));
      written = i + 1000;
    }
  })();
  // Wait until the pipe stalls: nothing more written for a second.
  await waitForSteady(() => written, 'what forward takes from stdin', { intervalMs: 1000, timeoutMs: 40_000, accept: (n) => n > 0 });
  t.true(written < total / 2, `stdin stalled after ${written} of ${total} events (back pressure)`);
  const stats = await forward.stats();
  const held = Number(/pending_bytes=(\d+)/.exec(stats)![1]);
  t.true(held < 200_000 + 100_000, `held ${held} bytes`);
  const receiver = await startReceive(t, [], { port });
  await writing;
  const { exitCode } = await forward.end();
  t.is(exitCode, 0, forward.stderr());
  await waitFor(() => receiver.events.length >= total, 'every event after the server came up');
  t.is(indexes(receiver.events).size, total);
});

test('SIGTERM: forward sends what it holds, waits for the acks and exits 0', async (t) => {
  const receiver = await startReceive(t);
  // A long flush interval: the events sit in a partly filled chunk until SIGTERM flushes them.
  // Full chunks go at once; the rest waits. (Full chunks arriving also tell us forward is running.)
  const forward = startForward(t, [`127.0.0.1:${receiver.port}`, '--flush-interval', '60', '--flush-mode', 'interval', '--chunk-bytes', '2000', '--stats', '--stats-interval', '0.2']);
  await forward.send(numberedEvents(0, 300));
  await waitFor(() => receiver.events.length > 0, 'the full chunks');
  await sleep(200); // not a wait for something: the window in which the partly filled chunk must stay held
  t.true(receiver.events.length < 300, 'a partly filled chunk is held');
  await waitFor(() => forward.stderr().includes('events='), 'periodic counters');
  forward.process.kill('SIGTERM');
  const result = await forward.process;
  t.is(result.exitCode, 0, forward.stderr());
  await waitFor(() => receiver.events.length >= 300, 'the held events');
  t.is(indexes(receiver.events).size, 300);
  const statsLines = forward.stderr().split('\n').filter((line) => line.startsWith('logkit forward: stats ('));
  t.true(statsLines.length >= 2, 'periodic counters, then the final ones');
  t.regex(statsLines.at(-1)!, /^logkit forward: stats \(exit\) events=300 chunks=\d+ acked_chunks=\d+ acked_events=300 bytes=\d+ retries=0 rejected_events=0 pending_chunks=0 pending_events=0 pending_bytes=0 servers: 127\.0\.0\.1:\d+=closed chunks=\d+ acked=\d+ bytes=\d+ failures=0$/);
});

test('no server at the end of input: exit 69 naming how many events were not delivered', async (t) => {
  const port = await freePort();
  const result = await logkit(['forward', `127.0.0.1:${port}`, '--drain-timeout', '1'], { input: encode(numberedEvents(0, 123)) });
  t.is(result.exitCode, 69);
  t.regex(String(result.stderr), new RegExp(`127\\.0\\.0\\.1:${port} unavailable: connect ECONNREFUSED`));
  t.regex(String(result.stderr), /123 events in 1 chunks could not be delivered/);
});

test('UDP heartbeats: a server that stops answering is taken out, and back in when it answers', async (t) => {
  const a = await startReceive(t);
  const b = await startReceive(t);
  const forward = startForward(t, [`127.0.0.1:${a.port}`, `127.0.0.1:${b.port}`, '--heartbeat', 'udp', '--heartbeat-interval', '0.3', '--retry-max-interval', '0.5', '--chunk-bytes', '300']);
  await forward.send(numberedEvents(0, 200));
  await waitFor(() => a.events.length > 0 && b.events.length > 0, 'traffic to both');
  // SIGSTOP: the process hangs, its sockets stay open; only the heartbeat can tell.
  a.child.kill('SIGSTOP');
  t.teardown(() => a.child.kill('SIGCONT'));
  await waitFor(async () => /127\.0\.0\.1:\d+=down/.test(await forward.stats()) && forward.stderr().includes('heartbeats (udp) missed'), 'A taken out');
  await forward.send(numberedEvents(200, 300));
  const atB = (): number => [...indexes(b.events)].filter((i) => i >= 200).length;
  await waitFor(() => atB() === 300, 'the new events at B while A hangs');
  a.child.kill('SIGCONT');
  await waitFor(async () => (await forward.stats()).match(/=up/g)?.length === 2, 'A back in');
  const { exitCode } = await forward.end();
  t.is(exitCode, 0, forward.stderr());
  await waitFor(() => indexes([...a.events, ...b.events]).size === 500, 'everything delivered');
});

test('bad arguments are usage errors', async (t) => {
  const bad = await logkit(['forward', 'host:99999'], { input: '' });
  t.is(bad.exitCode, 64);
  t.regex(String(bad.stderr), /bad port/);
  const noKey = await logkit(['forward', 'host:1', '--username', 'u'], { input: '' });
  t.is(noKey.exitCode, 64);
  t.regex(String(noKey.stderr), /need --shared-key/);
  const interval = await logkit(['forward', 'host:1', '--flush-interval', '0'], { input: '' });
  t.is(interval.exitCode, 64);
});

test('a server that rejects chunks as too large: forward cuts them in halves until they fit, and every event is delivered', async (t) => {
  const receiver = await startReceive(t, ['--max-chunk-bytes', '10000']);
  const result = await logkit(['forward', `127.0.0.1:${receiver.port}`, '--chunk-bytes', '100000', '--retry-max-interval', '0.1', '--drain-timeout', '60'], {
    input: encode(numberedEvents(0, 3000)),
  });
  t.is(result.exitCode, 0, String(result.stderr));
  const stderr = String(result.stderr);
  t.regex(stderr, /refused a chunk of \d+ events 2 times \(the server rejected a chunk: request of \d+ bytes or more exceeds the limit of 10000 bytes\); sending it in halves/);
  await waitFor(() => indexes(receiver.events).size === 3000, 'every event');
});
