import { join } from 'node:path';
import test from 'ava';
import { execa } from 'execa';
import { ROOT, logkit, tempDir } from '../helpers/logkit.js';
import { countSeqs, resendsOutOfOrder } from './dedup-scenario.js';
import { eventFile, feedStore, makeEvent, range, sourcedEvents, storeEvents } from './store-helpers.js';
import { freePort } from '../helpers/net.js';
import { waitFor } from '../helpers/wait.js';

/**
 * The ClickHouse server of tools/test-env/start-clickhouse.sh (which `npm run test:all` calls and which exports
 * LOGKIT_CLICKHOUSE_URL). Run directly by `npm test`, the tests start it themselves through the same
 * idempotent script; without clickhouse-server installed they fail, saying so.
 * Serial: one test restarts the server.
 */
let URL = process.env.LOGKIT_CLICKHOUSE_URL ?? '';

test.before(async () => {
  if (URL) return;
  const started = await execa('bash', [join(ROOT, 'tools/test-env/start-clickhouse.sh')], { reject: false });
  const url = /LOGKIT_CLICKHOUSE_URL=(\S+)/.exec(started.stdout)?.[1];
  if (!url) throw new Error(`no ClickHouse server: install clickhouse-server (apt-get install clickhouse-server) or run 'npm run test:all'\n${started.stderr}`);
  URL = url;
});

async function query(sql: string): Promise<string> {
  const response = await fetch(URL, { method: 'POST', body: sql });
  const text = await response.text();
  if (!response.ok) throw new Error(text);
  return text;
}

function tableName(label: string): string {
  return `logkit_test_${label}_${process.pid}_${Date.now() % 100000}`;
}

interface Row {
  sec: number;
  time_nsec: number;
  tag: string;
  record: string;
}

async function readRows(table: string): Promise<Array<Row & { seq: number }>> {
  const text = await query(`SELECT toUnixTimestamp(time) AS sec, time_nsec, tag, record FROM ${table} FORMAT JSONEachRow`);
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const row = JSON.parse(line) as Row;
      return { ...row, sec: Number(row.sec), time_nsec: Number(row.time_nsec), seq: (JSON.parse(row.record) as { seq: number }).seq };
    })
    .sort((a, b) => a.seq - b.seq);
}

test.serial('stores 100,000 events as JSONEachRow: exact count, seconds plus exact nanoseconds, unicode, nested records, special tags', async (t) => {
  const dir = await tempDir(t);
  const table = tableName('bulk');
  t.teardown(() => query(`DROP TABLE IF EXISTS ${table}`));
  const input = await eventFile(dir, 100_000);
  const started = Date.now();
  const r = await logkit(['store', 'clickhouse', URL, '--table', table, '--create'], { inputFile: input });
  const seconds = (Date.now() - started) / 1000;
  t.is(r.exitCode, 0, String(r.stderr));
  t.log(`clickhouse 18.16: 100000 events in ${seconds.toFixed(2)} s = ${Math.round(100_000 / seconds)} events/s (including process start)`);
  const rows = await readRows(table);
  t.is(rows.length, 100_000);
  let mismatches = 0;
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    const expected = makeEvent(i);
    const same = row.seq === i && row.sec === expected.time.sec && row.time_nsec === expected.time.nsec && row.tag === expected.tag && row.record === JSON.stringify(expected.record);
    if (!same && mismatches++ === 0) {
      t.deepEqual(
        { seq: row.seq, sec: row.sec, nsec: row.time_nsec, tag: row.tag, record: JSON.parse(row.record) as unknown },
        { seq: i, sec: expected.time.sec, nsec: expected.time.nsec, tag: expected.tag, record: expected.record },
      );
    }
  }
  t.is(mismatches, 0);
  const partitions = (await query(`SELECT DISTINCT partition FROM system.parts WHERE table = '${table}' AND active ORDER BY partition`)).trim().split('\n');
  t.deepEqual(partitions, ['20261127', '20261128'], 'one partition per day (the events cross midnight)');
});

test.serial('a server restarted mid-stream loses nothing; duplicates at most one batch', async (t) => {
  const table = tableName('restart');
  t.teardown(() => query(`DROP TABLE IF EXISTS ${table}`).catch(() => {}));
  const total = 20_000;
  const child = await feedStore(['clickhouse', URL, '--table', table, '--create', '--batch-events', '500', '--flush-interval', '50ms', '--retry-max-interval', '500ms'], total, {
    chunk: 500,
    pauseMs: 5,
    midway: async () => {
      await execa(join(ROOT, 'tools/test-env/start-clickhouse.sh'), ['restart']);
    },
  });
  const r = await child;
  t.is(r.exitCode, 0, String(r.stderr));
  const rows = await readRows(table);
  const seen = new Set(rows.map((row) => row.seq));
  t.is(seen.size, total, 'every event stored');
  t.true(rows.length - total <= 500, `duplicates (${rows.length - total}) at most one batch`);
});

