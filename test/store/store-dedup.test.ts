import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import mysql from 'mysql2/promise';
import pg from 'pg';
import type { LogEvent } from '../../src/event/event.js';
import { tempDir } from '../helpers/logkit.js';
import { makeEvent, range, scrambled, sourcedEvents, storeEvents } from './store-helpers.js';

/**
 * Every store drops what it already committed, by identity (options.src = {id, off}), with
 * resends out of order, against the real servers: the same scenario for each store.
 */

const PG_URL = process.env.LOGKIT_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const MYSQL_URL = process.env.LOGKIT_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test';

const unique = (label: string): string => `logkit_test_${label}_${process.pid}_${Date.now() % 100000}`;

/** How a store's content is read back: seq → number of times stored. */
type CountStored = () => Promise<Map<number, number>>;

function countSeqs(seqs: Iterable<number>): Map<number, number> {
  const counts = new Map<number, number>();
  for (const seq of seqs) counts.set(seq, (counts.get(seq) ?? 0) + 1);
  return counts;
}

/** The seqs stored more than once, and the expected seqs not stored, for one readable assertion. */
function compare(counts: Map<number, number>, expected: readonly number[]): { missing: number[]; repeated: number[]; total: number } {
  return {
    missing: expected.filter((seq) => !counts.has(seq)),
    repeated: [...counts].filter(([, n]) => n > 1).map(([seq]) => seq).sort((x, y) => x - y),
    total: [...counts.values()].reduce((a, b) => a + b, 0),
  };
}

/**
 * The scenario every store must pass. Source A (offsets = seq, consecutive): 100–199 stored,
 * then 0–99 arrives (a resend after later chunks succeeded) and is stored, then 0–199 again in
 * a scrambled order: all dropped. Source B (byte offsets 57 apart, as lines give them): 0–49
 * and 100–149 stored, then 0–149 (a chunk failing over from another aggregator): 50–99 are
 * stored, the rest dropped: a gap below the highest offset is never taken for committed.
 * Events without an identity are stored every time; a repeat within one batch is stored once.
 */
async function resendsOutOfOrder(t: ExecutionContext, dir: string, args: readonly string[], countStored: CountStored, expectCounted = true): Promise<void> {
  const a = `A-${process.pid}-${Date.now()}`;
  const b = `B-${process.pid}-${Date.now()}`;
  const byteOffset = (seq: number): number => (seq - 1000 + 1) * 57;
  const run = async (events: LogEvent[], duplicates: number, what: string): Promise<void> => {
    const r = await storeEvents(dir, args, events);
    t.is(r.exitCode, 0, `${what}: ${r.stderr}`);
    if (expectCounted) t.is(r.duplicates, duplicates, `${what}: duplicates reported (${r.stderr.trim()})`);
  };

  await run(sourcedEvents(range(100, 200), a), 0, 'A 100–199');
  await run(sourcedEvents(range(0, 100).reverse(), a), 0, 'A 0–99, after 100–199');
  await run(sourcedEvents(scrambled(range(0, 200)), a), 200, 'A 0–199 again, scrambled');

  await run(sourcedEvents([...range(1000, 1050), ...range(1100, 1150)], b, byteOffset), 0, 'B 0–49 and 100–149');
  await run(sourcedEvents(scrambled(range(1000, 1150)), b, byteOffset), 100, 'B 0–149: the gap 50–99 stored, the rest dropped');

  const plain = range(2000, 2010).map((seq) => makeEvent(seq));
  await run(plain, 0, 'no identity');
  await run(plain, 0, 'no identity, again');

  const twice = sourcedEvents([3000, 3001, 3000, 3002, 3001], a, (seq) => seq);
  await run(twice, 2, 'a repeat within one batch');

  const counts = await countStored();
  const expected = [...range(0, 200), ...range(1000, 1150), ...range(2000, 2010), 3000, 3001, 3002];
  const { missing, repeated, total } = compare(counts, expected);
  t.deepEqual(missing, [], 'nothing lost');
  t.deepEqual(repeated, range(2000, 2010), 'only the events without an identity are stored twice');
  t.is(total, expected.length + 10);
}

test('postgres: the identity key drops replays, out of order; gaps below the highest offset are stored', async (t) => {
  const dir = await tempDir(t);
  const table = unique('dedup');
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  t.teardown(async () => {
    await client.query(`DROP TABLE IF EXISTS "${table}"`);
    await client.end();
  });
  await resendsOutOfOrder(t, dir, ['postgres', PG_URL, '--table', table, '--create'], async () => {
    const { rows } = await client.query<{ seq: number }>(`SELECT (record->>'seq')::int AS seq FROM "${table}"`);
    return countSeqs(rows.map((r) => r.seq));
  });
  const { rows } = await client.query(`SELECT indexdef FROM pg_indexes WHERE tablename = $1 AND indexdef LIKE 'CREATE UNIQUE%'`, [table]);
  t.regex(String(rows[0]?.indexdef), /\(src_id, src_off\)/, '--create makes the unique identity key');
});

test('mysql: the identity key drops replays, out of order; gaps below the highest offset are stored', async (t) => {
  const dir = await tempDir(t);
  const table = unique('dedup');
  const c = await mysql.createConnection({ uri: MYSQL_URL });
  t.teardown(async () => {
    await c.query(`DROP TABLE IF EXISTS \`${table}\``);
    await c.end();
  });
  await resendsOutOfOrder(t, dir, ['mysql', MYSQL_URL, '--table', table, '--create'], async () => {
    const [rows] = await c.query(`SELECT CAST(JSON_EXTRACT(record, '$.seq') AS UNSIGNED) AS seq FROM \`${table}\``);
    return countSeqs((rows as Array<{ seq: number | string }>).map((r) => Number(r.seq)));
  });
});

/** Every event in the NDJSON files under dir (the store's own directory aside). */
async function fileSeqs(dir: string): Promise<number[]> {
  const seqs: number[] = [];
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.ndjson') || entry.parentPath.includes('.logkit-store')) continue;
    for (const line of (await readFile(join(entry.parentPath, entry.name), 'utf8')).split('\n')) {
      if (line) seqs.push((JSON.parse(line) as { record: { seq: number } }).record.seq);
    }
  }
  return seqs;
}

for (const fsync of ['always', 'interval', 'never'] as const) {
  test(`file (--fsync ${fsync}): committed ranges drop replays across restarts, out of order; gaps below the highest offset are stored`, async (t) => {
    const dir = await tempDir(t);
    const out = join(dir, 'out');
    await resendsOutOfOrder(t, dir, ['file', join(out, '${tag[0]}.ndjson'), '--fsync', fsync, '--fsync-interval', '20'], async () => countSeqs(await fileSeqs(out)));
  });
}

test('--dedup off stores every event, replays included', async (t) => {
  const dir = await tempDir(t);
  const out = join(dir, 'out');
  const events = sourcedEvents(range(0, 50), `off-${process.pid}`);
  for (let i = 0; i < 2; i++) {
    const r = await storeEvents(dir, ['file', join(out, 'all.ndjson'), '--dedup', 'off'], events);
    t.is(r.exitCode, 0, r.stderr);
    t.is(r.duplicates, 0);
  }
  t.is((await fileSeqs(out)).length, 100);
});
