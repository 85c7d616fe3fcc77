import test, { type ExecutionContext } from 'ava';
import { createHash } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { logkit, tempDir } from '../helpers/logkit.js';
import { MsgpackWriter } from '../../src/codec/msgpack-writer.js';
import { encodeMessage } from '../../src/protocol/encode-request.js';
import { EventTime } from '../../src/event/event-time.js';
import { HEARTBEAT_MISSES } from '../../src/forward/heartbeat.js';
import { RawClient } from '../receive/raw-client.js';
import { startFluentBitPeer } from './fluent-bit-peer.js';
import { encode, indexes, numberedEvents, startForward } from './helpers.js';
import { selfSignedCert } from '../helpers/net.js';
import { startReceive } from '../helpers/receive.js';
import { startTcpProxy } from '../helpers/tcp-proxy.js';
import { sleep, waitFor } from '../helpers/wait.js';

// forward against peers as they really speak the protocol: a stand-in for Fluent Bit's in_forward
// (test/forward/fluent-bit-peer.ts, after its source) and the real logkit receive.

test('--shared-key logs in to Fluent Bit\'s in_forward (its check_ping accepts only a str salt): every event delivered', async (t) => {
  const peer = await startFluentBitPeer(t, { sharedKey: 'fb-secret' });
  const events = numberedEvents(0, 3000);
  const forward = await logkit(['forward', `127.0.0.1:${peer.port}`, '--shared-key', 'fb-secret', '--self-hostname', 'collector-1', '--drain-timeout', '5'], { input: encode(events) });
  t.is(forward.exitCode, 0, String(forward.stderr));
  t.deepEqual(peer.errors, [], 'nothing in the peer\'s log');
  t.is(indexes(peer.events).size, 3000);
});

test('a refused handshake says so, with the reason the server gave (PONG) or that it closed before PONG', async (t) => {
  // logkit receive (as Fluentd) answers a wrong key with a failure PONG carrying the reason
  const receiver = await startReceive(t, ['--shared-key', 'right']);
  const wrong = await logkit(['forward', `127.0.0.1:${receiver.port}`, '--shared-key', 'wrong', '--drain-timeout', '1'], { input: encode(numberedEvents(0, 10)) });
  t.is(wrong.exitCode, 69);
  t.regex(String(wrong.stderr), new RegExp(`handshake refused by 127\\.0\\.0\\.1:${receiver.port}: authentication failed: shared_key mismatch`));

  // Fluent Bit closes without a PONG (a wrong key, or a PING its check_ping refuses)
  const peer = await startFluentBitPeer(t, { sharedKey: 'right' });
  const closed = await logkit(['forward', `127.0.0.1:${peer.port}`, '--shared-key', 'wrong', '--drain-timeout', '1'], { input: encode(numberedEvents(0, 10)) });
  t.is(closed.exitCode, 69);
  t.regex(String(closed.stderr), new RegExp(`handshake refused by 127\\.0\\.0\\.1:${peer.port}: connection closed by server before PONG`));
  t.notRegex(String(closed.stderr), /unavailable: connection closed by server;/);
  t.true(peer.errors.includes('shared_key mismatch'));
});

