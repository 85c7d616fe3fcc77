#!/usr/bin/env node
// The delivery-guarantee chaos test (issue 5): the whole topology on this machine, random kill -9.
//
//   collector:       logkit tail --from-head --pos P --checkpoint C 'DIR/app.log*' | logkit parse json
//                      | logkit forward 127.0.0.1:A1 127.0.0.1:A2 --buffer B --checkpoint C
//   aggregator 1, 2: logkit receive --bind 127.0.0.1:Ai --buffer Bi --checkpoint Ci
//                      | logkit store file 'OUTi/${tag}.ndjson' --checkpoint Ci
//
// With --store postgres the aggregators store into one PostgreSQL table instead (both into the same one).
//
// Each unit is a shell pipeline in its own process group, supervised like a systemd unit with
// Restart=always and KillMode=control-group: when any member exits, the rest of the unit is stopped
// (SIGTERM, SIGKILL after 3 s) and the unit restarts 200 ms after its shell exited. A writer appends
// LINES numbered JSON lines ({"seq":N,...}) to DIR/app.log, rotating it (rename to app.log.K, create a
// new app.log; rotated files are kept and matched by the glob) every LINES/ROTATIONS lines. Meanwhile
// KILLS times, at seeded random moments spread over the writer's run, a randomly chosen logkit process
// (any of the 7) gets SIGKILL. At the end (writer done, every number in a store or the drain timeout
// passed) every unit gets SIGTERM, and the stores are read: lost = numbers missing from every store,
// duplicates = lines stored beyond the first copy of a number, per store (each aggregator's files,
// the union of both, the PostgreSQL table). The file stores are also checked for IDENTITY: every
// stored event must carry in options.src the file identity (its inode) and the offset just past
// its line, exactly as the writer wrote it: what the stores de-duplicate on.
//
// Failover (--failover-at S): at S seconds (or later, once it has committed something) aggregator 2 is killed -9 for good (no restart; the random
// kills then spare it): forward fails its chunks over to aggregator 1. Once the writer is done,
// aggregator 2 is started once more to store what its buffer kept (an operator recovering the
// machine's disk), and the drain waits for every number as in the plain run. A chunk aggregator 2 had made durable
// but whose ack was lost is then stored by both: each file store holds its copy (a duplicate across
// the union of files); a store that de-duplicates on identity (the PostgreSQL table) holds one.
//
// Full run (the documented one; several minutes on 2 cores):
//   npm run build && node bench/chaos.mjs --lines 200000 --kills 20 --seconds 90 --seed 1
// The suite runs reduced ones (test/durability/chaos.test.ts): --lines 20000 --kills 20 --seconds 30, into
// the file store and into PostgreSQL, and a failover run into each.
// Options: --lines N --kills N --seconds S (writer duration) --rotations N --seed N --drain-timeout S
//          --only UNIT (kill only in units named so: collector, aggregator) --keep (keep the temp dir) --json (print a JSON summary as the last line)
//          --store file|postgres (postgres: LOGKIT_CHAOS_PG_URL, default postgres://postgres@127.0.0.1:5432/test; a fresh table per run, dropped after, even on SIGINT/SIGTERM; the JSON summary names it)
//          --failover-at S (see above) --failover-delay S (forward's, default 10) --allow-duplicates (duplicates do not fail the run).
// Exit status: 0 when nothing is lost, every stored identity is right, and no store holds a duplicate
// (the union of the files after a failover aside: see above) unless --allow-duplicates; 1 otherwise.
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { freePort } from './lib/free-port.mjs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const argv = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? Number(argv[i + 1]) : fallback;
};
const LINES = opt('lines', 200_000);
const KILLS = opt('kills', 20);
const SECONDS = opt('seconds', 90);
const ROTATIONS = opt('rotations', 10);
const SEED = opt('seed', 1);
const DRAIN_TIMEOUT = opt('drain-timeout', 120);
const KEEP = argv.includes('--keep');
const JSON_OUT = argv.includes('--json');
const ONLY = argv.includes('--only') ? argv[argv.indexOf('--only') + 1] : ''; // kill only in units whose name starts so
const STORE = argv.includes('--store') ? argv[argv.indexOf('--store') + 1] : 'file';
const FAILOVER_AT = opt('failover-at', 0);
const FAILOVER_DELAY = opt('failover-delay', 10); // forward's --failover-delay, in seconds
const ALLOW_DUPLICATES = argv.includes('--allow-duplicates');
const PG_URL = process.env.LOGKIT_CHAOS_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
if (STORE !== 'file' && STORE !== 'postgres') {
  process.stderr.write(`chaos: --store is file or postgres, not ${STORE}\n`);
  process.exit(2);
}

