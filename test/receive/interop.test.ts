/**
 * Interop with REAL clients (each its own process): npm fluent-logger, Debian's
 * python3-fluent-logger and Debian's fluent-logger-golang (the library of Docker's fluentd
 * driver). Every event must arrive exactly once with its tag, time and record intact.
 */
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { execa } from 'execa';
import type { LogEvent } from '../../src/event/event.js';
import { ROOT, tempDir } from '../helpers/logkit.js';
import { selfSignedCert } from '../helpers/net.js';
import { startReceive } from '../helpers/receive.js';

const NODE_CLIENT = join(ROOT, 'dist', 'test', 'receive', 'clients', 'node-fluent-logger.js');
const PYTHON_CLIENT = join(ROOT, 'test', 'receive', 'clients', 'python_fluent_logger.py');
const GO_CLIENT = join(ROOT, 'test', 'receive', 'clients', 'docker_driver_like.go');

function bySeq(t: ExecutionContext, events: LogEvent[], count: number): LogEvent[] {
  const out: LogEvent[] = new Array(count);
  for (const e of events) {
    const seq = e.record.seq as number;
    if (typeof seq !== 'number') {
      t.fail(`an event that no client sent: ${JSON.stringify(e).slice(0, 300)}`);
      continue;
    }
    t.true(out[seq] === undefined, `event ${seq} arrived twice`);
    out[seq] = e;
  }
  return out;
}

const nodeCases: Array<{ mode: string; ack: boolean; sharedKey?: string; tls?: boolean; count: number }> = [
  { mode: 'Message', ack: false, count: 3000 },
  { mode: 'Message', ack: true, count: 2000 },
  { mode: 'PackedForward', ack: false, count: 5000 },
  { mode: 'PackedForward', ack: true, count: 5000 },
  { mode: 'CompressedPackedForward', ack: true, count: 5000 },
  { mode: 'Message', ack: true, sharedKey: 'node-shared-key', count: 2000 },
  { mode: 'PackedForward', ack: false, sharedKey: 'node-shared-key', count: 3000 },
  // without ack over TLS: fluent-logger registers its ack listener in the write callback, which
  // over TLS can run after the ack has already arrived (then the library waits for it forever);
  // acks themselves are covered above and by the TLS test in receive.test.ts
  { mode: 'CompressedPackedForward', ack: false, sharedKey: 'node-shared-key', tls: true, count: 3000 },
];

for (const c of nodeCases) {
  test(`npm fluent-logger, ${c.mode}, ${c.ack ? 'with' : 'without'} ack${c.sharedKey ? ', shared key' : ''}${c.tls ? ', TLS' : ''}: ${c.count} events intact`, async (t) => {
    const cert = c.tls ? await selfSignedCert(await tempDir(t), 'server') : undefined;
    const receive = await startReceive(t, [...(c.sharedKey ? ['--shared-key', c.sharedKey] : []), ...(cert ? ['--tls-cert', cert.cert, '--tls-key', cert.key] : [])]);
    const client = await execa(process.execPath, [NODE_CLIENT, JSON.stringify({ port: receive.port, ...c, tlsCa: cert?.cert })], { reject: false, timeout: 50_000 });
    t.is(client.exitCode, 0, String(client.stderr));
    const events = bySeq(t, await receive.waitForEvents(c.count), c.count);
    t.is(receive.events.length, c.count);
    for (let i = 0; i < c.count; i++) {
      const e = events[i]!;
      if (!e) {
        t.fail(`event ${i} missing`);
        break;
      }
      if (e.tag !== `node.t${i % 3}` || e.time.sec !== 1700000000 + i || e.time.nsec !== (i * 999_983) % 1_000_000_000) {
        t.fail(`event ${i}: ${e.tag} ${e.time.sec}.${e.time.nsec}`);
        break;
      }
      t.deepEqual(e.record, { seq: i, message: `node line ${i} ünïcödé`, nested: { list: [i, 'x', true, null], n: -(i + 1) } });
    }
    t.is(await receive.stop(), 0);
  });
}

