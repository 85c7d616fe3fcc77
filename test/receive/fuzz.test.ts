/**
 * The suite's reduced fuzz of `receive` (framing, gzip, handshake), bounded in count and time; the
 * full run of a million inputs or more is `node test/fuzzing/receive-fuzz.mjs` (see test/fuzzing/README.md).
 */
import test from 'ava';
import { fuzzReceive } from '../fuzzing/receive-fuzz.js';

test('fuzz: 20,000 hostile inputs (at most 60 s); receive stays up, bounded, and correct afterwards', async (t) => {
  const report = await fuzzReceive({ inputs: 20_000, maxMs: 60_000 });
  t.log(`${report.inputs} inputs on ${report.connections} connections in ${report.seconds.toFixed(1)} s; peak RSS ${(report.peakRssKiB.plain / 1024).toFixed(0)} / ${(report.peakRssKiB.secured / 1024).toFixed(0)} MiB; ${report.eventsEmitted} events emitted`);
  // bounded in time: a loaded machine gets fewer inputs, never a longer run; still a real number of them
  t.true(report.inputs >= 2_000, `only ${report.inputs} inputs`);
  t.true(report.survived, 'both receive processes survived');
  t.is(report.unsanitizedTags, 0, 'every emitted tag is sanitized');
  t.true(report.peakRssKiB.plain < 400 * 1024 && report.peakRssKiB.secured < 400 * 1024, `peak RSS ${JSON.stringify(report.peakRssKiB)} KiB`);
  t.true(report.afterAck, 'a valid client afterwards gets its ack');
  t.true(report.afterExact, 'and its 100 events come out exactly');
  t.deepEqual(report.exitCodes, { plain: 0, secured: 0 });
});