test('receive accepts a PING salt of either type, bin or str, and verifies it over its bytes', async (t) => {
  const receiver = await startReceive(t, ['--shared-key', 'k', '--self-hostname', 'agg']);
  for (const saltType of ['bin', 'str'] as const) {
    const client = new RawClient(receiver.port);
    const [helo] = await client.waitForResponses(1);
    // HELO: ["HELO", {nonce: bin(16), auth: bin(0), keepalive: true}]; the nonce's bytes follow "nonce" (a5 6e 6f 6e 63 65) and its c4 10 header
    const at = helo!.indexOf(Buffer.from([0xa5, ...Buffer.from('nonce')])) + 6;
    t.deepEqual(helo!.subarray(at, at + 2), Buffer.from([0xc4, 0x10]));
    const nonce = helo!.subarray(at + 2, at + 18);
    const salt = Buffer.from('0123456789abcdef');
    const digest = createHash('sha512').update(salt).update('client-a').update(nonce).update('k').digest('hex');
    const ping = Buffer.concat([
      Buffer.from([0x96, 0xa4]), Buffer.from('PING'),
      Buffer.from([0xa8]), Buffer.from('client-a'),
      Buffer.from(saltType === 'bin' ? [0xc4, 16] : [0xb0]), salt,
      Buffer.from([0xd9, 128]), Buffer.from(digest),
      Buffer.from([0xa0, 0xa0]),
    ]);
    client.write(ping);
    const [, pong] = await client.waitForResponses(2);
    const expectedProof = createHash('sha512').update(salt).update('agg').update(nonce).update('k').digest('hex');
    const w = new MsgpackWriter();
    w.writeArrayHeader(5);
    w.writeString('PONG');
    w.writeValue(true);
    w.writeString('');
    w.writeString('agg');
    w.writeString(expectedProof);
    t.deepEqual(pong, w.take(), `PONG for a ${saltType} salt`);
    client.write(encodeMessage({ tag: 't', time: new EventTime(1_700_000_000, 0), record: { salt: saltType } }, { chunk: `c-${saltType}` }));
    const responses = await client.waitForResponses(3);
    t.is(responses.length, 3, `ack after a ${saltType} salt`);
    client.destroy();
  }
  await waitFor(() => receiver.events.length === 2, 'both events');
  t.deepEqual(receiver.events.map((e) => e.record.salt), ['bin', 'str']);
});

test('--heartbeat udp against a server without UDP heartbeats: its acknowledgements keep it in; every event delivered, exit 0', async (t) => {
  const peer = await startFluentBitPeer(t); // nothing answers UDP on its port
  const forward = startForward(t, [`127.0.0.1:${peer.port}`, '--heartbeat', 'udp', '--heartbeat-interval', '0.05', '--chunk-bytes', '4000', '--stats']);
  // 12,000 events paced over many heartbeat intervals (the producer's pace, not a synchronization)
  for (let i = 0; i < 12_000; i += 400) {
    await forward.send(numberedEvents(i, 400));
    await sleep(25);
  }
  const { exitCode } = await forward.end();
  t.is(exitCode, 0, forward.stderr());
  t.false(forward.stderr().includes('heartbeats (udp) missed'), forward.stderr());
  t.is(indexes(peer.events).size, 12_000);
});

/** A UDP heartbeat answerer on 127.0.0.1:`port` (one 0x00 byte back, as receive answers) that the test can silence. */
async function udpHeartbeatAnswerer(t: ExecutionContext, port: number): Promise<{ answering: boolean; answered: number; unanswered: number }> {
  const state = { answering: true, answered: 0, unanswered: 0 };
  const socket = createSocket('udp4');
  socket.on('message', (_message, remote) => {
    if (!state.answering) {
      state.unanswered++;
      return;
    }
    state.answered++;
    socket.send(Buffer.from([0]), remote.port, remote.address);
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, '127.0.0.1', () => resolve());
  });
  t.teardown(() => socket.close());
  return state;
}