const BIN = new URL('../bin/logkit.js', import.meta.url).pathname;
const LOGKIT = `${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)}`;
const root = mkdtempSync(join(tmpdir(), 'logkit-chaos-'));
const started = Date.now();
const elapsed = () => ((Date.now() - started) / 1000).toFixed(1);
const say = (line) => process.stderr.write(`[chaos ${elapsed().padStart(6)}s] ${line}\n`);

/** mulberry32: a small seeded PRNG, so a run's kill schedule and victims repeat. */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = prng(SEED);

const q = (s) => `'${s.replace(/'/g, `'\\''`)}'`;

// --------------------------------------------------------------------------- units

class Unit {
  constructor(name, pipeline, members) {
    this.name = name;
    this.pipeline = pipeline;
    this.members = members;
    this.shell = undefined;
    this.starts = 0;
    this.stopping = false;
    this.degradedSince = 0;
    this.log = join(root, `${name}.stderr`);
  }

  start() {
    this.starts++;
    this.degradedSince = 0;
    writeFileSync(this.log, `--- start ${this.starts} at ${elapsed()}s\n`, { flag: 'a' });
    // bash runs the pipeline in its own process group (detached), so the unit is killed as a whole
    const shell = spawn('bash', ['-c', `exec 2>>${q(this.log)}; ${this.pipeline}`], { detached: true, stdio: 'ignore' });
    this.shell = shell;
    shell.on('exit', () => {
      if (this.shell !== shell) return;
      // KillMode=control-group: nothing of the old unit outlives it
      try {
        process.kill(-shell.pid, 'SIGKILL');
      } catch {}
      this.shell = undefined;
      if (!this.stopping) setTimeout(() => !this.stopping && !this.shell && this.start(), 200);
    });
  }

  /** The unit's logkit processes (pid, command) from /proc. */
  processes() {
    if (!this.shell) return [];
    // node running bin/logkit.js (not the shell, nor a forked shell about to exec one)
    return groupMembers(this.shell.pid).filter((p) => p.argv[1] === BIN);
  }

  /** KillMode=control-group: once a member died, stop what is left so that the unit restarts. */
  supervise() {
    if (!this.shell || this.stopping) return;
    const alive = this.processes().length;
    if (alive >= this.members) {
      this.degradedSince = 0;
      return;
    }
    if (this.degradedSince === 0) this.degradedSince = Date.now();
    else if (Date.now() - this.degradedSince > 500) this.signal('SIGTERM', 3000);
  }

  signal(sig, killAfterMs) {
    const shell = this.shell;
    if (!shell) return;
    try {
      process.kill(-shell.pid, sig);
    } catch {}
    if (killAfterMs) {
      setTimeout(() => {
        if (this.shell === shell) {
          try {
            process.kill(-shell.pid, 'SIGKILL');
          } catch {}
        }
      }, killAfterMs).unref();
    }
  }

  /** A clean stop: SIGTERM to the pipeline's first process (the others finish on end of input), SIGKILL after 20 s. */
  async stop() {
    this.stopping = true;
    const first = this.processes().sort((a, b) => a.pid - b.pid)[0];
    if (first) {
      try {
        process.kill(first.pid, 'SIGTERM');
      } catch {}
    }
    const shell = this.shell;
    const end = Date.now() + 20_000;
    while (this.shell && Date.now() < end) await sleep(50);
    if (this.shell === shell) this.signal('SIGKILL');
    while (this.shell) await sleep(50);
  }
}

function groupMembers(pgid) {
  const out = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) !== pgid || fields[0] === 'Z') continue;
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      out.push({ pid: Number(entry), argv, cmd: argv.join(' ') });
    } catch {}
  }
  return out;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// --------------------------------------------------------------------------- stores

/**
 * The numbers stored in the file stores under `dirs` (their count per number), and how many
 * stored events carry a wrong identity: options.src must name the inode the writer wrote the
 * line to and the offset just past the line (`expected`: seq → [inode, offset]).
 */
function storedSeqs(dirs, expected) {
  const counts = new Map();
  let lines = 0;
  let wrongIdentity = 0;
  const wrongExamples = [];
  const walk = (dir) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const path = join(dir, e.name);
      if (e.isDirectory()) {
        if (!e.name.startsWith('.')) walk(path);
        continue;
      }
      if (!e.name.endsWith('.ndjson')) continue;
      for (const line of readFileSync(path, 'utf8').split('\n')) {
        const m = /"record":\{"seq":(\d+)/.exec(line);
        if (!m) continue;
        lines++;
        const seq = Number(m[1]);
        counts.set(seq, (counts.get(seq) ?? 0) + 1);
        if (expected) {
          const src = /"src":\{"id":"\d+:(\d+):[^"]*","off":(\d+)\}/.exec(line);
          const want = expected.get(seq);
          if (!src || !want || Number(src[1]) !== want[0] || Number(src[2]) !== want[1]) {
            wrongIdentity++;
            if (wrongExamples.length < 3) wrongExamples.push(`seq ${seq}: stored ${src ? `ino ${src[1]} off ${src[2]}` : 'no file identity'}, written at ino ${want?.[0]} off ${want?.[1]}`);
          }
        }
      }
    }
  };
  for (const d of dirs) walk(d);
  return { counts, lines, wrongIdentity, wrongExamples };
}

/** The numbers in the PostgreSQL table (their count per number). */
async function storedInPostgres(table) {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    const { rows } = await client.query(`select (record->>'seq')::int as seq, count(*)::int as n from ${table} group by 1`);
    const counts = new Map(rows.map((r) => [r.seq, r.n]));
    return { counts, lines: rows.reduce((sum, r) => sum + r.n, 0), wrongIdentity: 0, wrongExamples: [] };
  } catch (error) {
    if (error.code === '42P01') return { counts: new Map(), lines: 0, wrongIdentity: 0, wrongExamples: [] }; // not created yet
    throw error;
  } finally {
    await client.end();
  }
}

async function dropPostgresTable(table) {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  await client.query(`drop table if exists ${table}`).finally(() => client.end());
}

/** lost and duplicates of one store's counts. */
function tally(counts, lines) {
  let lost = 0;
  for (let s = 1; s <= LINES; s++) if (!counts.has(s)) lost++;
  return { stored: lines, distinct: counts.size, lost, duplicates: lines - counts.size };
}

// --------------------------------------------------------------------------- run

const logDir = join(root, 'logs');
const outDirs = [join(root, 'out1'), join(root, 'out2')];
const pgTable = `chaos_${process.pid}_${Date.now()}`;
const units = [];
let cleaned = false;
async function cleanup() {
  if (cleaned) return;
  cleaned = true;
  for (const u of units) {
    u.stopping = true;
    u.signal('SIGKILL');
  }
  if (STORE === 'postgres' && !KEEP) await dropPostgresTable(pgTable).catch((error) => say(`cannot drop ${pgTable}: ${error.message}`));
  if (!KEEP) rmSync(root, { recursive: true, force: true });
  else say(`kept ${root}`);
}
// interrupted (^C, or a test's timeout): no unit outlives the run, and the table goes too
process.on('SIGINT', () => void cleanup().then(() => process.exit(130)));
process.on('SIGTERM', () => void cleanup().then(() => process.exit(143)));

async function main() {
  const { mkdirSync } = await import('node:fs');
  mkdirSync(logDir);
  const ports = [await freePort(), await freePort()];
  for (let i = 0; i < 2; i++) {
    const n = i + 1;
    units.push(
      new Unit(
        `aggregator${n}`,
        `${LOGKIT} receive --bind 127.0.0.1:${ports[i]} --buffer ${q(join(root, `rbuf${n}`))} --checkpoint ${q(join(root, `store${n}.ckpt`))} --stats ` +
          (STORE === 'postgres'
            ? `| ${LOGKIT} store postgres ${q(PG_URL)} --table ${pgTable} --create --checkpoint ${q(join(root, `store${n}.ckpt`))} --flush-interval 200ms`
            : `| ${LOGKIT} store file ${q(join(outDirs[i], '${tag}.ndjson'))} --checkpoint ${q(join(root, `store${n}.ckpt`))} --flush-interval 200ms`),
        2,
      ),
    );
  }
  units.push(
    new Unit(
      'collector',
      `${LOGKIT} tail --from-head --pos ${q(join(root, 'tail.pos'))} --checkpoint ${q(join(root, 'collector.ckpt'))} ${q(join(logDir, 'app.log*'))} ` +
        `| ${LOGKIT} parse json ` +
        `| ${LOGKIT} forward 127.0.0.1:${ports[0]} 127.0.0.1:${ports[1]} --buffer ${q(join(root, 'fbuf'))} --checkpoint ${q(join(root, 'collector.ckpt'))} --failover-delay ${FAILOVER_DELAY}s --stats`,
      3,
    ),
  );
  for (const u of units) u.start();
  const supervisor = setInterval(() => units.forEach((u) => u.supervise()), 100);
  const aggregator2 = units[1];
  let failedOver = false;
  let failedOverAt = '';
  const failover = FAILOVER_AT > 0
    ? (async () => {
        while (Date.now() - started < FAILOVER_AT * 1000) await sleep(20);
        // a failover only means something once aggregator 2 has stored events (a slow start under load)
        const committed = () => existsSync(join(root, 'store2.ckpt')) && readFileSync(join(root, 'store2.ckpt'), 'utf8').includes('"receive:');
        while (!committed() && Date.now() - started < SECONDS * 1000) await sleep(50);
        // killed for good: no restart (until the recovery at the end)
        aggregator2.stopping = true;
        aggregator2.signal('SIGKILL');
        failedOver = true;
        failedOverAt = elapsed();
        say('aggregator2 killed -9 for good (failover)');
      })()
    : Promise.resolve();

  // kill schedule: KILLS moments spread over the writer's run (sorted uniform draws), seeded
  const killTimes = Array.from({ length: KILLS }, () => 1000 + random() * (SECONDS * 1000 - 1000)).sort((a, b) => a - b);
  const kills = [];
  const killer = (async () => {
    for (const at of killTimes) {
      while (Date.now() - started < at) await sleep(20);
      // a victim among the processes alive now; if every unit is restarting, or the victim exits
      // before the signal lands, pick again (a scheduled kill always lands)
      for (let tries = 0; tries < 200; tries++) {
        const candidates = units
          .filter((u) => u.name.startsWith(ONLY) && !(failedOver && u === aggregator2))
          .flatMap((u) => u.processes().map((p) => ({ unit: u.name, ...p })));
        if (candidates.length === 0) {
          await sleep(50);
          continue;
        }
        const victim = candidates[Math.floor(random() * candidates.length)];
        try {
          process.kill(victim.pid, 'SIGKILL');
        } catch {
          await sleep(20);
          continue;
        }
        const name = victim.argv[2] ?? '?';
        kills.push({ t: Number(elapsed()), unit: victim.unit, command: name, pid: victim.pid });
        say(`kill -9 ${victim.pid} (${victim.unit}: logkit ${name})`);
        break;
      }
    }
  })();

  // the writer: LINES numbered lines over SECONDS, in 50 ms batches, rotating ROTATIONS times
  const perRotation = Math.ceil(LINES / (ROTATIONS + 1));
  const batches = Math.max(1, Math.round((SECONDS * 1000) / 50));
  const perBatch = Math.ceil(LINES / batches);
  const app = join(logDir, 'app.log');
  let seq = 0;
  let rotated = 0;
  writeFileSync(app, '');
  // where each line was written: seq → [inode, offset just past the line] (the identity tail gives it)
  const written = new Map();
  let inode = statSync(app).ino;
  let offset = 0;
  for (let b = 0; seq < LINES; b++) {
    const target = started + (b + 1) * 50;
    let text = '';
    const end = Math.min(LINES, seq + perBatch);
    while (seq < end) {
      seq++;
      const line = `{"seq":${seq},"msg":"chaos line ${seq} ${'x'.repeat(seq % 40)}"}\n`;
      text += line;
      offset += line.length;
      written.set(seq, [inode, offset]);
      if (seq % perRotation === 0 && seq < LINES) {
        appendFileSync(app, text);
        text = '';
        rotated++;
        renameSync(app, join(logDir, `app.log.${rotated}`));
        writeFileSync(app, '');
        inode = statSync(app).ino;
        offset = 0;
      }
    }
    if (text) appendFileSync(app, text);
    const wait = target - Date.now();
    if (wait > 0) await sleep(wait);
  }
  const writerDone = elapsed();
  say(`writer done: ${LINES} lines, ${rotated} rotations`);
  await killer;
  await failover;
  if (failedOver) {
    // the operator recovers aggregator 2's disk: what its buffer kept (acknowledged, so forward
    // holds it no more) is stored too, and the drain below waits for it like for the rest
    say('aggregator2 started again to store what its buffer kept');
    aggregator2.stopping = false;
    aggregator2.start();
  }

  // drain: until every number is stored (or the timeout)
  const read = async () =>
    STORE === 'postgres' ? { all: await storedInPostgres(pgTable) } : { all: storedSeqs(outDirs, written), out1: storedSeqs([outDirs[0]], written), out2: storedSeqs([outDirs[1]], written) };
  const drainEnd = Date.now() + DRAIN_TIMEOUT * 1000;
  // after a failover, until aggregator 2 also runs again and its buffer is empty: receive deletes a
  // chunk only once the store's checkpoint covers it, and the store, starting, cuts back what its
  // last run wrote without committing (numbers seen in its file a moment before they are replayed)
  const rbuf2 = join(root, 'rbuf2');
  const aggregator2Busy = () => failedOver && (aggregator2.processes().length < 2 || readdirSync(rbuf2).some((n) => n.startsWith('chunk-')));
  let stored = await read();
  while ((stored.all.counts.size < LINES || aggregator2Busy()) && Date.now() < drainEnd) {
    await sleep(1000);
    stored = await read();
  }
  const drained = elapsed();
  clearInterval(supervisor);
  for (const u of units) u.stopping = true;
  await Promise.all(units.map((u) => u.stop()));
  stored = await read();

  const result = Object.fromEntries(
    Object.entries(stored).map(([name, s]) => {
      const { lost, ...counts } = tally(s.counts, s.lines);
      // lost means something only for the union: each aggregator stores its share
      return [name, { ...counts, ...(name === 'all' ? { lost } : {}), wrongIdentity: s.wrongIdentity }];
    }),
  );
  const all = result.all;
  const firstMissing = [];
  for (let s = 1; s <= LINES && firstMissing.length < 20; s++) if (!stored.all.counts.has(s)) firstMissing.push(s);
  // receive logs one line per resent chunk it drops (they are rare: one per lost ack)
  const droppedResends = units
    .filter((u) => u.name.startsWith('aggregator'))
    .reduce((sum, u) => sum + readFileSync(u.log, 'utf8').split('\n').filter((l) => l.includes('dropped a resent chunk')).length, 0);
  // after a failover, the union of two file stores may hold a replay each (see the header); each store alone must not
  const duplicateStores = Object.entries(result).filter(([name, r]) => r.duplicates > 0 && !(failedOver && STORE === 'file' && name === 'all'));
  const summary = {
    lines: LINES,
    store: STORE,
    ...(STORE === 'postgres' ? { table: pgTable } : {}),
    failover: failedOver,
    failedOverAtSeconds: failedOver ? Number(failedOverAt) : undefined,
    kills: kills.length,
    killsByCommand: kills.reduce((m, k) => ((m[k.command] = (m[k.command] ?? 0) + 1), m), {}),
    restarts: Object.fromEntries(units.map((u) => [u.name, u.starts - 1])),
    rotations: rotated,
    stored: all.stored,
    distinct: all.distinct,
    lost: all.lost,
    duplicates: all.duplicates,
    wrongIdentity: all.wrongIdentity,
    stores: result,
    droppedResendsReported: droppedResends,
    writerSeconds: Number(writerDone),
    drainedAtSeconds: Number(drained),
    wallSeconds: Number(elapsed()),
    seed: SEED,
  };
  process.stdout.write('kill log:\n');
  for (const k of kills) process.stdout.write(`  ${String(k.t).padStart(6)}s  ${k.unit.padEnd(12)} logkit ${k.command} (pid ${k.pid})\n`);
  process.stdout.write(
    `lines ${LINES}, kills ${kills.length}, restarts ${JSON.stringify(summary.restarts)}, rotations ${rotated}${failedOver ? `, aggregator2 killed for good at ${failedOverAt}s` : ''}\n`,
  );
  for (const [name, r] of Object.entries(result)) {
    const label = name === 'all' ? (STORE === 'postgres' ? `postgres table ${pgTable}` : 'files of both aggregators') : `files of aggregator${name.slice(3)}`;
    process.stdout.write(
      `${label}: stored ${r.stored} lines, ${r.distinct} distinct numbers: lost ${name === 'all' ? r.lost : '-'}, duplicates ${r.duplicates}` +
        (STORE === 'file' ? `, wrong identities ${r.wrongIdentity}` : '') +
        '\n',
    );
  }
  if (all.lost) process.stdout.write(`first missing: ${firstMissing.join(', ')}\n`);
  if (stored.all.wrongExamples.length) process.stdout.write(`wrong identities, e.g.: ${stored.all.wrongExamples.join('; ')}\n`);
  process.stdout.write(`resent chunks dropped by receive: ${droppedResends}\nwriter ${writerDone}s, drained at ${drained}s, wall ${elapsed()}s\n`);
  if (all.lost > 0) {
    for (const u of units) process.stdout.write(`--- ${u.name} stderr (tail)\n${readFileSync(u.log, 'utf8').split('\n').slice(-30).join('\n')}\n`);
  }
  if (JSON_OUT) process.stdout.write(JSON.stringify(summary) + '\n');
  await cleanup();
  const ok = all.lost === 0 && all.wrongIdentity === 0 && (ALLOW_DUPLICATES || duplicateStores.length === 0);
  process.exit(ok ? 0 : 1);
}

main().catch(async (error) => {
  process.stderr.write(`chaos: ${error.stack ?? error}\n`);
  await cleanup();
  process.exit(2);
});
