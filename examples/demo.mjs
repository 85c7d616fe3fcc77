#!/usr/bin/env node
// The quick start's demo: a whole logkit topology on this machine, nothing to install or configure.
//
//   generated app logs ──▶ logkit tail | logkit parse json | logkit forward ──┬─▶ logkit receive | logkit store file  (aggregator 1)
//                                                                            └─▶ logkit receive | logkit store file  (aggregator 2)
//
// Generates LINES JSON log lines with bench/gen-logs.mjs, starts two aggregators on ephemeral
// 127.0.0.1 ports and a collector that forwards to both (each file to one), waits until every line
// is stored (watching the stores' --metrics endpoints), stops everything with SIGTERM as systemd
// would, counts what the files hold, prints a summary and removes its temporary directory.
//
// usage: node examples/demo.mjs [LINES]        (or LOGKIT_DEMO_LINES=LINES; default 200000)
//        LOGKIT_DEMO_KEEP=1 keeps the directory to look at; exit status 0 only when nothing is missing.
import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdtemp, open, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const LOGKIT = process.env.LOGKIT_DEMO_BIN ?? join(ROOT, 'bin', 'logkit.js');
const LINES = Number(process.argv[2] ?? process.env.LOGKIT_DEMO_LINES ?? 200_000);
const TIMEOUT_MS = Number(process.env.LOGKIT_DEMO_TIMEOUT ?? 300) * 1000;
if (!Number.isSafeInteger(LINES) || LINES < 1) {
  console.error(`demo: LINES must be a positive integer, not ${process.argv[2] ?? process.env.LOGKIT_DEMO_LINES}`);
  process.exit(64);
}

const started = Date.now();
const dir = await mkdtemp(join(tmpdir(), 'logkit-demo-'));
const children = [];
const say = (message) => console.log(`demo: ${message}`);