test.serial('an unknown table is a permanent error (exit 69); an unreachable server is retried, then given up (exit 75)', async (t) => {
  const dir = await tempDir(t);
  const input = await eventFile(dir, 10);
  const missing = await logkit(['store', 'clickhouse', URL, '--table', 'no_such_table_logkit'], { inputFile: input });
  t.is(missing.exitCode, 69);
  t.regex(String(missing.stderr), /does not exist \(--create makes it\)/);
  const down = await logkit(['store', 'clickhouse', `http://127.0.0.1:${await freePort()}/`, '--retry-timeout', '1', '--retry-max-interval', '200ms'], { inputFile: input });
  t.is(down.exitCode, 75);
  t.regex(String(down.stderr), /ECONNREFUSED|fetch failed/);
  t.regex(String(down.stderr), /gave up retrying/);
});

test.serial('SIGTERM while the server is unreachable: retries for --drain-timeout, then exits 75 (the unread events stay in the pipe)', async (t) => {
  const closedPort = await freePort();
  const child = logkit(['store', 'clickhouse', `http://127.0.0.1:${closedPort}/`, '--drain-timeout', '1', '--retry-max-interval', '200ms', '--flush-interval', '10ms'], { stdin: 'pipe' });
  const { encode, makeEvents } = await import('./store-helpers.js');
  child.stdin!.write(encode(makeEvents(0, 50)));
  // it says it is retrying once its handlers are installed and the first attempt failed
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  await waitFor(() => /retrying/.test(stderr), 'the store to say it is retrying', 10_000);
  child.kill('SIGTERM');
  const r = await child;
  t.is(r.exitCode, 75, String(r.stderr));
  t.regex(String(r.stderr), /gave up retrying/);
  t.notRegex(String(r.stderr), /were not stored/, 'it never connected, so it read nothing it could lose');
});

test.serial('dedup: --create makes a ReplacingMergeTree on (src_id, src_off); read with FINAL, replays out of order are gone and nothing is lost', async (t) => {
  const dir = await tempDir(t);
  const table = tableName('dedup');
  t.teardown(() => query(`DROP TABLE IF EXISTS ${table}`));
  // ClickHouse collapses replays when it merges parts: it cannot count them at INSERT time
  await resendsOutOfOrder(t, dir, ['clickhouse', URL, '--table', table, '--create'], async () => {
    const text = await query(`SELECT record FROM ${table} FINAL FORMAT JSONEachRow`);
    return countSeqs(text.split('\n').filter(Boolean).map((line) => (JSON.parse((JSON.parse(line) as { record: string }).record) as { seq: number }).seq));
  }, false);
  t.is((await query(`SELECT engine, sorting_key FROM system.tables WHERE database = currentDatabase() AND name = '${table}' FORMAT TSV`)).trim(), 'ReplacingMergeTree\tsrc_id, src_off');
  // the documented queries without FINAL: GROUP BY the identity, and OPTIMIZE … FINAL to merge now
  const grouped = Number((await query(`SELECT count() FROM (SELECT src_id, src_off FROM ${table} GROUP BY src_id, src_off)`)).trim());
  t.is(grouped, 200 + 150 + 20 + 3);
  await query(`OPTIMIZE TABLE ${table} FINAL`);
  t.is(Number((await query(`SELECT count() FROM ${table}`)).trim()), 200 + 150 + 20 + 3, 'merged: the replays are gone from the table itself');
});

test.serial('dedup: a table made before identities is stored into as before with one warning; --dedup on refuses it (exit 78) saying what to do', async (t) => {
  const dir = await tempDir(t);
  const table = tableName('olddedup');
  t.teardown(() => query(`DROP TABLE IF EXISTS ${table}`));
  await query(`CREATE TABLE ${table} (time DateTime('UTC'), time_nsec UInt32, tag String, record String) ENGINE = MergeTree() PARTITION BY toYYYYMMDD(time) ORDER BY (tag, time)`);
  const events = sourcedEvents(range(0, 20), `old-${process.pid}`);
  const auto = await storeEvents(dir, ['clickhouse', URL, '--table', table], events);
  t.is(auto.exitCode, 0, auto.stderr);
  t.is(auto.stderr.match(/has no identity columns/g)?.length, 1, auto.stderr);
  t.regex(auto.stderr, /ReplacingMergeTree ordered by \(src_id, src_off\)/);
  const on = await storeEvents(dir, ['clickhouse', URL, '--table', table, '--dedup', 'on'], events);
  t.is(on.exitCode, 78, on.stderr);
  t.regex(on.stderr, /--dedup on: table \S+ has no identity columns/);
  t.is(Number((await query(`SELECT count() FROM ${table}`)).trim()), 20, 'the refused run stored nothing');
});
