import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import { MessageStreamDecoder } from '../../src/codec/msgpack-reader.js';
import { eventToJSON } from '../../src/codec/ndjson.js';
import { EventTime } from '../../src/event/event-time.js';
import { logkit, tempDir } from '../helpers/logkit.js';

const MIB = 1024 * 1024;
const line = (tag: string, record: Record<string, unknown>) => eventToJSON({ tag, time: new EventTime(1700000000, 0), record });
const big = line('app.big', { message: 'x'.repeat(2 * MIB) });
const small = (n: number) => line('app.small', { n });

test('an NDJSON line over 1 MiB first: the input is still read as NDJSON, that line is skipped and reported, every other event flows, exit 65 at the end', async (t) => {
  const r = await logkit(['cat', '-o', 'json'], { input: [big, small(1), small(2)].join('\n') + '\n' });
  t.is(r.exitCode, 65);
  const out = String(r.stdout).trimEnd().split('\n').map((l) => JSON.parse(l) as { tag: string; record: unknown });
  t.deepEqual(out.map((e) => [e.tag, e.record]), [['app.small', { n: 1 }], ['app.small', { n: 2 }]], 'not one raw-text "stdin" event');
  t.regex(String(r.stderr), /line 1: an NDJSON line longer than 1048576 bytes, skipped/);
  t.regex(String(r.stderr), /stdin: line 1: 1 NDJSON line was longer than the 1048576-byte line limit and skipped \(this is the first: an NDJSON line longer than 1048576 bytes\); every other event was read/);
});

test('an NDJSON line over 1 MiB later: store keeps every event before and after it, and says which line it skipped', async (t) => {
  const dir = await tempDir(t);
  const input = [small(1), big, small(2), big, small(3)].join('\n') + '\n';
  const r = await logkit(['store', 'file', join(dir, '${tag}.msgpack')], { input });
  t.is(r.exitCode, 65, String(r.stderr));
  t.deepEqual((await readdir(dir)).filter((name) => !name.startsWith('.')), ['app.small.msgpack'], 'no file for the skipped tag');
  const stored = new MessageStreamDecoder().push(await readFile(join(dir, 'app.small.msgpack')));
  t.deepEqual(stored.map((e) => e.record), [{ n: 1 }, { n: 2 }, { n: 3 }]);
  t.regex(String(r.stderr), /line 2: an NDJSON line longer than 1048576 bytes, skipped/);
  t.regex(String(r.stderr), /line 4: an NDJSON line longer than 1048576 bytes, skipped/);
  t.regex(String(r.stderr), /stdin: line 2: 2 NDJSON lines were longer than the 1048576-byte line limit and skipped/);
});

test('raw text is still raw text when its first line is long, and the long line is cut and flagged like tail does', async (t) => {
  const text = 'y'.repeat(2 * MIB);
  const r = await logkit(['cat', '-o', 'json'], { input: `${text}\nshort\n` });
  t.is(r.exitCode, 0, String(r.stderr));
  const out = String(r.stdout).trimEnd().split('\n').map((l) => JSON.parse(l) as { tag: string; record: { message: string; truncated?: boolean } });
  t.is(out.length, 2);
  t.is(out[0]!.tag, 'stdin');
  t.is(out[0]!.record.message.length, MIB);
  t.true(out[0]!.record.truncated);
  t.deepEqual(out[1]!.record, { message: 'short' });
});

test('cat -i json: a line nested deeper than the limit is skipped like any bad line: what came before and after is written, exit 65 naming the line', async (t) => {
  const deep = `{"tag":"t","record":${'{"a":'.repeat(300)}1${'}'.repeat(300)}}`;
  const r = await logkit(['cat', '-i', 'json', '-o', 'msgpack'], { input: [small(1), deep, small(2)].join('\n') + '\n', encoding: 'buffer' });
  t.is(r.exitCode, 65);
  const written = new MessageStreamDecoder().push(Buffer.from(r.stdout as unknown as Uint8Array));
  t.deepEqual(written.map((e) => e.record), [{ n: 1 }, { n: 2 }]);
  t.regex(Buffer.from(r.stderr as unknown as Uint8Array).toString(), /stdin: line 2: 1 NDJSON line was not an event and skipped \(this is the first: record nested deeper than 64 levels \(the stream's limit\)\)/);
});

test('store: an invalid line and a line nested too deep between good ones: every good event is stored, exit 65 names the first bad line', async (t) => {
  const dir = await tempDir(t);
  const deep = `{"tag":"app.small","record":${'{"a":'.repeat(300)}1${'}'.repeat(300)}}`;
  const r = await logkit(['store', 'file', join(dir, '${tag}.msgpack')], { input: [small(1), deep, small(2), '{"tag":', small(3)].join('\n') + '\n' });
  t.is(r.exitCode, 65, String(r.stderr));
  const stored = new MessageStreamDecoder().push(await readFile(join(dir, 'app.small.msgpack')));
  t.deepEqual(stored.map((e) => e.record), [{ n: 1 }, { n: 2 }, { n: 3 }]);
  t.regex(String(r.stderr), /stdin: line 2: 2 NDJSON lines were not events and skipped \(this is the first: record nested deeper than 64 levels/);
});