test('npm fluent-logger with a wrong shared key is refused and nothing is emitted', async (t) => {
  const receive = await startReceive(t, ['--shared-key', 'right']);
  const client = await execa(process.execPath, [NODE_CLIENT, JSON.stringify({ port: receive.port, mode: 'Message', ack: true, count: 5, sharedKey: 'wrong' })], { reject: false, timeout: 20_000 });
  t.not(client.exitCode, 0);
  t.regex(String(client.stderr), /Authentication failed: shared_key mismatch/);
  t.is(receive.events.length, 0);
  t.regex(receive.stderr(), /authentication failed \(shared_key mismatch\)/);
});

test('Debian python3-fluent-logger: 3000 events with nanosecond EventTime intact', async (t) => {
  const receive = await startReceive(t);
  const count = 3000;
  const client = await execa('/usr/bin/python3', [PYTHON_CLIENT, String(receive.port), String(count)], { reject: false, timeout: 50_000 });
  t.is(client.exitCode, 0, String(client.stderr));
  const times = JSON.parse(String(client.stdout)) as Array<[number, number]>;
  t.is(times.length, count);
  const events = bySeq(t, await receive.waitForEvents(count), count);
  for (let i = 0; i < count; i++) {
    const e = events[i];
    if (!e || e.tag !== `py.t${i % 3}` || e.time.sec !== times[i]![0] || e.time.nsec !== times[i]![1]) {
      t.fail(`event ${i}: ${JSON.stringify(e && [e.tag, e.time])} expected ${JSON.stringify(times[i])}`);
      break;
    }
    t.deepEqual(e.record, { seq: i, message: `python line ${i} ünïcödé`, nested: { list: [i, 'x', true, null] } });
  }
  t.true(times.some(([, nsec]) => nsec % 1000 !== 0), 'the times carry sub-microsecond digits');
});

async function buildGoClient(t: ExecutionContext): Promise<string> {
  const dir = await tempDir(t, 'logkit-go-');
  const cache = join(tmpdir(), 'logkit-test-go-cache');
  await mkdir(cache, { recursive: true });
  const out = join(dir, 'client');
  const build = await execa('go', ['build', '-o', out, GO_CLIENT], {
    reject: false,
    timeout: 55_000,
    env: { GO111MODULE: 'off', GOPATH: '/usr/share/gocode', GOCACHE: cache, GOFLAGS: '', CGO_ENABLED: '0' },
  });
  if (build.exitCode !== 0) throw new Error(`go build failed: ${build.stderr}`);
  return out;
}

test('Debian fluent-logger-golang (Docker driver records): with ack and EventTime, without ack and integer times, over a Unix socket', async (t) => {
  const binary = await buildGoClient(t);
  const dir = await tempDir(t);
  for (const [ack, subSecond, unix] of [[1, 1, false], [0, 0, false], [1, 0, true]] as const) {
    const socketPath = join(dir, `docker-${ack}${subSecond}.sock`);
    const receive = await startReceive(t, [], unix ? { bind: `unix://${socketPath}` } : {});
    const count = 2000;
    const client = await execa(binary, [unix ? socketPath : String(receive.port), String(count), String(ack), String(subSecond)], { reject: false, timeout: 50_000 });
    t.is(client.exitCode, 0, String(client.stderr));
    const events = await receive.waitForEvents(count);
    t.is(events.length, count);
    for (let i = 0; i < count; i++) {
      const e = events[i]!;
      const expectedNsec = subSecond ? (i * 999983) % 1_000_000_000 : 0;
      if (e.tag !== 'docker.3f2a1b4c5d6e' || e.time.sec !== 1700000000 + i || e.time.nsec !== expectedNsec) {
        t.fail(`event ${i}: ${e.tag} ${e.time.sec}.${e.time.nsec}`);
        break;
      }
      t.deepEqual(e.record, {
        container_id: '3f2a1b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f70',
        container_name: '/web-1',
        source: i % 2 ? 'stderr' : 'stdout',
        log: `go line ${i} {"level":"info"}`,
      });
    }
    t.is(await receive.stop(), 0);
  }
});
