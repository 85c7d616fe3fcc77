// Throughput of `logkit receive`: one or more local clients send PackedForward requests of 1,000
// events (with acks, the client keeping up to 8 requests in flight) and receive writes MessagePack
// to a consumer that reads and discards it. Usage: node bench/receive-throughput.mjs [events] [gzip] [connections]
// RECEIVE_ARGS='--source-address-key ip' forces the decoding path (records decoded and re-encoded).
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { gzipSync } from 'node:zlib';
import { encodeEntryStream, encodePackedForward } from '../dist/src/protocol/encode-request.js';
import { EventTime } from '../dist/src/event/event-time.js';
import { FrameScanner } from '../dist/src/protocol/frame.js';

const total = Number(process.argv[2] ?? 1_000_000);
const gzip = process.argv[3] === 'gzip';
const connections = Number(process.argv[4] ?? 1);
const PER = 1000;
const child = spawn(process.execPath, [...(process.env.PROF ? ['--cpu-prof', '--cpu-prof-dir=/tmp/rprof'] : []), 'bin/logkit.js', 'receive', '--bind', '127.0.0.1:0', ...(process.env.RECEIVE_ARGS ? process.env.RECEIVE_ARGS.split(' ') : [])], { stdio: ['ignore', 'pipe', 'pipe'] });
let outBytes = 0;
child.stdout.on('data', (d) => (outBytes += d.length));
let err = '';
child.stderr.on('data', (d) => (err += d));
while (!/listening/.test(err)) await new Promise((r) => setTimeout(r, 20));
const port = Number(/:(\d+) /.exec(err)[1]);
const entries = encodeEntryStream(Array.from({ length: PER }, (_, i) => ({ tag: 'b', time: new EventTime(1700000000, i), record: { level: 'info', msg: `GET /api/items/${i} 200 12ms`, host: 'web-1', bytes: 5120 + i } })));
const payload = gzip ? gzipSync(entries) : entries;
const started = process.hrtime.bigint();
await Promise.all(Array.from({ length: connections }, () => run(Math.ceil(total / PER / connections))));
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
const events = Math.ceil(total / PER / connections) * connections * PER;
// CPU seconds receive used (user + system), steadier than wall time on a busy machine
const stat = (await import('node:fs')).readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1].split(' ');
const cpu = (Number(stat[11]) + Number(stat[12])) / 100;
console.log(`receive CPU ${cpu.toFixed(2)} s: ${Math.round(events / cpu).toLocaleString('en')} events per CPU second`);
console.log(`${events} events (${gzip ? 'gzip' : 'plain'} PackedForward, ${connections} connection(s)) in ${seconds.toFixed(2)} s: ${Math.round(events / seconds).toLocaleString('en')} events/s, ${(entries.length * events / PER / seconds / 1048576).toFixed(0)} MiB/s of entries; stdout ${(outBytes / 1048576).toFixed(0)} MiB`);
child.kill('SIGTERM');

function run(requests) {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const scanner = new FrameScanner({ maxBytes: 4096, maxDepth: 4 });
    let pending = Buffer.alloc(0), sent = 0, acked = 0;
    const send = () => {
      while (sent < requests && sent - acked < 8) socket.write(encodePackedForward('bench', payload, { chunk: `c${sent++}`, size: PER, ...(gzip ? { compressed: 'gzip' } : {}) }));
    };
    socket.on('data', (d) => {
      pending = Buffer.concat([pending, d]);
      let n;
      while ((n = scanner.scan(pending)) >= 0) { pending = pending.subarray(n); acked++; }
      if (acked === requests) { socket.end(); resolve(); } else send();
    });
    socket.on('connect', send);
  });
}
