// The PostgreSQL server's side of dedup: the CPU time of the backend that serves logkit's
// PostgresSink (read from /proc/PID/stat: the server must run on this machine), for 100,000
// events in batches of 10,000: plain COPY, and dedup (COPY into a temporary table, then INSERT …
// ON CONFLICT DO NOTHING) with new events and with replays.
//   node bench/store-postgres-dedup.mjs      (LOGKIT_POSTGRES_URL, default postgres://postgres@127.0.0.1:5432/test)
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
const ROOT = new URL('../', import.meta.url).pathname;
const pg = (await import(ROOT + 'node_modules/pg/lib/index.js')).default;
const { PostgresSink } = await import(ROOT + 'dist/src/store/sql/postgres-sink.js');
const { EventTime } = await import(ROOT + 'dist/src/event/event-time.js');
const PG_URL = process.env.LOGKIT_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const N = 100_000, BATCH = 10_000;
const events = (identities) => Array.from({ length: N }, (_, i) => ({
  tag: `app.svc${i % 8}`, time: new EventTime(1795823940 + Math.floor(i / 200), (i % 200) * 5_000_000),
  record: { seq: i, level: i % 10 ? 'info' : 'error', message: `GET /api/items/${i} 200 ${i % 997}ms`, host: 'web-1', nested: { user: `u${i % 5000}`, tags: ['a', 'b'] } },
  ...(identities ? { options: { src: { id: `2049:${1000 + (i % 4)}:1795823940`, off: (Math.floor(i / 4) + 1) * 80 } } } : {}),
}));
const admin = new pg.Client({ connectionString: PG_URL }); await admin.connect();
const ticks = (pid) => { const f = readFileSync(`/proc/${pid}/stat`, 'utf8'); const x = f.slice(f.lastIndexOf(')') + 2).split(' '); return (Number(x[11]) + Number(x[12])) / 100; };
async function measure(label, table, dedup, evs, rounds = 1) {
  const sink = new PostgresSink({ url: PG_URL, table: { table }, create: true, dedup, onCommit: () => {}, log: () => {} });
  await sink.open();
  const { rows } = await admin.query(`SELECT pid FROM pg_stat_activity WHERE application_name = $1`, [`logkit store ${table}`]);
  const pid = rows[0].pid;
  const before = ticks(pid); const client0 = process.cpuUsage(); const t0 = Date.now();
  for (let r = 0; r < rounds; r++) for (let i = 0; i < N; i += BATCH) await sink.write(evs.slice(i, i + BATCH));
  const server = ticks(pid) - before; const cu = process.cpuUsage(client0);
  console.log(`${label.padEnd(34)} server CPU ${server.toFixed(2)} s = ${Math.round(N / server)} ev/CPU-s; client CPU ${((cu.user + cu.system) / 1e6).toFixed(2)} s; wall ${((Date.now() - t0) / 1000).toFixed(2)} s; duplicates ${sink.duplicates}`);
  await sink.close();
}
const plainT = `bench_pgcost_plain_${process.pid}`, offT = `bench_pgcost_off_${process.pid}`, dedupT = `bench_pgcost_dedup_${process.pid}`;
console.log(`load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
try {
  await measure('no identities (COPY)', plainT, 'auto', events(false));
  await measure('identities, --dedup off (COPY)', offT, 'off', events(true));
  const ev = events(true);
  await measure('identities, dedup, new', dedupT, 'auto', ev);
  await measure('identities, dedup, all replays', dedupT, 'auto', ev);
} finally {
  for (const t of [plainT, offT, dedupT]) await admin.query(`DROP TABLE IF EXISTS ${t}`);
  await admin.end();
}
console.log(`load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
