import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import type { ResultPromise } from 'execa';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { logkit, tempDir } from '../helpers/logkit.js';
import { countSeqs, resendsOutOfOrder } from './dedup-scenario.js';
import { range, sourcedEvents, storeEvents } from './store-helpers.js';
import { waitFor } from '../helpers/wait.js';

/**
 * Every store drops what it already committed, by identity (options.src = {id, off}), with
 * resends out of order, against the real servers: the same scenario for each store
 * (ClickHouse's is in clickhouse.test.ts, which starts its server).
 */

const PG_URL = process.env.LOGKIT_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const MYSQL_URL = process.env.LOGKIT_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test';

const unique = (label: string): string => `logkit_test_${label}_${process.pid}_${Date.now() % 100000}`;

/** A PostgreSQL connection for the test, and a table name unique to this run, dropped at the end. */
async function postgresTable(t: ExecutionContext, label: string): Promise<{ client: pg.Client; table: string }> {
  const table = unique(label);
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  t.teardown(async () => {
    await client.query(`DROP TABLE IF EXISTS "${table}"`);
    await client.end();
  });
  return { client, table };
}

/** The same for MySQL/MariaDB. */
async function mysqlTable(t: ExecutionContext, label: string): Promise<{ c: mysql.Connection; table: string }> {
  const table = unique(label);
  const c = await mysql.createConnection({ uri: MYSQL_URL });
  t.teardown(async () => {
    await c.query(`DROP TABLE IF EXISTS \`${table}\``);
    await c.end();
  });
  return { c, table };
}

test('postgres: the identity key drops replays, out of order; gaps below the highest offset are stored', async (t) => {
  const dir = await tempDir(t);
  const { client, table } = await postgresTable(t, 'dedup');
  await resendsOutOfOrder(t, dir, ['postgres', PG_URL, '--table', table, '--create'], async () => {
    const { rows } = await client.query<{ seq: number }>(`SELECT (record->>'seq')::int AS seq FROM "${table}"`);
    return countSeqs(rows.map((r) => r.seq));
  });
  const { rows } = await client.query(`SELECT indexdef FROM pg_indexes WHERE tablename = $1 AND indexdef LIKE 'CREATE UNIQUE%'`, [table]);
  t.regex(String(rows[0]?.indexdef), /\(src_id, src_off\)/, '--create makes the unique identity key');
});

