import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import pg from 'pg';
import type { LogEvent } from '../../src/event/event.js';
import { FileSink } from '../../src/store/file/file-sink.js';
import { runStore } from '../../src/store/run-store.js';
import { PostgresSink } from '../../src/store/sql/postgres-sink.js';
import { tempDir } from '../helpers/logkit.js';
import { encode, makeEvents } from './store-helpers.js';

const PG_URL = process.env.LOGKIT_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A byte source that yields the events in several chunks, like a pipe. */
async function* chunks(events: LogEvent[], per: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < events.length; i += per) yield encode(events.slice(i, i + per));
}

const RUN = { input: 'auto', batchSize: 300, batchBytes: 8 << 20, flushIntervalMs: 20, retryMaxDelayMs: 200, retryTimeoutMs: 0, shutdownTimeoutMs: 1000 } as const;

test('the commit hook sees every event once, in order, and only after it is in the file (fsync interval: after the fsync)', async (t) => {
  const dir = await tempDir(t);
  const events = makeEvents(0, 2000);
  const committed: number[] = [];
  let linesOnDiskAtCommit = 0;
  const path = join(dir, 'all.ndjson');
  const sink = new FileSink({
    template: path, format: 'ndjson', gzip: false, gzipLevel: 6, fsync: 'interval', fsyncIntervalMs: 30, maxOpenFiles: 4, messageKey: 'message', dedup: true, log: () => {},
    onCommit: async (batch) => {
      for (const e of batch) committed.push(e.record.seq as number);
      linesOnDiskAtCommit = (await readFile(path, 'utf8')).split('\n').length - 1;
      t.true(linesOnDiskAtCommit >= committed.length, 'a committed event is already in the file');
    },
  });
  await runStore(sink, { ...RUN, source: chunks(events, 170) });
  t.deepEqual(committed, events.map((e) => e.record.seq as number));
});

test('the commit hook runs after the PostgreSQL COMMIT: the rows are visible to another connection', async (t) => {
  const table = `logkit_test_hook_${process.pid}`;
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  t.teardown(async () => {
    await client.query(`DROP TABLE IF EXISTS "${table}"`);
    await client.end();
  });
  const events = makeEvents(0, 1000);
  const committed: number[] = [];
  const sink = new PostgresSink({
    url: PG_URL, table: { table }, create: true, dedup: 'auto', log: () => {},
    onCommit: async (batch) => {
      const { rows } = await client.query(`SELECT count(*)::int AS n FROM "${table}"`);
      committed.push(...batch.map((e) => e.record.seq as number));
      t.is(rows[0].n, committed.length, 'every committed event is visible');
    },
  });
  await runStore(sink, { ...RUN, source: chunks(events, 130) });
  t.deepEqual(committed, events.map((e) => e.record.seq as number));
});

test('--batch-bytes bounds a batch by the input bytes behind it', async (t) => {
  const dir = await tempDir(t);
  const events = makeEvents(0, 3000);
  const perEvent = encode(events).length / events.length;
  const sizes: number[] = [];
  const sink = new FileSink({
    template: join(dir, 'x.ndjson'), format: 'ndjson', gzip: false, gzipLevel: 6, fsync: 'never', fsyncIntervalMs: 1000, maxOpenFiles: 4, messageKey: 'message', dedup: true, log: () => {},
    onCommit: (batch) => {
      sizes.push(batch.length);
    },
  });
  await runStore(sink, { ...RUN, batchSize: 1_000_000, batchBytes: 16 * 1024, flushIntervalMs: 60_000, source: chunks(events, 50) });
  t.is(sizes.reduce((a, b) => a + b, 0), 3000);
  const limit = Math.ceil((16 * 1024) / perEvent) + 50; // one input chunk may overshoot
  t.true(sizes.length >= 3000 / limit, `${sizes.length} batches`);
  t.true(sizes.every((n) => n <= limit), `batch sizes ${sizes.join(',')} ≤ ${limit}`);
});
