import { createSocket } from 'node:dgram';
import { connect as tlsConnect } from 'node:tls';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { pack } from 'msgpackr';
import test from 'ava';
import { EventTime } from '../../src/event/event-time.js';
import type { LogEvent } from '../../src/event/event.js';
import { encodeEntryStream, encodeForward, encodeMessage, encodePackedForward } from '../../src/protocol/encode-request.js';
import { encodePing, parseHelo, verifyPong } from '../../src/protocol/handshake.js';
import { parseResponse } from '../../src/protocol/response.js';
import { tempDir } from '../helpers/logkit.js';
import { RawClient } from './raw-client.js';
import { selfSignedCert } from '../helpers/net.js';
import { startReceive } from '../helpers/receive.js';
import { sleep, waitFor } from '../helpers/wait.js';

const event = (i: number, tag = 'app.web'): LogEvent => ({
  tag,
  time: new EventTime(1700000000 + i, (i * 7919) % 1_000_000_000),
  record: { seq: i, message: `line ${i}`, nested: { a: [1, 'two', null] } },
});

test('all four event modes arrive intact and each chunk is acked with its id byte for byte', async (t) => {
  const receive = await startReceive(t);
  const client = new RawClient(receive.port);
  await client.ready;
  client.write(encodeMessage(event(0), { chunk: 'message-chunk\n' }));
  client.write(encodeForward('app.fw', [event(1), event(2)], { chunk: 'forward-chunk' }));
  client.write(encodePackedForward('app.pk', encodeEntryStream([event(3), event(4)]), { chunk: 'packed-chunk', size: 2 }));
  client.write(encodePackedForward('app.gz', gzipSync(encodeEntryStream([event(5), event(6)])), { chunk: 'gzip-chunk', compressed: 'gzip' }));
  const responses = await client.waitForResponses(4);
  t.deepEqual(
    responses.map((r) => (parseResponse(r) as { ack: Buffer }).ack.toString()),
    ['message-chunk\n', 'forward-chunk', 'packed-chunk', 'gzip-chunk'],
  );
  const events = await receive.waitForEvents(7);
  t.deepEqual(events.map((e) => e.tag), ['app.web', 'app.fw', 'app.fw', 'app.pk', 'app.pk', 'app.gz', 'app.gz']);
  for (let i = 0; i < 7; i++) {
    t.deepEqual(events[i]!.time, event(i).time);
    t.deepEqual(events[i]!.record, event(i).record);
  }
  client.destroy();
  t.is(await receive.stop(), 0);
});

test('tags from the network are sanitized before they reach stdout or a log line', async (t) => {
  const receive = await startReceive(t);
  const client = new RawClient(receive.port);
  await client.ready;
  const evil = ['../../etc/passwd', 'a/b', 'nul\u0000byte', 'line\nbreak', 'ctl\u001b[31m', 'x'.repeat(300), '..', 'ok.tag-1:x'];
  for (const [i, tag] of evil.entries()) client.write(encodeMessage({ ...event(i), tag }));
  const events = await receive.waitForEvents(evil.length);
  const tags = events.map((e) => e.tag);
  t.deepEqual(tags.slice(0, 6), ['_._etc_passwd', 'a_b', 'nul_byte', 'line_break', 'ctl__31m', 'x'.repeat(255)]);
  for (const tag of tags) {
    t.regex(tag, /^[A-Za-z0-9_:@+=~-]+(\.[A-Za-z0-9_:@+=~-]+)*$/);
    t.false(tag.includes('..'));
    t.true(tag.length <= 255);
  }
  t.is(tags[6], '_');
  t.is(tags[7], 'ok.tag-1:x', 'a clean tag is untouched');
  t.false(receive.stderr().includes('passwd'));
  client.destroy();
});

