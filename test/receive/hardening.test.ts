/**
 * What one abusive client can do to `receive`, tested for real: many sockets from one address
 * (127.0.0.1) that trickle a byte now and then, stalled TLS handshakes, and guessed shared keys,
 * while a legitimate client from another address (127.0.0.2: every 127.x address is loopback on
 * Linux, so per-address accounting sees two clients) must still get every event acknowledged.
 */
import { readFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import test from 'ava';
import { EventTime } from '../../src/event/event-time.js';
import type { LogEvent } from '../../src/event/event.js';
import { encodeEntryStream, encodePackedForward } from '../../src/protocol/encode-request.js';
import { encodePing, parseHelo, verifyPong } from '../../src/protocol/handshake.js';
import { parseResponse } from '../../src/protocol/response.js';
import { tempDir } from '../helpers/logkit.js';
import { RawClient } from './raw-client.js';
import { selfSignedCert } from '../helpers/net.js';
import { startReceive } from '../helpers/receive.js';
import { waitFor } from '../helpers/wait.js';

const ABUSER = '127.0.0.1';
const OTHER = '127.0.0.2';

const event = (i: number): LogEvent => ({ tag: 'legit', time: new EventTime(1700000000, i), record: { seq: i } });

/** A socket from `localAddress` that sends `bytes` one at a time, every `everyMs`, until closed. */
function trickler(port: number, bytes: Buffer, everyMs: number, localAddress = ABUSER): { socket: Socket; closed: () => boolean } {
  const socket = connect({ port, host: '127.0.0.1', localAddress });
  let closed = false;
  socket.on('error', () => {});
  socket.on('data', () => {});
  socket.on('close', () => (closed = true));
  let i = 0;
  const timer = setInterval(() => {
    if (closed || i >= bytes.length) return clearInterval(timer);
    socket.write(bytes.subarray(i, ++i));
  }, everyMs);
  socket.on('close', () => clearInterval(timer));
  return { socket, closed: () => closed };
}

/** Sends 10 requests of 10 events with chunk ids; resolves with the acks received (in order). */
async function sendAcked(client: RawClient, skip = 0): Promise<string[]> {
  for (let r = 0; r < 10; r++) {
    const events = Array.from({ length: 10 }, (_, i) => event(r * 10 + i));
    client.write(encodePackedForward('legit', encodeEntryStream(events), { chunk: `chunk-${r}` }));
  }
  const responses = await client.waitForResponses(skip + 10, 30_000);
  return responses.slice(skip).map((r) => (parseResponse(r) as { ack: Buffer }).ack.toString());
}

const ALL_ACKS = Array.from({ length: 10 }, (_, r) => `chunk-${r}`);
/** A request that never finishes: a PackedForward header declaring far more bytes than will come. */
const ENDLESS = Buffer.concat([encodePackedForward('slow', Buffer.alloc(200_000)).subarray(0, 20), Buffer.alloc(1000)]);

test('slow clients: one address trickling bytes on all its allowed connections cannot lock out another client', async (t) => {
  const receive = await startReceive(t, ['--max-connections', '16', '--max-connections-per-ip', '4', '--stats']);
  // the abuser opens as many connections as the whole server allows, each trickling a request
  const abusers = Array.from({ length: 16 }, () => trickler(receive.port, ENDLESS, 200));
  t.teardown(() => abusers.forEach((a) => a.socket.destroy()));
  await waitFor(() => abusers.filter((a) => a.closed()).length === 12, '12 of the 16 abusive connections refused');
  t.regex(receive.stderr(), /127\.0\.0\.1: refused, already 4 connections from this address \(--max-connections-per-ip\)/);

  const client = new RawClient(0, undefined, connect({ port: receive.port, host: '127.0.0.1', localAddress: OTHER }));
  await client.ready;
  t.deepEqual(await sendAcked(client), ALL_ACKS);
  const events = await receive.waitForEvents(100);
  t.deepEqual(events.map((e) => e.record.seq), Array.from({ length: 100 }, (_, i) => i));
  // the abuser still holds its share, trickling (the request deadline is 60 s by default)
  t.is(abusers.filter((a) => !a.closed()).length, 4);
  client.destroy();
  abusers.forEach((a) => a.socket.destroy());
  t.is(await receive.stop(), 0);
  t.regex(receive.stderr(), /address_refusals=12/);
});

test('--request-timeout is a total deadline: a request trickled a byte at a time is cut off, however steady the bytes', async (t) => {
  const receive = await startReceive(t, ['--request-timeout', '2', '--idle-timeout', '1']);
  const started = Date.now();
  // a byte every 200 ms resets the 1 s idle timer forever; only a total deadline ends it
  const slow = trickler(receive.port, ENDLESS, 200);
  await waitFor(slow.closed, 'the trickled request to be cut off', 20_000);
  t.true(Date.now() - started >= 1900, `closed after ${Date.now() - started} ms`);
  t.regex(receive.stderr(), /request not complete within 2 s \(\d+ bytes so far, --request-timeout\); closing/);

  // a client sending requests back to back, each in time, is not cut off
  const client = new RawClient(receive.port);
  await client.ready;
  for (let round = 0; round < 3; round++) {
    t.deepEqual(await sendAcked(client, round * 10), ALL_ACKS);
  }
  t.false(client.closed);
  client.destroy();
});

test('--handshake-timeout is a total deadline: a PING trickled a byte at a time is cut off', async (t) => {
  const receive = await startReceive(t, ['--shared-key', 'k', '--handshake-timeout', '2']);
  const helo = new RawClient(receive.port);
  const [heloFrame] = await helo.waitForResponses(1);
  const ping = encodePing(parseHelo(heloFrame!), { sharedKey: 'k', clientHostname: 'slow' }).bytes;
  let i = 0;
  const timer = setInterval(() => i < ping.length - 1 && helo.write(ping.subarray(i, ++i)), 200);
  t.teardown(() => clearInterval(timer));
  t.true(await helo.waitForClose(20_000));
  clearInterval(timer);
  t.regex(receive.stderr(), /handshake not finished within 2 s \(--handshake-timeout\); closing/);
});

test('TLS: stalled handshakes from one address do not lock out a real TLS client, and end at --handshake-timeout', async (t) => {
  const dir = await tempDir(t);
  const server = await selfSignedCert(dir, 'server');
  const ca = await readFile(server.cert);
  const receive = await startReceive(t, ['--tls-cert', server.cert, '--tls-key', server.key, '--max-connections', '12', '--max-connections-per-ip', '6', '--handshake-timeout', '3', '--stats']);
  // a TLS record header announcing a 512-byte ClientHello, then its body a byte every 250 ms
  const stalledHello = Buffer.concat([Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00]), Buffer.alloc(512, 1)]);
  const stalled = Array.from({ length: 12 }, () => trickler(receive.port, stalledHello, 250));
  t.teardown(() => stalled.forEach((s) => s.socket.destroy()));
  await waitFor(() => stalled.filter((s) => s.closed()).length >= 6, 'the connections over the per-address share refused');

  // a real TLS client from another address gets in while the stalled ones hold their share
  const other = new RawClient(0, undefined, tlsConnect({ host: '127.0.0.1', socket: connect({ port: receive.port, host: '127.0.0.1', localAddress: OTHER }), ca }));
  await other.ready;
  t.deepEqual(await sendAcked(other), ALL_ACKS);
  other.destroy();

  // the stalled handshakes end at the deadline however steadily they trickle; then the
  // abusing address's own real client gets in too
  await waitFor(() => stalled.every((s) => s.closed()), 'every stalled handshake closed', 20_000);
  const same = new RawClient(0, undefined, tlsConnect({ host: '127.0.0.1', socket: connect({ port: receive.port, host: '127.0.0.1', localAddress: ABUSER }), ca }));
  await same.ready;
  t.deepEqual(await sendAcked(same), ALL_ACKS);
  same.destroy();
  t.is((await receive.waitForEvents(200)).length, 200);
  // every connection, refused, timed out or served, gave its slot back
  await waitFor(() => {
    receive.child.kill('SIGUSR1');
    return /open_connections=0 /.test(receive.stderr().split('stats (SIGUSR1)').pop()!);
  }, 'open_connections=0');
  t.is(await receive.stop(), 0);
  t.regex(receive.stderr(), /handshake not finished within 3 s \(--handshake-timeout\); closing/);
  t.regex(receive.stderr(), /address_refusals=6 .*handshake_timeouts=6/);
});

