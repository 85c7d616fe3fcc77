#!/usr/bin/env node
// W2's load: `encode FILE OUT` turns a json log into PackedForward frames of 1,000 entries each
// ([tag, bin(entries), {size}]); `send OUT HOST PORT` writes them to a receiver at full speed.
import { readFile, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { MsgpackWriter } from '../../dist/src/codec/msgpack-writer.js';
import { EventTime } from '../../dist/src/event/event-time.js';

const [mode, a, b, c] = process.argv.slice(2);
if (mode === 'encode') {
  const lines = (await readFile(a, 'utf8')).split('\n').filter(Boolean);
  const frames = new MsgpackWriter(1 << 20);
  const entries = new MsgpackWriter(1 << 20);
  for (let i = 0; i < lines.length; i += 1000) {
    const batch = lines.slice(i, i + 1000);
    for (const line of batch) {
      entries.writeArrayHeader(2);
      entries.writeEventTime(new EventTime(1763683200 + (i >> 10), i % 1e9));
      entries.writeValue(JSON.parse(line));
    }
    const packed = entries.take();
    frames.writeArrayHeader(3);
    frames.writeString('bench');
    frames.writeBinHeader(packed.length);
    frames.writeRaw(packed);
    frames.writeValue({ size: batch.length });
  }
  await writeFile(b, frames.take());
} else if (mode === 'send') {
  const data = await readFile(a);
  const socket = connect(Number(c), b);
  await new Promise((resolve, reject) => socket.on('connect', resolve).on('error', reject));
  for (let i = 0; i < data.length; i += 1 << 20) {
    if (!socket.write(data.subarray(i, i + (1 << 20)))) await new Promise((r) => socket.once('drain', r));
  }
  socket.end();
  await new Promise((resolve) => socket.on('close', resolve));
} else {
  process.stderr.write('usage: packed-forward.mjs encode FILE OUT | send OUT HOST PORT\n');
  process.exit(64);
}
