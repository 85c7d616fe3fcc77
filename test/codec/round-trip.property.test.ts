import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import type { LogEvent } from '../../src/event/event.js';
import { eventToJSON, jsonToEvent } from '../../src/codec/ndjson.js';
import { logkit, tempDir } from '../helpers/logkit.js';
import { randomEvents } from '../helpers/random-events.js';

// Property: thousands of random events survive NDJSON → `logkit cat -o msgpack` → `logkit cat -o json`
// exactly — unicode and binary strings, nested maps and arrays, 64-bit integers, floats,
// nanosecond times, options maps. The generator is seeded, so a failure is reproducible.

const SEED = Number(process.env.LOGKIT_PROPERTY_SEED ?? 20261121);
const { randomEvent } = randomEvents(SEED);

test(`${5000} random events round-trip NDJSON → msgpack → NDJSON exactly (seed ${SEED})`, async (t) => {
  const dir = await tempDir(t);
  const events = Array.from({ length: 5000 }, randomEvent);
  const ndjson = events.map(eventToJSON).join('\n') + '\n';
  await writeFile(join(dir, 'in.ndjson'), ndjson);

  const toMsgpack = await logkit(['cat', '-o', 'msgpack', join(dir, 'in.ndjson')], { encoding: 'buffer' });
  t.is(toMsgpack.exitCode, 0, String(toMsgpack.stderr));
  await writeFile(join(dir, 'mid.msgpack'), toMsgpack.stdout as Uint8Array);
  const toJSON = await logkit(['cat', '-o', 'json', join(dir, 'mid.msgpack')]);
  t.is(toJSON.exitCode, 0, String(toJSON.stderr));

  // What the input NDJSON means (an integral double like -3051051942165941000 is, as JSON text,
  // an integer: it reads back as int64) must be exactly what comes out.
  const inputLines = ndjson.trimEnd().split('\n');
  const lines = String(toJSON.stdout).trimEnd().split('\n');
  t.is(lines.length, events.length);
  const shape = (e: LogEvent) => ({ tag: e.tag, sec: e.time.sec, nsec: e.time.nsec, record: e.record, options: e.options });
  for (let i = 0; i < events.length; i++) {
    const back = jsonToEvent(lines[i]!);
    const expected = jsonToEvent(inputLines[i]!);
    if (typeof back === 'string' || typeof expected === 'string') return t.fail(`line ${i + 1}: ${String(back)} ${String(expected)}`);
    t.deepEqual(shape(back), shape(expected), `event ${i}`);
    t.is(back.time.nsec, events[i]!.time.nsec);
  }
  // and the text itself is identical: same key order, same number spelling
  t.is(String(toJSON.stdout), ndjson);
  t.true((await readFile(join(dir, 'in.ndjson'), 'utf8')).length > 100_000);
});
