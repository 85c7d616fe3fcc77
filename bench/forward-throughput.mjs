#!/usr/bin/env node
// Throughput of `logkit forward | logkit receive` on one machine: EVENTS small JSON-shaped events,
// pre-encoded as a MessagePack stream file, sent by forward (acks on, default settings) to
// receive (stdout to /dev/null). Reports events/s and the CPU time of each process.
// Run after `npm run build`: node bench/forward-throughput.mjs   (EVENTS=1000000 FORWARD_ARGS="--compress gzip")
// SRC=1 gives each event a source position as `tail` does (options.src: a file identity, the offset
// past its line): with FORWARD_ARGS="--identities on" or "--identities off", the cost of carrying
// identities (bytes per event on the wire, CPU of both sides).
// Add PROFILE=dir to write a --cpu-prof profile of forward there.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MsgpackWriter } from '../dist/src/codec/msgpack-writer.js';
import { EventTime } from '../dist/src/event/event-time.js';

const N = Number(process.env.EVENTS ?? 1_000_000);
const BIN = new URL('../bin/logkit.js', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'logkit-bench-'));
const input = join(dir, 'events.msgpack');

const writer = new MsgpackWriter(1 << 20);
const parts = [];
const withSrc = Boolean(process.env.SRC);
let off = 0;
for (let i = 0; i < N; i++) {
  const record = { level: 'info', msg: 'request done', status: 200, path: `/api/v1/items/${i}`, ms: i % 97 };
  off += JSON.stringify(record).length + 1;
  writer.writeEntry({
    tag: 'app.web',
    time: new EventTime(1_763_700_000 + Math.floor(i / 1000), (i % 1000) * 1_000_000),
    record,
    ...(withSrc ? { options: { src: { id: '2049:1311234:1024:5f3c2a9d0e1b4c7a', off } } } : {}),
  });
  if (writer.length > 1 << 20) parts.push(writer.take());
}
parts.push(writer.take());
writeFileSync(input, Buffer.concat(parts));

const port = await new Promise((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const { port } = s.address();
    s.close(() => resolve(port));
  });
});

/** Runs a command under /usr/bin/time; resolves with its user+sys CPU seconds and max RSS. */
function timed(args, stdio) {
  const child = spawn('/usr/bin/time', ['-f', 'TIME %U %S %M', process.execPath, ...args], { stdio });
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  const done = once(child, 'exit').then(([code]) => {
    const m = /TIME ([\d.]+) ([\d.]+) (\d+)/.exec(err);
    return { code, cpu: m ? Number(m[1]) + Number(m[2]) : NaN, rssMB: m ? Number(m[3]) / 1024 : NaN, stderr: err };
  });
  return { child, done };
}

// receive runs until we stop it: spawned directly (a signal to /usr/bin/time would orphan it), its
// CPU read from /proc just before SIGTERM.
const receive = spawn(process.execPath, [BIN, 'receive', '--bind', `127.0.0.1:${port}`, '-o', 'msgpack'], { stdio: ['ignore', openSync('/dev/null', 'w'), 'inherit'] });
const TICKS = 100; // USER_HZ on Linux
const cpuOf = (pid) => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS;
};
const rssOf = (pid) => Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;
for (;;) {
  const ok = await new Promise((resolve) => connect(port, '127.0.0.1').once('connect', function () { this.destroy(); resolve(true); }).once('error', () => resolve(false)));
  if (ok) break;
  await new Promise((r) => setTimeout(r, 50));
}
const extra = (process.env.FORWARD_ARGS ?? '').split(' ').filter(Boolean);
const nodeArgs = process.env.PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.PROFILE}`] : [];
const start = process.hrtime.bigint();
const forward = timed([...nodeArgs, BIN, 'forward', `127.0.0.1:${port}`, '--stats', ...extra], [openSync(input, 'r'), 'ignore', 'pipe']);
const f = await forward.done;
const seconds = Number(process.hrtime.bigint() - start) / 1e9;
const r = { cpu: cpuOf(receive.pid), rssMB: rssOf(receive.pid) };
receive.kill('SIGTERM');
await once(receive, 'exit');
rmSync(dir, { recursive: true, force: true });
const acked = /acked_events=(\d+)/.exec(f.stderr)?.[1];
const wireBytes = Number(/\bbytes=(\d+)/.exec(f.stderr)?.[1]);
console.log(`forward ${extra.join(' ') || '(defaults)'}${withSrc ? ' (events with options.src)' : ''} → receive: ${N} events in ${seconds.toFixed(2)} s = ${Math.round(N / seconds / 1000)}k events/s; acked ${acked}; exit ${f.code}`);
console.log(`  on the wire ${wireBytes} bytes = ${(wireBytes / N).toFixed(1)} bytes per event; load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
console.log(`  forward CPU ${f.cpu.toFixed(2)} s (${(f.cpu / seconds * 100).toFixed(0)}% of a core), max RSS ${f.rssMB.toFixed(0)} MB`);
console.log(`  receive CPU ${r.cpu.toFixed(2)} s (${(r.cpu / seconds * 100).toFixed(0)}% of a core), max RSS ${r.rssMB.toFixed(0)} MB`);
if (f.code !== 0 || Number(acked) !== N) process.exitCode = 1;