test('garbage closes that connection with one log line; other connections keep working', async (t) => {
  const receive = await startReceive(t);
  const good = new RawClient(receive.port);
  const bad = new RawClient(receive.port);
  await Promise.all([good.ready, bad.ready]);
  good.write(encodeMessage(event(1), { chunk: 'one' }));
  await good.waitForResponses(1);
  bad.write(Buffer.from([0x93, 0xc1, 0xc1, 0xc1]));
  t.true(await bad.waitForClose());
  good.write(encodeMessage(event(2), { chunk: 'two' }));
  const responses = await good.waitForResponses(2);
  t.is(responses.length, 2);
  t.false(good.closed);
  const lines = receive.stderr().split('\n').filter((l) => /0xc1/.test(l));
  t.is(lines.length, 1);
  t.regex(lines[0]!, /^logkit receive: 127\.0\.0\.1:\d+: invalid MessagePack.*closing$/);
  t.is((await receive.waitForEvents(2)).length, 2);
  good.destroy();
});

test('an oversize request gets an explicit {error} rejection, then the close', async (t) => {
  const receive = await startReceive(t, ['--max-chunk-bytes', '10000']);
  const client = new RawClient(receive.port);
  await client.ready;
  const big = encodePackedForward('big', encodeEntryStream(Array.from({ length: 200 }, (_, i) => event(i))), { chunk: 'big' });
  t.true(big.length > 10000);
  client.write(big);
  const [response] = await client.waitForResponses(1);
  t.truthy(response);
  const parsed = parseResponse(response!);
  t.true('error' in parsed);
  t.regex((parsed as { error: string }).error, /exceeds the limit of 10000 bytes/);
  t.true(await client.waitForClose());
  t.is(receive.events.length, 0);
  // the server still serves others
  const other = new RawClient(receive.port);
  await other.ready;
  other.write(encodeMessage(event(1), { chunk: 'small' }));
  t.is((await other.waitForResponses(1)).length, 1);
  other.destroy();
});

test('--max-connections: a connection beyond the limit is closed at once, the others work', async (t) => {
  // every client is 127.0.0.1 here: a per-address share above the total isolates the total
  const receive = await startReceive(t, ['--max-connections', '2', '--max-connections-per-ip', '10']);
  const a = new RawClient(receive.port);
  const b = new RawClient(receive.port);
  await Promise.all([a.ready, b.ready]);
  a.write(encodeMessage(event(1), { chunk: 'a' }));
  b.write(encodeMessage(event(2), { chunk: 'b' }));
  await Promise.all([a.waitForResponses(1), b.waitForResponses(1)]);
  const c = new RawClient(receive.port);
  t.true(await c.waitForClose(5000), 'third connection closed');
  t.regex(receive.stderr(), /refused, already 2 connections/);
  a.destroy();
  // once receive has seen a's close, a new connection is served (until then it is refused)
  let served = 0;
  await waitFor(async () => {
    const d = new RawClient(receive.port);
    await d.ready;
    d.write(encodeMessage(event(3), { chunk: 'd' }));
    served = (await d.waitForResponses(1, 2000)).length;
    d.destroy();
    return served === 1;
  }, 'a connection served once one of the two closed');
  t.is(served, 1);
  b.destroy();
});

test('UDP heartbeat on the same port is answered with 0x00', async (t) => {
  const receive = await startReceive(t);
  const udp = createSocket('udp4');
  t.teardown(() => udp.close());
  const reply = new Promise<Buffer>((resolve) => udp.once('message', resolve));
  udp.send(Buffer.from([0]), receive.port, '127.0.0.1');
  const answer = await Promise.race([reply, sleep(5000).then(() => undefined)]);
  t.deepEqual(answer, Buffer.from([0]));
});

test('Unix socket listener', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'fluent.sock');
  const receive = await startReceive(t, [], { bind: `unix://${path}` });
  t.regex(receive.stderr(), /listening on unix:\/\//);
  const { connect } = await import('node:net');
  const client = new RawClient(0, undefined, connect({ path }));
  await client.ready;
  client.write(encodePackedForward('unix', encodeEntryStream([event(1), event(2)]), { chunk: 'u' }));
  t.is((await client.waitForResponses(1)).length, 1);
  t.deepEqual((await receive.waitForEvents(2)).map((e) => e.tag), ['unix', 'unix']);
  client.destroy();
  t.is(await receive.stop(), 0);
});