test('mysql: the identity key drops replays, out of order; gaps below the highest offset are stored', async (t) => {
  const dir = await tempDir(t);
  const { c, table } = await mysqlTable(t, 'dedup');
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
    await resendsOutOfOrder(t, dir, ['file', join(out, '${tag[0]}.ndjson'), '--fsync', fsync, '--fsync-interval', '20ms'], async () => countSeqs(await fileSeqs(out)));
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

/**
 * A table made before identities: stored into as before with one warning naming the statement
 * to run; --dedup on refuses it (exit 78); once the statement from the message is run, replays
 * are dropped.
 */
async function oldTable(t: ExecutionContext, dir: string, args: readonly string[], run: (sql: string) => Promise<void>, count: () => Promise<number>): Promise<void> {
  const events = sourcedEvents(range(0, 20), `old-${process.pid}-${Date.now()}`);
  const auto = await storeEvents(dir, args, events);
  t.is(auto.exitCode, 0, auto.stderr);
  t.is(auto.stderr.match(/has no identity columns/g)?.length, 1, auto.stderr);
  const on = await storeEvents(dir, [...args, '--dedup', 'on'], events);
  t.is(on.exitCode, 78, on.stderr);
  t.is(await count(), 20, 'the refused run stored nothing');
  const statements = /to drop replays: (.*)$/m.exec(on.stderr)?.[1] ?? '';
  for (const sql of statements.split('; ')) await run(sql);
  const first = await storeEvents(dir, [...args, '--dedup', 'on'], events);
  t.is(first.exitCode, 0, first.stderr);
  t.is(first.duplicates, 0, 'the rows stored before have no identity: these are new');
  const again = await storeEvents(dir, [...args, '--dedup', 'on'], events.slice().reverse());
  t.is(again.duplicates, 20);
  t.is(await count(), 40);
}

test('postgres: a table made before identities works with a warning; --dedup on refuses it until the statement it names is run', async (t) => {
  const dir = await tempDir(t);
  const { client, table } = await postgresTable(t, 'old');
  await client.query(`CREATE TABLE "${table}" (time timestamptz NOT NULL, time_nsec integer NOT NULL, tag text NOT NULL, record jsonb NOT NULL)`);
  await oldTable(t, dir, ['postgres', PG_URL, '--table', table], async (sql) => void (await client.query(sql)), async () => {
    const { rows } = await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${table}"`);
    return rows[0]!.n;
  });
});

test('mysql: a table made before identities works with a warning; --dedup on refuses it until the statement it names is run', async (t) => {
  const dir = await tempDir(t);
  const { c, table } = await mysqlTable(t, 'old');
  await c.query(`CREATE TABLE \`${table}\` (id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, \`time\` DATETIME(6) NOT NULL, time_nsec INT UNSIGNED NOT NULL,
    tag MEDIUMTEXT NOT NULL, record JSON NOT NULL) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`);
  await oldTable(t, dir, ['mysql', MYSQL_URL, '--table', table], async (sql) => void (await c.query(sql)), async () => {
    const [rows] = await c.query(`SELECT count(*) AS n FROM \`${table}\``);
    return Number((rows as Array<{ n: number }>)[0]!.n);
  });
});

test('file: kill -9 of the store at random moments, many times (tail --checkpoint resends what was not acknowledged): 0 lost, 0 duplicates; a full re-read afterwards adds nothing', async (t) => {
  const dir = await tempDir(t);
  const lines = 30_000;
  const batch = 50; // many small batches: many kills land between a batch's appends and its commit line
  const log = join(dir, 'app.log');
  await writeFile(log, range(0, lines).map((i) => `line ${i}\n`).join(''));
  const checkpoint = join(dir, 'app.ckpt');
  const out = join(dir, 'out');
  const stored = async (): Promise<string[]> =>
    (await readFile(join(out, 'all.log'), 'utf8').catch(() => '')).split('\n').filter(Boolean);
  /** tail --checkpoint | store --checkpoint: store acknowledges by committing positions tail resumes from. */
  const pipeline = (): { tail: ResultPromise; store: ResultPromise } => {
    const tail = logkit(['tail', '--no-follow', '--checkpoint', checkpoint, log]);
    const store = logkit(['store', '--checkpoint', checkpoint, '--batch-events', String(batch), '--flush-interval', '10ms', 'file', join(out, 'all.log')], {
      stdin: 'pipe',
    });
    store.stdin!.on('error', () => {});
    tail.stdout!.pipe(store.stdin!);
    return { tail, store };
  };
  /** Starts that cut back a batch a kill left without its commit line (each would have been a duplicate before). */
  let undone = 0;
  let kills = 0;
  for (let round = 0; round < 16 && (kills < 6 || undone < 2); round++) {
    const before = (await stored()).length;
    if (before >= lines - 3000) break;
    const { tail, store } = pipeline();
    // kill at a random moment once this run has stored something of its own
    const target = before + 200 + Math.floor(Math.random() * 1500);
    await waitFor(async () => (await stored()).length >= target, `round ${round} storing`, 60_000);
    store.kill('SIGKILL');
    tail.kill('SIGKILL');
    const [storeDone] = await Promise.all([store, tail]);
    undone += (String(storeDone.stderr).match(/bytes of a batch not acknowledged before a crash/g) ?? []).length;
    kills++;
  }
  const { tail, store } = pipeline();
  const [tailDone, storeDone] = await Promise.all([tail, store]);
  t.is(storeDone.exitCode, 0, String(storeDone.stderr));
  t.is(tailDone.exitCode, 0, String(tailDone.stderr));
  undone += (String(storeDone.stderr).match(/bytes of a batch not acknowledged before a crash/g) ?? []).length;
  const counts = countSeqs((await stored()).map((line) => Number(line.slice(5))));
  const missing = range(0, lines).filter((i) => !counts.has(i));
  const duplicates = [...counts.values()].reduce((a, n) => a + n - 1, 0);
  t.log(`${kills} kills, ${undone} inside the window (batch undone at the next start): ${duplicates} duplicates, ${missing.length} lost`);
  t.true(kills >= 6, `the store was killed mid-stream ${kills} times`);
  t.true(undone >= 1, `${undone} kills landed between a batch's appends and its commit line`);
  t.deepEqual(missing, [], 'nothing lost');
  t.is(duplicates, 0, `duplicates after ${kills} kills, ${undone} of them between a batch's appends and its commit line`);

  // the whole file again, from the start, without the checkpoint: every line is a replay
  const reread = await logkit(['tail', '--no-follow', log], { encoding: 'buffer' });
  const again = await logkit(['store', '--stats', 'file', join(out, 'all.log')], { input: reread.stdout as Buffer });
  t.is(again.exitCode, 0, String(again.stderr));
  t.regex(String(again.stderr), new RegExp(`duplicates=${lines}\\b`));
  t.is((await stored()).length, lines, 're-reading the whole file stored nothing');
});
