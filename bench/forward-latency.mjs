#!/usr/bin/env node
// Delay added by `logkit forward → logkit receive` at default settings: this script writes one
// event at a time into forward's stdin (every INTERVAL_MS, COUNT events) and reads receive's
// stdout; the delay of an event is from the moment its bytes were handed to forward's stdin to
// the moment it was decoded from receive's stdout (same clock, same process). Prints p50/p90/p99/max.
// Run after `npm run build`: node bench/forward-latency.mjs   (COUNT=500 INTERVAL_MS=10 FORWARD_ARGS=...)
import { spawn } from 'node:child_process';
import { createServer, connect } from 'node:net';
import { MessageStreamDecoder } from '../dist/src/codec/msgpack-reader.js';
import { MsgpackWriter } from '../dist/src/codec/msgpack-writer.js';
import { EventTime } from '../dist/src/event/event-time.js';

const COUNT = Number(process.env.COUNT ?? 500);
const INTERVAL_MS = Number(process.env.INTERVAL_MS ?? 10);
const BIN = new URL('../bin/logkit.js', import.meta.url).pathname;
const port = await new Promise((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const { port } = s.address();
    s.close(() => resolve(port));
  });
});
const receive = spawn(process.execPath, [BIN, 'receive', '--bind', `127.0.0.1:${port}`, '-o', 'msgpack'], { stdio: ['ignore', 'pipe', 'inherit'] });
for (;;) {
  const ok = await new Promise((resolve) => connect(port, '127.0.0.1').once('connect', function () { this.destroy(); resolve(true); }).once('error', () => resolve(false)));
  if (ok) break;
  await new Promise((r) => setTimeout(r, 50));
}
const extra = (process.env.FORWARD_ARGS ?? '').split(' ').filter(Boolean);
const forward = spawn(process.execPath, [BIN, 'forward', `127.0.0.1:${port}`, ...extra], { stdio: ['pipe', 'ignore', 'inherit'] });

const sentAt = new Map();
const delays = [];
const decoder = new MessageStreamDecoder();
receive.stdout.on('data', (data) => {
  const now = performance.now();
  for (const event of decoder.push(data)) {
    const i = event.record.i;
    if (i >= 0 && sentAt.has(i)) delays.push(now - sentAt.get(i));
  }
});

// Warm-up: let forward start and connect before measuring.
const writer = new MsgpackWriter();
const send = (i) => {
  writer.writeEntry({ tag: 'latency', time: EventTime.now(), record: { i, msg: 'probe' } });
  sentAt.set(i, performance.now());
  forward.stdin.write(writer.take());
};
send(-1);
await new Promise((r) => setTimeout(r, 1500));
for (let i = 0; i < COUNT; i++) {
  send(i);
  await new Promise((r) => setTimeout(r, INTERVAL_MS));
}
await new Promise((r) => setTimeout(r, 1000));
forward.stdin.end();
await new Promise((r) => forward.once('exit', r));
receive.kill('SIGTERM');
await new Promise((r) => receive.once('exit', r));
delays.sort((a, b) => a - b);
const q = (p) => delays[Math.min(delays.length - 1, Math.floor(p * delays.length))].toFixed(1);
console.log(`forward ${extra.join(' ') || '(defaults)'} → receive, ${delays.length}/${COUNT} events, one every ${INTERVAL_MS} ms: ` +
  `delay p50 ${q(0.5)} ms, p90 ${q(0.9)} ms, p99 ${q(0.99)} ms, max ${delays[delays.length - 1].toFixed(1)} ms`);
if (delays.length !== COUNT) process.exitCode = 1;