test('TLS: events over TLS; with --tls-ca a client without a certificate is refused', async (t) => {
  const dir = await tempDir(t);
  const server = await selfSignedCert(dir, 'server');
  const receive = await startReceive(t, ['--tls-cert', server.cert, '--tls-key', server.key]);
  t.regex(receive.stderr(), /listening on tls:\/\/.*TLS/);
  const ca = await readFile(server.cert);
  const client = new RawClient(0, undefined, tlsConnect({ host: '127.0.0.1', port: receive.port, ca }));
  await client.ready;
  client.write(encodeMessage(event(1), { chunk: 'tls' }));
  t.is((await client.waitForResponses(1)).length, 1);
  t.deepEqual((await receive.waitForEvents(1))[0]!.record, event(1).record);
  client.destroy();

  // mutual TLS
  const clientCert = await selfSignedCert(dir, 'client');
  const mtls = await startReceive(t, ['--tls-cert', server.cert, '--tls-key', server.key, '--tls-ca', clientCert.cert]);
  const anonymous = new RawClient(0, undefined, tlsConnect({ host: '127.0.0.1', port: mtls.port, ca }));
  anonymous.write(encodeMessage(event(2), { chunk: 'anon' }));
  t.true(await anonymous.waitForClose());
  t.is(anonymous.responses.length, 0);
  const withCert = new RawClient(0, undefined, tlsConnect({ host: '127.0.0.1', port: mtls.port, ca, cert: await readFile(clientCert.cert), key: await readFile(clientCert.key) }));
  await withCert.ready;
  withCert.write(encodeMessage(event(3), { chunk: 'mtls' }));
  t.is((await withCert.waitForResponses(1)).length, 1);
  t.deepEqual((await mtls.waitForEvents(1)).map((e) => e.record.seq), [3]);
  withCert.destroy();
});

async function handshake(client: RawClient, sharedKey: string, user?: { username: string; password: string }) {
  const [heloFrame] = await client.waitForResponses(1);
  const helo = parseHelo(heloFrame!);
  const ping = encodePing(helo, { sharedKey, clientHostname: 'test-client', ...user });
  client.write(ping.bytes);
  const responses = await client.waitForResponses(2);
  return verifyPong(responses[1]!, helo, ping.sharedKeySalt, sharedKey);
}

test('shared key: the right key passes the handshake; a wrong key gets the failure PONG and the close', async (t) => {
  const receive = await startReceive(t, ['--shared-key', 's3cret', '--user', 'alice:wonderland']);
  const good = new RawClient(receive.port);
  const verdict = await handshake(good, 's3cret', { username: 'alice', password: 'wonderland' });
  t.true(verdict.ok);
  good.write(encodeMessage(event(1), { chunk: 'authed' }));
  const responses = await good.waitForResponses(3);
  t.deepEqual(parseResponse(responses[2]!), { ack: Buffer.from('authed'), identities: true });

  const badKey = new RawClient(receive.port);
  t.deepEqual(await handshake(badKey, 'guess', { username: 'alice', password: 'wonderland' }), { ok: false, reason: 'shared_key mismatch' });
  t.true(await badKey.waitForClose());
  const badUser = new RawClient(receive.port);
  t.deepEqual(await handshake(badUser, 's3cret', { username: 'alice', password: 'nope' }), { ok: false, reason: 'username/password mismatch' });
  t.true(await badUser.waitForClose());
  // events before the handshake are a protocol error
  const rude = new RawClient(receive.port);
  await rude.waitForResponses(1);
  rude.write(encodeMessage(event(9)));
  t.true(await rude.waitForClose());
  // an event after it, on the authenticated connection: the rude one's would have come before
  good.write(encodeMessage(event(2), { chunk: 'after' }));
  await good.waitForResponses(4);
  t.deepEqual((await receive.waitForEvents(2)).map((e) => e.record.seq), [1, 2]);
  t.regex(receive.stderr(), /authentication failed \(shared_key mismatch\)/);
  good.destroy();
});