/** Runs the shared-key handshake on an open client; the PONG's verdict. */
async function authenticate(client: RawClient, sharedKey: string) {
  const [heloFrame] = await client.waitForResponses(1);
  const helo = parseHelo(heloFrame!);
  const ping = encodePing(helo, { sharedKey, clientHostname: 'guesser' });
  client.write(ping.bytes);
  const responses = await client.waitForResponses(2);
  return verifyPong(responses[1]!, helo, ping.sharedKeySalt, sharedKey);
}

test('failed authentications: an address that keeps guessing is refused for a growing time; other addresses are not', async (t) => {
  const receive = await startReceive(t, ['--shared-key', 'right', '--max-auth-backoff', '60', '--stats']);
  // eight connections opened at once, before any failure
  const guesses = Array.from({ length: 8 }, () => new RawClient(receive.port));
  await Promise.all(guesses.map((g) => g.waitForResponses(1)));
  // seven wrong keys: the address now waits 16 s (1, 2, 4, 8, 16 after the two free failures)
  for (const g of guesses.slice(0, 7)) t.false((await authenticate(g, 'wrong')).ok);
  // the eighth has the right key, but its address is backing off: no verdict on the key
  t.deepEqual(await authenticate(guesses[7]!, 'right'), { ok: false, reason: 'too many failed authentications from this address; retry later' });

  // a new connection from the guessing address is closed at once, without a HELO
  const refused = new RawClient(receive.port);
  t.true(await refused.waitForClose());
  t.is(refused.responses.length, 0);
  t.regex(receive.stderr(), /127\.0\.0\.1: refused, backing off for \d+ s more after failed authentications/);
  t.regex(receive.stderr(), /authentication failed \(shared_key mismatch\); closing; its address is refused for 1 s/);

  // another address with the right key is served
  const other = new RawClient(0, undefined, connect({ port: receive.port, host: '127.0.0.1', localAddress: OTHER }));
  t.true((await authenticate(other, 'right')).ok);
  t.deepEqual(await sendAcked(other, 2), ALL_ACKS);
  other.destroy();
  t.is(await receive.stop(), 0);
  t.regex(receive.stderr(), /auth_failures=8 .*backoff_refusals=1 /);
});

test('TLS: SIGTERM does not wait for handshakes in progress', async (t) => {
  const dir = await tempDir(t);
  const server = await selfSignedCert(dir, 'server');
  const receive = await startReceive(t, ['--tls-cert', server.cert, '--tls-key', server.key, '--handshake-timeout', '60']);
  const stalled = trickler(receive.port, Buffer.from([0x16, 0x03, 0x01]), 100);
  t.teardown(() => stalled.socket.destroy());
  await waitFor(() => stalled.socket.bytesWritten === 3, 'the stalled handshake to start');
  const started = Date.now();
  t.is(await receive.stop(), 0);
  t.true(Date.now() - started < 20_000, `exited after ${Date.now() - started} ms`);
  await waitFor(stalled.closed, 'the stalled connection closed');
});