test('--heartbeat udp: a server that answered UDP heartbeats, then stops answering them while it keeps acknowledging chunks, stays in; every event delivered, exit 0', async (t) => {
  const receiver = await startReceive(t);
  // forward reaches the real receive through a relay, whose port answers UDP heartbeats only while the test lets it
  const relay = await startTcpProxy(t, receiver.port);
  const udp = await udpHeartbeatAnswerer(t, relay.port);
  const forward = startForward(t, [`127.0.0.1:${relay.port}`, '--heartbeat', 'udp', '--heartbeat-interval', '0.3', '--chunk-bytes', '4000', '--drain-timeout', '3']);
  await waitFor(() => udp.answered >= 2, 'forward to have its heartbeats answered');
  udp.answering = false;
  // chunks keep flowing, at the producer's pace, until forward has sent twice the heartbeats that
  // would take out a server acknowledging nothing
  let sent = 0;
  while (udp.unanswered < 2 * HEARTBEAT_MISSES) {
    await forward.send(numberedEvents(sent, 100));
    sent += 100;
    await sleep(20);
  }
  const { exitCode } = await forward.end();
  t.is(exitCode, 0, forward.stderr());
  t.false(forward.stderr().includes('heartbeats (udp) missed'), forward.stderr());
  await waitFor(() => indexes(receiver.events).size === sent, `the ${sent} events at the receiver`);
});

test('the default heartbeat is quiet: TLS + shared key over many intervals, idle and busy, and receive logs no handshake or TLS error', async (t) => {
  const dir = await tempDir(t);
  const { cert, key } = await selfSignedCert(dir);
  const receiver = await startReceive(t, ['--tls-cert', cert, '--tls-key', key, '--shared-key', 'k']);
  const forward = startForward(t, [`127.0.0.1:${receiver.port}`, '--tls', '--tls-ca', cert, '--shared-key', 'k', '--heartbeat-interval', '0.1']);
  // busy, then idle for many heartbeat intervals, then busy again
  await forward.send(numberedEvents(0, 100));
  await waitFor(() => receiver.events.length === 100, 'the first events');
  const quietSince = Date.now();
  await waitFor(() => Date.now() - quietSince > 1500, '15 heartbeat intervals of idling');
  await forward.send(numberedEvents(100, 100));
  const { exitCode } = await forward.end();
  t.is(exitCode, 0, forward.stderr());
  await waitFor(() => receiver.events.length === 200, 'every event');
  t.notRegex(receiver.stderr(), /TLS handshake failed|no PING|authentication failed|closing|ended inside/, receiver.stderr());

  // The same against Fluent Bit's in_forward, which logs every connection that closes before its PING
  const peer = await startFluentBitPeer(t, { sharedKey: 'k', acceptBinSalt: true });
  const toPeer = startForward(t, [`127.0.0.1:${peer.port}`, '--shared-key', 'k', '--heartbeat-interval', '0.1']);
  await toPeer.send(numberedEvents(0, 100));
  await waitFor(() => peer.events.length === 100, 'the first events at the peer');
  const idleSince = Date.now();
  await waitFor(() => Date.now() - idleSince > 1500, '15 heartbeat intervals of idling');
  await toPeer.send(numberedEvents(100, 100));
  t.is((await toPeer.end()).exitCode, 0, toPeer.stderr());
  t.is(indexes(peer.events).size, 200);
  t.deepEqual(peer.errors, [], 'no error in the peer\'s log');
  t.is(peer.accepted, 1, 'one data connection, no probe connections');
});

test('forward --no-ack --stats reports sent_chunks and sent_events, and sent= per server, never acked', async (t) => {
  const receiver = await startReceive(t);
  const forward = await logkit(['forward', `127.0.0.1:${receiver.port}`, '--no-ack', '--stats'], { input: encode(numberedEvents(0, 50)) });
  t.is(forward.exitCode, 0, String(forward.stderr));
  const line = String(forward.stderr).split('\n').find((l) => l.includes('stats (exit)'))!;
  t.regex(line, /sent_chunks=1 sent_events=50 /);
  t.regex(line, new RegExp(`127\\.0\\.0\\.1:${receiver.port}=\\w+ chunks=1 sent=1 `));
  t.notRegex(line, /acked[_=]/);
  const acked = await logkit(['forward', `127.0.0.1:${receiver.port}`, '--stats'], { input: encode(numberedEvents(50, 50)) });
  t.regex(String(acked.stderr), /acked_chunks=1 acked_events=50 .* chunks=1 acked=1 /);
});