test('--source-address-key, --source-hostname-key and --tag-prefix', async (t) => {
  const receive = await startReceive(t, ['--source-address-key', 'src_ip', '--source-hostname-key', 'src_host', '--tag-prefix', 'remote']);
  const client = new RawClient(receive.port);
  await client.ready;
  client.write(encodeMessage(event(1, 'app')));
  const [e] = await receive.waitForEvents(1);
  t.is(e!.tag, 'remote.app');
  t.is(e!.record.src_ip, '127.0.0.1');
  t.is(typeof e!.record.src_host, 'string');
  t.true((e!.record.src_host as string).length > 0);
  client.destroy();
});

test('binding beyond loopback without a key or TLS warns; bad options are usage errors', async (t) => {
  const receive = await startReceive(t, [], { bind: '0.0.0.0:0' });
  t.regex(receive.stderr(), /WARNING: listening on 0\.0\.0\.0.*neither --shared-key nor TLS/);
  await receive.stop();
  const { logkit } = await import('../helpers/logkit.js');
  const r = await logkit(['receive', '--bind', 'localhost:99999']);
  t.is(r.exitCode, 64);
  t.regex(String(r.stderr), /invalid port/);
  const p = await logkit(['receive', '--tag-prefix', '../x']);
  t.is(p.exitCode, 64);
});

test('--idle-timeout closes a silent connection', async (t) => {
  const receive = await startReceive(t, ['--idle-timeout', '1']);
  const client = new RawClient(receive.port);
  await client.ready;
  t.true(await client.waitForClose(8000));
});

test('a client that half-closes after its last request still gets every ack', async (t) => {
  const receive = await startReceive(t);
  const client = new RawClient(receive.port);
  await client.ready;
  for (let i = 0; i < 50; i++) client.write(encodePackedForward('hc', encodeEntryStream([event(i)]), { chunk: `c${i}` }));
  client.socket.end();
  t.true(await client.waitForClose());
  t.is(client.responses.length, 50);
  t.is((await receive.waitForEvents(50)).length, 50);
});

test('SIGTERM: exits 0, and every acknowledged chunk is on stdout; SIGUSR1 and --stats print counters', async (t) => {
  const receive = await startReceive(t, ['--stats']);
  const client = new RawClient(receive.port);
  await client.ready;
  client.write(encodePackedForward('s', encodeEntryStream([event(0)]), { chunk: 'first' }));
  await client.waitForResponses(1);
  receive.child.kill('SIGUSR1');
  await waitFor(() => /stats \(SIGUSR1\)/.test(receive.stderr()), 'the SIGUSR1 stats line', 5000).catch(() => {});
  t.regex(receive.stderr(), /stats \(SIGUSR1\) connections=1 open_connections=1 .*requests=1 events=1 .*acks=1/);
  for (let i = 1; i < 200; i++) client.write(encodePackedForward('s', encodeEntryStream([event(i)]), { chunk: `c${i}` }));
  await sleep(5); // SIGTERM while those are still arriving
  t.is(await receive.stop(), 0);
  const acked = client.responses.length;
  t.true(acked >= 1);
  t.true(receive.events.length >= acked, `${acked} acked, ${receive.events.length} on stdout`);
  t.regex(receive.stderr(), /stats \(exit\) .*protocol_errors=0/);
});

