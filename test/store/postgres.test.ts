import test from 'ava';
import pg from 'pg';
import { logkit, tempDir } from '../helpers/logkit.js';
import { PostgresSink } from '../../src/store/sql/postgres-sink.js';
import { eventFile, feedStore, makeEvent, microsText } from './store-helpers.js';
import { waitFor } from '../helpers/wait.js';

/** PostgreSQL (started by `npm run test:all`): 127.0.0.1:5432, trust authentication, database test. */
const URL = process.env.LOGKIT_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

async function withClient<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: URL });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

function tableName(label: string): string {
  return `logkit_test_${label}_${process.pid}_${Date.now() % 100000}`;
}

async function dropTable(table: string): Promise<void> {
  await withClient((c) => c.query(`DROP TABLE IF EXISTS "${table}"`));
}

interface Row {
  seq: number;
  micros: string;
  time_nsec: number;
  tag: string;
  record: Record<string, unknown>;
}

async function readRows(table: string): Promise<Row[]> {
  return withClient(async (c) => {
    const { rows } = await c.query<Row>(
      `SELECT (record->>'seq')::int AS seq, to_char(time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') AS micros,
              time_nsec, tag, record FROM "${table}" ORDER BY 1`,
    );
    return rows;
  });
}

test('stores 100,000 events with COPY: exact count, times to the microsecond plus exact nanoseconds, unicode, nested records, special tags', async (t) => {
  const dir = await tempDir(t);
  const table = tableName('bulk');
  t.teardown(() => dropTable(table));
  const input = await eventFile(dir, 100_000);
  const started = Date.now();
  const r = await logkit(['store', 'postgres', URL, '--table', table, '--create'], { inputFile: input });
  const seconds = (Date.now() - started) / 1000;
  t.is(r.exitCode, 0, String(r.stderr));
  t.log(`postgres: 100000 events in ${seconds.toFixed(2)} s = ${Math.round(100_000 / seconds)} events/s (including process start)`);
  const rows = await readRows(table);
  t.is(rows.length, 100_000);
  let mismatches = 0;
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    const expected = makeEvent(i);
    if (row.seq !== i || row.micros !== microsText(expected.time) || row.time_nsec !== expected.time.nsec || row.tag !== expected.tag) mismatches++;
    else if (JSON.stringify(sortKeys(row.record)) !== JSON.stringify(sortKeys(expected.record))) mismatches++;
    if (mismatches === 1 && i === row.seq) t.deepEqual({ ...row, record: sortKeys(row.record) }, { seq: i, micros: microsText(expected.time), time_nsec: expected.time.nsec, tag: expected.tag, record: sortKeys(expected.record) });
  }
  t.is(mismatches, 0);
  const indexes = await withClient((c) => c.query(`SELECT indexname FROM pg_indexes WHERE tablename = $1`, [table]));
  t.is(indexes.rows.length, 3, '--create makes the BRIN, (tag, time) and unique (src_id, src_off) indexes');
});

test('a backend terminated mid-stream (pg_terminate_backend) loses nothing; duplicates at most one batch', async (t) => {
  const table = tableName('kill');
  t.teardown(() => dropTable(table));
  const total = 20_000;
  let killed = 0;
  const child = await feedStore(['postgres', URL, '--table', table, '--create', '--batch-events', '500', '--flush-interval', '50ms'], total, {
    chunk: 500,
    pauseMs: 5,
    midway: async () => {
      const result = await withClient((c) =>
        c.query(`SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name = $1`, [`logkit store ${table}`.slice(0, 63)]),
      );
      killed = result.rowCount ?? 0;
    },
  });
  const r = await child;
  t.is(r.exitCode, 0, String(r.stderr));
  t.true(killed >= 1, 'a store backend was terminated');
  const rows = await readRows(table);
  const seen = new Set(rows.map((row) => row.seq));
  t.is(seen.size, total, 'every event stored');
  t.true(rows.length - total <= 500, `duplicates (${rows.length - total}) at most one batch`);
});

