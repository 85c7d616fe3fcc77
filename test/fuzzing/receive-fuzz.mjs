#!/usr/bin/env node
// The full fuzz of `logkit receive` (see README.md here). Build first (npm run build), then:
//   node test/fuzzing/receive-fuzz.mjs --inputs 1000000 [--seed N] [--parallel 8] [--max-minutes 240]
// Prints progress, then the figures: inputs, connections, time, each receive process's peak RSS,
// and whether a valid client's 100 events were acknowledged and delivered exactly afterwards.
// Exits 0 when everything held, 1 otherwise.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { fuzzReceive } from '../../dist/test/fuzzing/receive-fuzz.js';

const { values } = parseArgs({
  options: {
    inputs: { type: 'string', default: '1000000' },
    seed: { type: 'string', default: '20261121' },
    parallel: { type: 'string', default: '8' },
    'max-minutes': { type: 'string', default: '240' },
  },
});
const load = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const inputs = Number(values.inputs);
console.log(`fuzzing receive with ${inputs} inputs (seed ${values.seed}, ${values.parallel} connections at once); load ${load()}`);
const started = Date.now();
const report = await fuzzReceive({
  inputs,
  maxMs: Number(values['max-minutes']) * 60_000,
  seed: Number(values.seed),
  parallel: Number(values.parallel),
  progress: (n) => console.log(`  ${n} inputs, ${((Date.now() - started) / 1000).toFixed(0)} s, load ${load()}`),
});
const mib = (kib) => `${(kib / 1024).toFixed(1)} MiB`;
console.log(`inputs:              ${report.inputs} on ${report.connections} connections in ${report.seconds.toFixed(0)} s`);
console.log(`events emitted:      ${report.eventsEmitted} (unsanitized tags: ${report.unsanitizedTags})`);
console.log(`peak RSS (VmHWM):    plain ${mib(report.peakRssKiB.plain)}, shared-key ${mib(report.peakRssKiB.secured)}`);
console.log(`survived:            ${report.survived}`);
console.log(`valid client after:  ack ${report.afterAck ? 'received' : 'MISSING'}, 100 events ${report.afterExact ? 'delivered exactly' : 'NOT delivered exactly'}`);
console.log(`exit on SIGTERM:     plain ${report.exitCodes.plain}, shared-key ${report.exitCodes.secured}; load ${load()}`);
const ok = report.inputs >= inputs && report.survived && report.afterAck && report.afterExact && report.unsanitizedTags === 0 && report.exitCodes.plain === 0 && report.exitCodes.secured === 0;
process.exitCode = ok ? 0 : 1;