/** `logkit ARGS` with stdin from `input` (a stream) or nothing; its stderr is kept, prefixed, for the summary. */
function logkit(name, args, input) {
  const child = spawn(process.execPath, [LOGKIT, ...args], { stdio: [input ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
  if (input) input.pipe(child.stdin);
  child.name = name;
  child.log = '';
  child.stderr.on('data', (chunk) => (child.log += chunk));
  child.done = new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
  children.push(child);
  return child;
}

async function until(condition, what) {
  const deadline = Date.now() + TIMEOUT_MS;
  for (;;) {
    const value = await condition();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${TIMEOUT_MS / 1000} s waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const matchIn = (child, regex) => () => regex.exec(child.log)?.[1];

async function storedEvents(store) {
  const text = await (await fetch(store.metricsUrl)).text();
  return Number(/^logkit_output_events_total\{[^}]*\} (\d+)$/m.exec(text)?.[1] ?? 0);
}

/** Line count and the `seq` values of every stored file of one aggregator. */
async function readStored(base, seen) {
  let events = 0;
  for (const name of (await readdir(base, { recursive: true })).filter((n) => n.endsWith('.ndjson'))) {
    for await (const line of createInterface({ input: createReadStream(join(base, name)) })) {
      if (line === '') continue;
      events++;
      const seq = JSON.parse(line).record.seq;
      seen[seq] = (seen[seq] ?? 0) + 1;
    }
  }
  return events;
}

let exitCode = 1;
try {
  // 1. the applications' logs: LINES JSON lines (deterministic, see bench/gen-logs.mjs), dealt
  // round-robin into FILES files, as a host's services would write them. forward sends each file
  // to one aggregator (rendezvous hashing of the file's identity), so several files spread the load.
  const FILES = 16;
  const generated = join(dir, 'generated.log');
  const out = await open(generated, 'w');
  const gen = spawn(process.execPath, [join(ROOT, 'bench', 'gen-logs.mjs'), 'json', String(LINES)], { stdio: ['ignore', out.fd, 'inherit'] });
  await new Promise((resolve, reject) => gen.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`gen-logs.mjs exited ${code}`)))));
  await out.close();
  const lines = (await readFile(generated, 'utf8')).split('\n').filter(Boolean);
  await Promise.all(Array.from({ length: FILES }, (_, f) => writeFile(join(dir, `app-${f}.log`), lines.filter((_, i) => i % FILES === f).map((l) => l + '\n').join(''))));
  await rm(generated);
  const logFile = join(dir, 'app-*.log');
  say(`generated ${LINES} lines in ${FILES} files ${logFile}`);

  // 2. two aggregators: receive on an ephemeral port | store into files per tag
  const aggregators = [1, 2].map((n) => {
    const receive = logkit(`receive${n}`, ['receive', '--bind', '127.0.0.1:0']);
    const store = logkit(`store${n}`, ['store', 'file', join(dir, `aggregator${n}`, '${tag}.ndjson'), '--metrics', '127.0.0.1:0', '--flush-interval', '100ms'], receive.stdout);
    store.stdout.resume();
    return { n, receive, store, base: join(dir, `aggregator${n}`) };
  });
  for (const a of aggregators) {
    a.address = await until(matchIn(a.receive, /listening on (?:tcp:\/\/)?([^\s,]+)/), `aggregator ${a.n} to listen`);
    a.store.metricsUrl = await until(matchIn(a.store, /metrics on (http:\S+)/), `aggregator ${a.n}'s metrics`);
    say(`aggregator ${a.n}: logkit receive --bind ${a.address} | logkit store file ${a.base}/\${tag}.ndjson`);
  }

  // 3. the collector: tail the logs | parse their JSON | forward to both aggregators (each file to one)
  const tail = logkit('tail', ['tail', logFile, '--from-head', '--tag', 'demo.app']);
  const parse = logkit('parse', ['parse', 'json', '--time-key', 'ts'], tail.stdout);
  const forward = logkit('forward', ['forward', ...aggregators.map((a) => a.address), '--chunk-bytes', '65536', '--stats'], parse.stdout);
  say(`collector: logkit tail 'app-*.log' | logkit parse json --time-key ts | logkit forward ${aggregators.map((a) => a.address).join(' ')}`);

  // 4. wait until every line is stored (or a process died)
  await until(async () => {
    const dead = children.find((c) => c.exitCode !== null || c.signalCode !== null);
    if (dead) throw new Error(`logkit ${dead.name} exited early (${dead.exitCode ?? dead.signalCode}):\n${dead.log}`);
    const counts = await Promise.all(aggregators.map((a) => storedEvents(a.store)));
    return counts.reduce((x, y) => x + y, 0) >= LINES;
  }, `${LINES} events stored`);
  const deliveredMs = Date.now() - started;

  // 5. stop as systemd would: SIGTERM to the head of each pipeline, the rest follow at end of input
  tail.kill('SIGTERM');
  for (const c of [tail, parse, forward]) await c.done;
  for (const a of aggregators) a.receive.kill('SIGTERM');
  for (const a of aggregators) await Promise.all([a.receive.done, a.store.done]);
  const failed = children.filter((c) => c.exitCode !== 0);
  for (const c of failed) console.error(`demo: logkit ${c.name} exited ${c.exitCode ?? c.signalCode}:\n${c.log}`);

  // 6. what arrived
  const seen = [];
  const stored = [];
  for (const a of aggregators) stored.push(await readStored(a.base, seen));
  let missing = 0;
  let duplicates = 0;
  for (let seq = 0; seq < LINES; seq++) {
    if (!seen[seq]) missing++;
    else duplicates += seen[seq] - 1;
  }
  const total = stored.reduce((x, y) => x + y, 0);
  const forwardStats = /events=.*/.exec(forward.log)?.[0] ?? '';
  if (forwardStats) say(`forward: ${forwardStats.split(' servers')[0]}`);
  console.log(
    `demo: generated=${LINES} ${stored.map((s, i) => `aggregator${i + 1}=${s}`).join(' ')} total=${total} ` +
      `missing=${missing} duplicates=${duplicates} seconds=${(deliveredMs / 1000).toFixed(1)}`,
  );
  exitCode = missing === 0 && failed.length === 0 ? 0 : 1;
  say(exitCode === 0 ? 'OK: every generated line was stored' : 'FAILED: see above');
} catch (error) {
  console.error(`demo: ${error.message}`);
} finally {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  if (process.env.LOGKIT_DEMO_KEEP) say(`kept ${dir}`);
  else await rm(dir, { recursive: true, force: true });
}
process.exit(exitCode);
