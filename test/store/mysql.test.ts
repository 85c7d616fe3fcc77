import test from 'ava';
import mysql from 'mysql2/promise';
import { logkit, tempDir } from '../helpers/logkit.js';
import { eventFile, feedStore, makeEvent, microsText } from './store-helpers.js';
import { waitFor } from '../helpers/wait.js';

/** MariaDB (or MySQL) (started by `npm run test:all`): 127.0.0.1:3306, root without password, database test. */
const URL = process.env.LOGKIT_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test';

async function withConnection<T>(work: (c: mysql.Connection) => Promise<T>): Promise<T> {
  const c = await mysql.createConnection({ uri: URL, charset: 'utf8mb4', timezone: 'Z', dateStrings: true });
  try {
    return await work(c);
  } finally {
    await c.end();
  }
}

function tableName(label: string): string {
  return `logkit_test_${label}_${process.pid}_${Date.now() % 100000}`;
}

async function dropTable(table: string): Promise<void> {
  await withConnection((c) => c.query(`DROP TABLE IF EXISTS \`${table}\``));
}

interface Row {
  seq: number;
  micros: string;
  time_nsec: number;
  tag: string;
  record: string | Record<string, unknown>;
}

async function readRows(table: string): Promise<Row[]> {
  return withConnection(async (c) => {
    const [rows] = await c.query(
      `SELECT CAST(JSON_EXTRACT(record, '$.seq') AS UNSIGNED) AS seq, DATE_FORMAT(time, '%Y-%m-%dT%H:%i:%s.%f') AS micros,
              time_nsec, tag, record FROM \`${table}\` ORDER BY seq, id`,
    );
    return (rows as Row[]).map((r) => ({ ...r, seq: Number(r.seq) }));
  });
}

function parseRecord(record: Row['record']): unknown {
  return typeof record === 'string' ? JSON.parse(record) : record;
}

test('stores 100,000 events with multi-row INSERTs: exact count, times to the microsecond plus exact nanoseconds, unicode, nested records, special tags', async (t) => {
  const dir = await tempDir(t);
  const table = tableName('bulk');
  t.teardown(() => dropTable(table));
  const input = await eventFile(dir, 100_000);
  const started = Date.now();
  const r = await logkit(['store', 'mysql', URL, '--table', table, '--create'], { inputFile: input });
  const seconds = (Date.now() - started) / 1000;
  t.is(r.exitCode, 0, String(r.stderr));
  t.log(`mysql (MariaDB): 100000 events in ${seconds.toFixed(2)} s = ${Math.round(100_000 / seconds)} events/s (including process start)`);
  const rows = await readRows(table);
  t.is(rows.length, 100_000);
  let mismatches = 0;
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    const expected = makeEvent(i);
    const same =
      row.seq === i && row.micros === microsText(expected.time) && Number(row.time_nsec) === expected.time.nsec && row.tag === expected.tag &&
      JSON.stringify(sortKeys(parseRecord(row.record))) === JSON.stringify(sortKeys(expected.record));
    if (!same && mismatches++ === 0) {
      t.deepEqual(
        { seq: row.seq, micros: row.micros, nsec: Number(row.time_nsec), tag: row.tag, record: sortKeys(parseRecord(row.record)) },
        { seq: i, micros: microsText(expected.time), nsec: expected.time.nsec, tag: expected.tag, record: sortKeys(expected.record) },
      );
    }
  }
  t.is(mismatches, 0);
});

test('a connection KILLed mid-stream loses nothing; duplicates at most one batch', async (t) => {
  const table = tableName('kill');
  t.teardown(() => dropTable(table));
  const total = 20_000;
  let killed = 0;
  const child = await feedStore(['mysql', URL, '--table', table, '--create', '--batch-events', '500', '--flush-interval', '50ms'], total, {
    chunk: 500,
    pauseMs: 5,
    midway: async () => {
      // only the store's own connection: the one caught running an INSERT into this test's table
      await withConnection(async (c) => {
        await waitFor(async () => {
          const [rows] = await c.query(`SELECT id FROM information_schema.processlist WHERE id <> CONNECTION_ID() AND info LIKE ?`, [`INSERT INTO \`${table}\`%`]);
          for (const { id } of rows as Array<{ id: number }>) {
            await c.query(`KILL ${Number(id)}`).catch(() => {});
            killed++;
          }
          return killed > 0;
        }, 'an INSERT of the store running', 5000, 10).catch(() => {});
      });
    },
  });
  const r = await child;
  t.is(r.exitCode, 0, String(r.stderr));
  t.true(killed >= 1, 'a store connection was killed');
  const rows = await readRows(table);
  const seen = new Set(rows.map((row) => row.seq));
  t.is(seen.size, total, 'every event stored');
  t.true(rows.length - total <= 500, `duplicates (${rows.length - total}) at most one batch`);
});

test('SIGTERM flushes what was read, commits, exits 0', async (t) => {
  const table = tableName('term');
  t.teardown(() => dropTable(table));
  const child = logkit(['store', 'mysql', URL, '--table', table, '--create', '--flush-interval', '60000ms', '--stats-interval', '100ms'], { stdin: 'pipe' });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const { encode, makeEvents } = await import('./store-helpers.js');
  child.stdin!.write(encode(makeEvents(0, 777)));
  // stdin stays open: only SIGTERM ends it; the long flush interval means nothing is stored before
  await waitFor(() => /events_in=777 /.test(stderr), 'the store to have read the 777 events');
  child.kill('SIGTERM');
  const r = await child;
  t.is(r.exitCode, 0, String(r.stderr));
  t.is((await readRows(table)).length, 777);
});

test('permanent errors stop with a clear message and exit 69: bad credentials, wrong table shape', async (t) => {
  const dir = await tempDir(t);
  const input = await eventFile(dir, 10);
  const badUser = await logkit(['store', 'mysql', 'mysql://no_such_user_logkit:wrong@127.0.0.1:3306/test'], { inputFile: input });
  t.is(badUser.exitCode, 69);
  t.regex(String(badUser.stderr), /Access denied/);
  t.notRegex(String(badUser.stderr), /wrong/, 'the password is not printed');
  const table = tableName('shape');
  t.teardown(() => dropTable(table));
  await withConnection((c) => c.query(`CREATE TABLE \`${table}\` (ts DATETIME, message TEXT)`));
  const wrong = await logkit(['store', 'mysql', URL, '--table', table], { inputFile: input });
  t.is(wrong.exitCode, 69);
  t.regex(String(wrong.stderr), /lacks the column\(s\) time, time_nsec, tag, record/);
});

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.keys(value).sort().map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]));
  }
  return value;
}
