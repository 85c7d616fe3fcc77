#!/usr/bin/env node
// Codec choice, measured: encode and decode 200,000 log-shaped events with
//  - @msgpack/msgpack (the design card's codec),
//  - msgpackr (what logkit decodes with),
//  - logkit's MsgpackWriter (what logkit encodes with: msgpackr writes integers beyond 32 bits
//    as float64, which Fluentd and Fluent Bit would read back as Float).
// Run after `npm run build`: node bench/codec.mjs
import { Encoder, Decoder, ExtensionCodec } from '@msgpack/msgpack';
import { Packr, Unpackr } from 'msgpackr';
import { MsgpackWriter } from '../dist/src/codec/msgpack-writer.js';
import { MessageStreamDecoder } from '../dist/src/codec/msgpack-reader.js';
import { EventTime } from '../dist/src/event/event-time.js';

const N = Number(process.env.EVENTS ?? 200_000);
const events = Array.from({ length: N }, (_, i) => ({
  tag: 'app.web',
  time: new EventTime(1763700000 + (i >> 10), (i * 7919) % 1e9),
  record: {
    time: '2026-11-21T10:00:00.123Z', level: ['info', 'warn', 'error'][i % 3], service: 'checkout',
    msg: `request ${i} completed`, seq: i, latency_ms: (i % 1000) / 7, status: 200, bytes: 5_000_000_000 + i,
    user: { id: `u${i % 977}`, roles: ['a', 'b'] },
  },
  options: { src: { id: '2049:1234:9f86d081', off: i * 180 } },
}));

const extensionCodec = new ExtensionCodec();
extensionCodec.register({
  type: 0,
  encode: (v) => { if (!(v instanceof EventTime)) return null; const b = Buffer.allocUnsafe(8); b.writeUInt32BE(v.sec); b.writeUInt32BE(v.nsec, 4); return b; },
  decode: (d) => new EventTime(Buffer.from(d).readUInt32BE(0), Buffer.from(d).readUInt32BE(4)),
});

function bench(name, fn) {
  fn(); // warm-up
  const start = process.hrtime.bigint();
  const bytes = fn();
  const s = Number(process.hrtime.bigint() - start) / 1e9;
  console.log(`${name.padEnd(44)} ${(N / s / 1000).toFixed(0).padStart(6)} k events/s  ${(s * 1000).toFixed(0).padStart(5)} ms  ${bytes ? (bytes / 1e6).toFixed(1) + ' MB' : ''}`);
}

const entries = events.map((e) => [e.tag, e.time, e.record, e.options]);
const mm = new Encoder({ extensionCodec });
bench('encode @msgpack/msgpack', () => { let n = 0; for (const e of entries) n += mm.encode(e).length; return n; });
const packr = new Packr({ useRecords: false });
bench('encode msgpackr (EventTime not supported: sec)', () => { let n = 0; for (const e of entries) n += packr.pack([e[0], e[1].sec, e[2], e[3]]).length; return n; });
bench('encode logkit MsgpackWriter (batched)', () => {
  const w = new MsgpackWriter(); let n = 0;
  for (let i = 0; i < events.length; i++) { w.writeEntry(events[i]); if ((i & 511) === 511) n += w.take().length; }
  return n + w.take().length;
});

const w = new MsgpackWriter();
for (const e of events) w.writeEntry(e);
const stream = w.take();
const chunks = [];
for (let i = 0; i < stream.length; i += 65536) chunks.push(stream.subarray(i, i + 65536));
const md = new Decoder({ extensionCodec });
bench('decode @msgpack/msgpack (decodeMulti)', () => { let n = 0; for (const _ of md.decodeMulti(stream)) n++; if (n !== N) throw new Error(n); });
bench('decode msgpackr unpackMultiple', () => { const u = new Unpackr({ useRecords: false, mapsAsObjects: true }); let n = 0; u.unpackMultiple(stream, () => { n++; }); if (n !== N) throw new Error(n); });
bench('decode logkit MessageStreamDecoder (64 KiB chunks)', () => { const d = new MessageStreamDecoder(); let n = 0; for (const c of chunks) n += d.push(c).length; d.end(); if (n !== N) throw new Error(n); });
