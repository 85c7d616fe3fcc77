#!/usr/bin/env node
// The Node floor: one bare process that reads a file, splits lines, JSON.parses each line and
// encodes it with @msgpack/msgpack, writing nothing. A Node pipeline cannot beat this; logkit's
// end-to-end figures are compared to it (bench/run.mjs).
// usage: node bench/node-floor.mjs FILE
import { createReadStream } from 'node:fs';
import { Encoder } from '@msgpack/msgpack';

const encoder = new Encoder();
let rest = '';
let lines = 0;
let bytes = 0;
for await (const chunk of createReadStream(process.argv[2], { encoding: 'utf8', highWaterMark: 1 << 20 })) {
  const parts = (rest + chunk).split('\n');
  rest = parts.pop();
  for (const line of parts) {
    bytes += encoder.encode(['bench', Math.floor(Date.now() / 1000), JSON.parse(line)]).length;
    lines++;
  }
}
if (rest) { bytes += encoder.encode(['bench', 0, JSON.parse(rest)]).length; lines++; }
process.stderr.write(`${lines} lines, ${bytes} bytes encoded\n`);
