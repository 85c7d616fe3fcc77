import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import { readEvents } from '../../src/codec/read-events.js';
import type { LogEvent } from '../../src/event/event.js';
import { LinePipeline } from '../../src/tail/line-pipeline.js';
import { parseJSON } from '../../src/codec/ndjson.js';
import { logkit, tempDir } from '../helpers/logkit.js';

const MAX = 16;
/** Multi-byte characters, CRLF, invalid UTF-8, a line over the limit (cut inside a character), and a last line without newline. */
const BYTES = Buffer.concat([
  Buffer.from('añb€😀\r\n'),
  Buffer.from('plain\n\n'),
  Buffer.from([0x62, 0x61, 0x64, 0xff, 0xfe, 0x0a]),
  Buffer.from('0123456789abcd€€€€ and more\n'),
  Buffer.from('日本語\r\n'),
  Buffer.from('tail😀'),
]);
const EXPECTED = [
  { message: 'añb€😀' },
  { message: 'plain' },
  { message: '' },
  { message: Buffer.from([0x62, 0x61, 0x64, 0xff, 0xfe]) },
  { message: '0123456789abcd', truncated: true }, // 16 bytes would split the €: cut before it
  { message: '日本語' },
  { message: 'tail😀' },
];

async function viaReader(chunks: Buffer[]): Promise<unknown[]> {
  const source = (async function* () {
    yield* chunks;
  })();
  const records: unknown[] = [];
  for await (const batch of readEvents(source, { format: 'text', maxLineBytes: MAX })) records.push(...batch.map((e) => e.record));
  return records;
}

function viaTail(chunks: Buffer[]): unknown[] {
  const pipeline = new LinePipeline({ maxLineBytes: MAX, format: 'text', tag: 't', path: '-' }, 0);
  const events: LogEvent[] = [];
  for (const chunk of chunks) events.push(...pipeline.push(chunk));
  events.push(...pipeline.flushAll());
  return events.map((e) => e.record);
}

test('parse/cat (the stream reader) and tail make the same records of the same bytes, however they are chunked', async (t) => {
  t.deepEqual(await viaReader([BYTES]), EXPECTED);
  t.deepEqual(viaTail([BYTES]), EXPECTED);
  for (let cut = 1; cut < BYTES.length; cut++) {
    const chunks = [BYTES.subarray(0, cut), BYTES.subarray(cut)];
    const reader = await viaReader(chunks);
    if (JSON.stringify(reader) !== JSON.stringify(EXPECTED)) t.fail(`reader, cut at ${cut}: ${JSON.stringify(reader)}`);
    const tail = viaTail(chunks);
    if (JSON.stringify(tail) !== JSON.stringify(EXPECTED)) t.fail(`tail, cut at ${cut}: ${JSON.stringify(tail)}`);
  }
  const bytewise = [...BYTES].map((b) => Buffer.from([b]));
  t.deepEqual(await viaReader(bytewise), EXPECTED);
  t.deepEqual(viaTail(bytewise), EXPECTED);
});

test('the commands agree: logkit cat -i text (what parse reads raw text with) and logkit tail - give identical records', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'lines.txt');
  // the default 1 MiB limit: the long line is cut in the middle of a 3-byte character
  const long = 'z' + '€'.repeat(400_000);
  await writeFile(file, Buffer.concat([BYTES.subarray(0, BYTES.lastIndexOf('日本語')), Buffer.from(`${long}\n`), Buffer.from('tail😀')]));
  const [cat, tail] = await Promise.all([
    logkit(['cat', '-i', 'text', '-o', 'json', file]),
    logkit(['tail', '-', '-o', 'json'], { inputFile: file }),
  ]);
  t.is(cat.exitCode, 0, String(cat.stderr));
  t.is(tail.exitCode, 0, String(tail.stderr));
  const records = (stdout: unknown) =>
    String(stdout)
      .trimEnd()
      .split('\n')
      .map((line) => (parseJSON(line) as LogEvent).record);
  const fromCat = records(cat.stdout);
  t.deepEqual(fromCat, records(tail.stdout));
  t.is(fromCat.length, 7);
  t.deepEqual(fromCat[0], { message: 'añb€😀' });
  t.deepEqual(fromCat[3], { message: Buffer.from([0x62, 0x61, 0x64, 0xff, 0xfe]) });
  t.is(Buffer.byteLength(fromCat[5]!.message as string), 1 + 3 * 349_525, 'cut at the last whole character under 1 MiB');
  t.true(fromCat[5]!.truncated);
  t.deepEqual(fromCat[6], { message: 'tail😀' });
});