/** 10 acknowledged PackedForward requests of 2 events into `receive ARGS --stats` writing to `file`; its stderr and the file's size once it stopped. */
async function statsOfTwentyEvents(t: import('ava').ExecutionContext, args: readonly string[], file: string): Promise<{ stderr: string; size: number }> {
  const receive = await startReceive(t, ['--stats', ...args], { stdoutFile: file });
  const client = new RawClient(receive.port);
  await client.ready;
  for (let i = 0; i < 10; i++) client.write(encodePackedForward('s', encodeEntryStream([event(i), event(i + 10)]), { chunk: `c${i}` }));
  t.is((await client.waitForResponses(10)).length, 10);
  client.destroy();
  t.is(await receive.stop(), 0);
  const size = (await stat(file)).size;
  t.true(size > 0);
  return { stderr: receive.stderr(), size };
}

test('--stats: bytes_out counts what reached stdout, to a file (MessagePack, with and without --buffer) and to a pipe (NDJSON)', async (t) => {
  const dir = await tempDir(t);
  const plain = await statsOfTwentyEvents(t, [], join(dir, 'out.msgpack'));
  t.regex(plain.stderr, new RegExp(`stats \\(exit\\) .*events_out=20 bytes_out=${plain.size}( |$)`, 'm'));

  // --buffer: what its emitter wrote from the buffer
  const durable = await statsOfTwentyEvents(t, ['--buffer', join(dir, 'rbuf'), '--checkpoint', join(dir, 'ckpt')], join(dir, 'buffered.msgpack'));
  t.regex(durable.stderr, new RegExp(`stats \\(exit\\) .*emitted_events=20 bytes_out=${durable.size}( |$)`, 'm'));

  // the decoding path (records decoded and re-encoded) and NDJSON to a pipe
  const { execa: run } = await import('execa');
  const { LOGKIT_BIN } = await import('../helpers/logkit.js');
  const json = run(process.execPath, [LOGKIT_BIN, 'receive', '--bind', '127.0.0.1:0', '-o', 'json', '--stats', '--source-address-key', 'ip'], { reject: false, buffer: true, stdin: 'ignore', stripFinalNewline: false });
  t.teardown(() => json.kill('SIGKILL'));
  let stderr = '';
  json.stderr!.on('data', (d: Buffer) => (stderr += d));
  await waitFor(() => /listening on/.test(stderr), 'receive -o json to start');
  const jsonClient = new RawClient(Number(/:(\d+) /.exec(stderr)![1]));
  await jsonClient.ready;
  jsonClient.write(encodeForward('j', [event(1), event(2), event(3)], { chunk: 'j' }));
  t.is((await jsonClient.waitForResponses(1)).length, 1);
  jsonClient.destroy();
  json.kill('SIGTERM');
  const result = await json;
  t.is(result.exitCode, 0);
  t.regex(result.stderr as string, new RegExp(`events_out=3 bytes_out=${Buffer.byteLength(result.stdout as string)}( |$)`, 'm'));
});

test('a client that never sends PING is closed after the handshake timeout, with one log line', async (t) => {
  const receive = await startReceive(t, ['--shared-key', 'k', '--idle-timeout', '1']);
  const client = new RawClient(receive.port);
  await client.waitForResponses(1); // HELO
  t.true(await client.waitForClose(8000));
  t.regex(receive.stderr(), /handshake not finished within 1 s \(--handshake-timeout\); closing/);
});

test('-o json writes NDJSON events with nanosecond times', async (t) => {
  const { execa: run } = await import('execa');
  const { LOGKIT_BIN } = await import('../helpers/logkit.js');
  const child = run(process.execPath, [LOGKIT_BIN, 'receive', '--bind', '127.0.0.1:0', '-o', 'json'], { reject: false, buffer: true, stdin: 'ignore', stripFinalNewline: false });
  t.teardown(() => child.kill('SIGKILL'));
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d));
  await waitFor(() => /listening on/.test(stderr), 'receive listening');
  const port = Number(/:(\d+) /.exec(stderr)![1]);
  const client = new RawClient(port);
  await client.ready;
  client.write(encodeMessage({ tag: 'j', time: new EventTime(1700000000, 123456789), record: { a: 1 } }, { chunk: 'j' }));
  await client.waitForResponses(1);
  client.destroy();
  child.kill('SIGTERM');
  const result = await child;
  t.is(result.exitCode, 0);
  // the event's identity (chunk id + index: a resend of chunk "j" would carry the same) is in its options
  t.is(String(result.stdout), '{"time":"2023-11-14T22:13:20.123456789Z","tag":"j","record":{"a":1},"options":{"src":{"id":"chunk:oWo=","off":0}}}\n');
});

