import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import { MAX_DEPTH } from '../../src/codec/depth-limit.js';
import { MessageStreamDecoder } from '../../src/codec/msgpack-reader.js';
import { logkit, tempDir } from '../helpers/logkit.js';
import { ndjson } from './helpers.js';
import { startReceive } from '../helpers/receive.js';
import { waitFor } from '../helpers/wait.js';

/** A JSON object nested `levels` deep (the object itself is level 1), marked with `n`. */
function deepLine(levels: number, n: number): string {
  return `${'{"a":'.repeat(levels - 1)}{"n":${n}}${'}'.repeat(levels - 1)}`;
}

function depthOf(value: unknown): number {
  if (typeof value !== 'object' || value === null) return 0;
  return 1 + Math.max(0, ...Object.values(value).map(depthOf));
}

test('parse json: a line nested deeper than the limit is a per-event parse error; the batch, the rest and exit 0 survive (MessagePack out)', async (t) => {
  const lines = ['{"n":0}', deepLine(300, 1), deepLine(100_000, 2), '{"n":3}'];
  const r = await logkit(['parse', 'json', '-o', 'msgpack'], { input: lines.join('\n') + '\n', encoding: 'buffer' });
  t.is(r.exitCode, 0, String(r.stderr));
  const events = new MessageStreamDecoder().push(Buffer.from(r.stdout as unknown as Uint8Array));
  t.is(events.length, 4);
  t.deepEqual(events[0]!.record, { n: 0 });
  for (const i of [1, 2]) {
    t.is(events[i]!.record.message, lines[i], 'the line is kept as it came');
    t.is(events[i]!.record.parse_error, `JSON nested deeper than ${MAX_DEPTH} levels (the stream's limit)`);
  }
  t.deepEqual(events[3]!.record, { n: 3 });
  t.regex(Buffer.from(r.stderr as unknown as Uint8Array).toString(), /2 of 4 lines did not parse as json; marked with the field parse_error \(first: JSON nested deeper than 64 levels/);
});

test('parse json --errors: the too-deep line goes to the errors file; --nest past the limit is an error too', async (t) => {
  const dir = await tempDir(t);
  const errors = join(dir, 'errors.ndjson');
  const lines = [deepLine(MAX_DEPTH, 0), deepLine(MAX_DEPTH + 1, 1), '{"n":2}'];
  const r = await logkit(['parse', 'json', '--errors', errors, '-o', 'json'], { input: lines.join('\n') + '\n' });
  t.is(r.exitCode, 0, String(r.stderr));
  const good = ndjson(r.stdout);
  t.is(good.length, 2);
  t.is(depthOf(good[0]!.record), MAX_DEPTH, 'the limit itself parses');
  t.deepEqual(good[1]!.record, { n: 2 });
  const bad = ndjson(await readFile(errors, 'utf8'));
  t.is(bad.length, 1);
  t.is(bad[0]!.record.message, lines[1]);
  t.regex(String(bad[0]!.record.parse_error), /nested deeper than 64 levels/);

  const nested = await logkit(['parse', 'json', '--nest', 'body', '-o', 'json'], { input: `${deepLine(MAX_DEPTH - 1, 0)}\n${deepLine(MAX_DEPTH, 1)}\n` });
  const out = ndjson(nested.stdout);
  t.is(depthOf(out[0]!.record), MAX_DEPTH);
  t.is(out[1]!.record.message, deepLine(MAX_DEPTH, 1));
  t.regex(String(out[1]!.record.parse_error), /the record with --nest nested deeper than 64 levels/);
});

test('end to end, parse json → forward → receive (default --max-depth): every depth from 1 to 256 is delivered or marked at parse, and nothing behind it is blocked', async (t) => {
  const depths = [1, 2, MAX_DEPTH - 1, MAX_DEPTH, MAX_DEPTH + 1, 100, 128, 200, 256, 1];
  const lines = depths.map((d, i) => deepLine(d, i));
  const parsed = await logkit(['parse', 'json', '-o', 'msgpack'], { input: lines.join('\n') + '\n', encoding: 'buffer' });
  t.is(parsed.exitCode, 0, String(parsed.stderr));
  const receiver = await startReceive(t);
  const forward = await logkit(['forward', `127.0.0.1:${receiver.port}`, '--heartbeat', 'none'], { input: parsed.stdout as unknown as Buffer, timeout: 60_000 });
  t.is(forward.exitCode, 0, String(forward.stderr));
  await waitFor(() => receiver.events.length === depths.length, `all ${depths.length} events at the receiver`);
  for (let i = 0; i < depths.length; i++) {
    const record = receiver.events[i]!.record;
    if (depths[i]! <= MAX_DEPTH) {
      t.is(depthOf(record), depths[i]!, `depth ${depths[i]} arrives as parsed`);
    } else {
      t.is(record.message, lines[i], `depth ${depths[i]} arrives as its line`);
      t.regex(String(record.parse_error), /nested deeper than 64 levels/);
    }
  }
  t.notRegex(receiver.stderr(), /nested deeper/, 'receive refused nothing');
});

test('behind tail --checkpoint, a too-deep line does not crash-loop the chain: the first run stores every line, a restart stores nothing again, both exit 0', async (t) => {
  const dir = await tempDir(t);
  const log = join(dir, 'app.log');
  const checkpoint = join(dir, 'app.ckpt');
  await writeFile(log, ['{"n":0}', deepLine(300, 1), deepLine(100_000, 2), '{"n":3}'].join('\n') + '\n');
  const chain = `tail --no-follow --tag app --checkpoint ${checkpoint} ${log} | parse json | store file ${join(dir, 'out', '${tag}.ndjson')} --checkpoint ${checkpoint}`;
  const stored = async () => ndjson(await readFile(join(dir, 'out', 'app.ndjson'), 'utf8'));
  const first = await logkit(['run', chain]);
  t.is(first.exitCode, 0, String(first.stderr));
  const records = (await stored()).map((e) => e.record);
  t.is(records.length, 4);
  t.deepEqual([records[0], records[3]], [{ n: 0 }, { n: 3 }]);
  t.regex(String(records[1]!.parse_error), /nested deeper than 64 levels/);
  const again = await logkit(['run', chain]);
  t.is(again.exitCode, 0, String(again.stderr));
  t.is((await stored()).length, 4, 'the restart resumes after the deep lines: nothing is read or stored twice');
});
