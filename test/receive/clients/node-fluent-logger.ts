/**
 * A real client for the interop test: the npm package fluent-logger, run as its own process.
 * argv[2] is JSON: {port, mode, count, ack, sharedKey?}. Emits `count` events with EventTime
 * times, waits for every callback (after the ack when ack is asked), then ends the connection and
 * waits until the server has closed it — so nothing in flight is lost to a reset at exit (the
 * library never reads acks in PackedForward mode without requireAckResponse).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Socket } from 'node:net';

const require = createRequire(import.meta.url);
// eslint-disable-next-line @typescript-eslint/no-require-imports
const fluent = require('fluent-logger') as {
  createFluentSender(tag: string | null, options: Record<string, unknown>): {
    emit(label: string, data: unknown, time: unknown, cb: (err?: Error) => void): void;
    end(): void;
    on(event: string, fn: (e: Error) => void): void;
    _socket?: Socket;
  };
  EventTime: new (sec: number, nsec: number) => unknown;
};

const { port, mode, count, ack, sharedKey, tlsCa } = JSON.parse(process.argv[2]!) as {
  port: number;
  mode: string;
  count: number;
  ack: boolean;
  sharedKey?: string;
  /** PEM file of the CA that signed the server's certificate: connect with TLS. */
  tlsCa?: string;
};

const quiet = { info() {}, error(...args: unknown[]) { process.stderr.write(`fluent-logger: ${args.map(String).join(' ')}\n`); } };
const sender = fluent.createFluentSender(null, {
  host: '127.0.0.1',
  port,
  eventMode: mode,
  requireAckResponse: ack,
  ackResponseTimeout: 20_000,
  flushInterval: 5,
  reconnectInterval: 60_000,
  internalLogger: quiet,
  ...(sharedKey ? { security: { clientHostname: 'node-client.test', sharedKey } } : {}),
  ...(tlsCa ? { tls: true, tlsOptions: { ca: readFileSync(tlsCa) } } : {}),
});
sender.on('error', (e) => {
  process.stderr.write(`fluent-logger error: ${e.message}\n`);
  process.exit(2);
});

const done: Array<Promise<void>> = [];
for (let i = 0; i < count; i++) {
  const record = { seq: i, message: `node line ${i} ünïcödé`, nested: { list: [i, 'x', true, null], n: -(i + 1) } };
  const time = new fluent.EventTime(1700000000 + i, (i * 999_983) % 1_000_000_000);
  done.push(new Promise((resolve, reject) => sender.emit(`node.t${i % 3}`, record, time, (err) => (err ? reject(err) : resolve()))));
}
await Promise.all(done);
const socket = sender._socket;
// Without requireAckResponse the library never reads the acks the server sends for its chunks;
// drain them so that our FIN is answered by the server's close rather than a reset at exit.
socket?.on('data', () => {});
sender.end();
if (socket && !socket.destroyed) await new Promise((resolve) => socket.once('close', resolve));
process.stdout.write('done\n');