test('valid requests that arrive together with garbage are still emitted and acknowledged before the close (the client need not resend them)', async (t) => {
  const receive = await startReceive(t);
  const client = new RawClient(receive.port);
  await client.ready;
  const packed = encodePackedForward('app.pk', encodeEntryStream([event(3), event(4)]), { chunk: 'three', size: 2 });
  client.write(Buffer.concat([encodeMessage(event(1), { chunk: 'one' }), encodeMessage(event(2), { chunk: 'two' }), packed, Buffer.from([0xc1])]));
  t.true(await client.waitForClose());
  t.deepEqual(client.responses.map((r) => (parseResponse(r) as { ack: Buffer }).ack.toString()), ['one', 'two', 'three']);
  t.deepEqual((await receive.waitForEvents(4)).map((e) => e.record.seq), [1, 2, 3, 4]);
  t.regex(receive.stderr(), /invalid MessagePack.*closing/);

  // a request bad in its second entry: its first entry is not handed on, the request before it is
  const other = new RawClient(receive.port);
  await other.ready;
  const badForward = Buffer.from(pack(['app.fw', [[1700000005, { seq: 5 }], [1700000006, 'not a record']], { chunk: 'six' }]));
  other.write(Buffer.concat([encodeMessage(event(7), { chunk: 'seven' }), badForward]));
  t.true(await other.waitForClose());
  t.deepEqual(other.responses.map((r) => (parseResponse(r) as { ack: Buffer }).ack.toString()), ['seven']);
  t.regex(receive.stderr(), /entry 1: expected a record \(map\).*closing/);
  t.deepEqual((await receive.waitForEvents(5)).map((e) => e.record.seq), [1, 2, 3, 4, 7]);
  t.is(await receive.stop(), 0);
  t.deepEqual(receive.events.map((e) => e.record.seq), [1, 2, 3, 4, 7], 'nothing of the bad request');
});

test('--max-buffered-bytes: when requests in progress hold too much together, a big one is refused with {error}; small ones go on', async (t) => {
  const receive = await startReceive(t, ['--max-buffered-bytes', String(6 << 20), '--max-chunk-bytes', String(8 << 20)]);
  const partial = Buffer.concat([Buffer.from([0x92, 0xa1, 0x62, 0xc6]), Buffer.from([0x00, 0x70, 0x00, 0x00])]); // bin32 of 7 MiB follows
  const big = [new RawClient(receive.port), new RawClient(receive.port), new RawClient(receive.port)];
  await Promise.all(big.map((c) => c.ready));
  for (const c of big) {
    c.write(partial);
    c.write(Buffer.alloc(3 << 20)); // 3 MiB of the 7 MiB each: 9 MiB together
    await waitFor(() => c.socket.writableLength === 0 || c.closed, 'the kernel to take the 3 MiB');
  }
  const refused = await Promise.all(big.map((c) => c.waitForClose(5000)));
  t.true(refused.some(Boolean), 'at least one big request refused');
  const errors = big.flatMap((c) => c.responses.map((r) => parseResponse(r))).filter((r) => 'error' in r);
  t.true(errors.length >= 1);
  t.regex((errors[0] as { error: string }).error, /server busy/);
  const small = new RawClient(receive.port);
  await small.ready;
  small.write(encodeMessage(event(1), { chunk: 'small' }));
  t.deepEqual(parseResponse((await small.waitForResponses(1))[0]!), { ack: Buffer.from('small'), identities: true });
  for (const c of [...big, small]) c.destroy();
});