test('SIGTERM flushes what was read, commits, exits 0', async (t) => {
  const table = tableName('term');
  t.teardown(() => dropTable(table));
  const child = logkit(['store', 'postgres', URL, '--table', table, '--create', '--flush-interval', '60000ms', '--stats-interval', '100ms'], { stdin: 'pipe' });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const { encode, makeEvents } = await import('./store-helpers.js');
  child.stdin!.write(encode(makeEvents(0, 1234)));
  // stdin stays open: only SIGTERM ends it; the long flush interval means nothing is stored before
  await waitFor(() => /events_in=1234 /.test(stderr), 'the store to have read the 1234 events');
  child.kill('SIGTERM');
  const r = await child;
  t.is(r.exitCode, 0, String(r.stderr));
  t.is((await readRows(table)).length, 1234);
});

test('permanent errors stop with a clear message and exit 69: unknown role, wrong table shape', async (t) => {
  const dir = await tempDir(t);
  const input = await eventFile(dir, 10);
  const badUser = await logkit(['store', 'postgres', 'postgres://no_such_role_logkit@127.0.0.1:5432/test'], { inputFile: input });
  t.is(badUser.exitCode, 69);
  t.regex(String(badUser.stderr), /no_such_role_logkit/);
  const table = tableName('shape');
  t.teardown(() => dropTable(table));
  await withClient((c) => c.query(`CREATE TABLE "${table}" (ts timestamptz, message text)`));
  const wrong = await logkit(['store', 'postgres', URL, '--table', table], { inputFile: input });
  t.is(wrong.exitCode, 69);
  t.regex(String(wrong.stderr), /lacks the column\(s\) time, time_nsec, tag, record/);
  const missing = await logkit(['store', 'postgres', URL, '--table', 'no_such_table_logkit'], { inputFile: input });
  t.is(missing.exitCode, 69);
  t.regex(String(missing.stderr), /does not exist \(--create makes it\)/);
  const injected = await logkit(['store', 'postgres', URL, '--table', 'x; DROP TABLE y'], { inputFile: input });
  t.is(injected.exitCode, 64, 'a table name that is not an identifier is refused');
});

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.keys(value).sort().map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]));
  }
  return value;
}

test('a permanent failure mid-stream (table dropped) stops with exit 69 and reports how many events read were not stored', async (t) => {
  const table = tableName('drop');
  t.teardown(() => dropTable(table));
  const total = 6000;
  let storedBeforeDrop = 0;
  const child = await feedStore(['postgres', URL, '--table', table, '--create', '--batch-events', '500', '--flush-interval', '20ms'], total, {
    chunk: 500,
    pauseMs: 20,
    midway: async () => {
      // wait until some batches are in, then take the table away
      await waitFor(async () => {
        storedBeforeDrop = Number((await withClient((c) => c.query(`SELECT count(*) AS n FROM "${table}"`))).rows[0].n);
        return storedBeforeDrop > 0;
      }, 'some batches stored', 5000, 50).catch(() => {});
      await withClient((c) => c.query(`DROP TABLE "${table}"`));
    },
  });
  const r = await child;
  t.is(r.exitCode, 69, String(r.stderr));
  t.true(storedBeforeDrop > 0);
  const match = /(\d+) events read were not stored/.exec(String(r.stderr));
  t.truthy(match, String(r.stderr));
  t.regex(String(r.stderr), /does not exist/);
});

// Two aggregators storing into one table start together (the chaos topology; any fleet after a
// reboot): CREATE TABLE/INDEX IF NOT EXISTS is not atomic in PostgreSQL, and the loser of the race
// failed on pg_class's own unique key ("duplicate key value violates unique constraint
// pg_class_relname_nsp_index", SQLSTATE 23505) and stopped.
test('--create: stores starting together on one new table all open it (no race on CREATE … IF NOT EXISTS)', async (t) => {
  for (let round = 0; round < 5; round++) {
    const table = tableName(`race${round}`);
    t.teardown(() => dropTable(table));
    const sinks = Array.from({ length: 8 }, () => new PostgresSink({ url: URL, table: { table }, create: true, dedup: 'auto', log: () => {}, onCommit: async () => {} }));
    const opened = await Promise.allSettled(sinks.map((s) => s.open()));
    await Promise.all(sinks.map((s) => s.close()));
    const failures = opened.flatMap((o) => (o.status === 'rejected' ? [String(o.reason)] : []));
    t.deepEqual(failures, [], `round ${round}`);
    // and the table each of them found is the whole one, identity key included
    const keyed = await withClient((c) => c.query(`SELECT 1 FROM pg_indexes WHERE tablename = $1 AND indexname = $2`, [table, `${table}_src`]));
    t.is(keyed.rowCount, 1);
  }
});
