import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import { tempDir } from '../helpers/logkit.js';
import { StageProcess, scrape } from '../helpers/stage-process.js';
import { waitFor } from '../helpers/wait.js';

const GOOD = 1500;
const BAD = 7;

test('--metrics: the counters of a running tail | parse | tag | store pipeline match what went through, exactly', async (t) => {
  const dir = await tempDir(t);
  const log = join(dir, 'app.log');
  const lines: string[] = [];
  for (let i = 0; i < GOOD; i++) lines.push(JSON.stringify({ n: i, message: `line ${i}` }));
  for (let i = 0; i < BAD; i++) lines.splice(i * 100 + 50, 0, `not json ${i}`);
  await writeFile(log, lines.join('\n') + '\n');
  const total = GOOD + BAD;

  const metricsArgs = ['--metrics', '127.0.0.1:0'];
  const tail = new StageProcess(t, ['tail', log, '--from-head', '--tag', 'app', ...metricsArgs], 'ignore');
  const parse = new StageProcess(t, ['parse', 'json', ...metricsArgs, '--stats'], tail.child.stdout!);
  const tag = new StageProcess(t, ['tag', '--set-tag', 'web', ...metricsArgs], parse.child.stdout!);
  const store = new StageProcess(t, ['store', 'file', join(dir, 'out', '${tag}.log'), '--format', 'ndjson', '--flush-interval', '50ms', ...metricsArgs, '--stats'], tag.child.stdout!);
  store.child.stdout!.resume();
  const [tailUrl, parseUrl, tagUrl, storeUrl] = await Promise.all([tail.metricsUrl(), parse.metricsUrl(), tag.metricsUrl(), store.metricsUrl()]);

  // the pipeline is still running (tail follows): the endpoints are live, not a final report
  await waitFor(async () => (await scrape(storeUrl)).get('logkit_output_events_total') === total, `${total} events stored`);
  const [tailM, parseM, tagM, storeM] = await Promise.all([scrape(tailUrl), scrape(parseUrl), scrape(tagUrl), scrape(storeUrl)]);
  t.is(tailM.get('logkit_output_events_total'), total);
  t.is(parseM.get('logkit_input_events_total'), total);
  t.is(parseM.get('logkit_parse_failures_total'), BAD);
  t.is(parseM.get('logkit_output_events_total'), total);
  t.is(tagM.get('logkit_input_events_total'), total);
  t.is(tagM.get('logkit_output_events_total'), total);
  // bytes: what one stage wrote is exactly what the next one read
  t.is(storeM.get('logkit_input_bytes_total'), tagM.get('logkit_output_bytes_total'));
  t.true(tailM.get('logkit_output_bytes_total')! > 0);
  t.is(storeM.get('logkit_input_events_total'), total);
  t.is(storeM.get('logkit_store_pending_events'), 0);
  t.is(storeM.get('logkit_store_retries_total'), 0);
  t.true(storeM.get('logkit_process_resident_memory_bytes')! > 1e6);
  const stored = (await readFile(join(dir, 'out', 'web.log'), 'utf8')).trimEnd().split('\n');
  t.is(stored.length, total);

  // the exposition format: HELP and TYPE per metric, the command label on every sample
  const text = await (await fetch(parseUrl)).text();
  t.regex(text, /# HELP logkit_parse_failures_total .+\n# TYPE logkit_parse_failures_total counter\nlogkit_parse_failures_total\{command="parse"\} 7\n/);
  t.is((await fetch(parseUrl.replace('/metrics', '/other'))).status, 404);

  // SIGTERM down the pipeline: each stage exits 0; --stats prints the summary line
  t.is(await tail.stop(), 0);
  t.is(await parse.exited, 0);
  t.is(await tag.exited, 0);
  t.is(await store.exited, 0);
  t.regex(parse.stderr, new RegExp(`logkit parse: stats \\(exit\\) events_in=${total} events_out=${total} bytes_out=\\d+ parse_failures=${BAD}`));
  t.regex(store.stderr, new RegExp(`logkit store: stats \\(exit\\) events_in=${total} bytes_in=\\d+ events_stored=${total} pending=0 retries=0`));
});

test('--metrics rejects a malformed address and an address in use (exit 64 / 69)', async (t) => {
  const bad = new StageProcess(t, ['tag', '--metrics', 'unix:///tmp/x.sock'], 'pipe');
  bad.child.stdin!.end();
  t.is(await bad.exited, 64);
  t.regex(bad.stderr, /--metrics "unix:\/\/\/tmp\/x.sock": expected HOST:PORT/);

  const first = new StageProcess(t, ['tag', '--metrics', '127.0.0.1:0'], 'pipe');
  const url = await first.metricsUrl();
  const taken = new StageProcess(t, ['tag', '--metrics', new URL(url).host], 'pipe');
  taken.child.stdin!.end();
  t.is(await taken.exited, 69);
  t.regex(taken.stderr, /address in use/);
  first.child.stdin!.end();
  t.is(await first.exited, 0);
});

test('--log-format json: logkit\'s own messages are one JSON object a line; --log-level error hides info', async (t) => {
  const json = new StageProcess(t, ['tag', '--metrics', '127.0.0.1:0', '--log-format', 'json'], 'pipe');
  await waitFor(() => json.stderr.includes('\n'), 'a log line');
  const entry = JSON.parse(json.stderr.split('\n')[0]!) as Record<string, unknown>;
  t.is(entry.level, 'info');
  t.is(entry.command, 'tag');
  t.regex(String(entry.msg), /^metrics on http:\/\/127\.0\.0\.1:\d+\/metrics$/);
  t.regex(String(entry.time), /^\d{4}-\d\d-\d\dT/);
  json.child.stdin!.end();
  t.is(await json.exited, 0);

  const quiet = new StageProcess(t, ['tag', '--metrics', '127.0.0.1:0', '--log-level', 'error', '--stats'], 'pipe');
  quiet.child.stdin!.end('{"tag":"a","time":"2024-01-01T00:00:00Z","record":{}}\n');
  t.is(await quiet.exited, 0);
  // the info line is hidden; the --stats line, asked for explicitly, is not
  t.is(quiet.stderr, 'logkit tag: stats (exit) events_in=1 events_out=1 bytes_out=' + /bytes_out=(\d+)/.exec(quiet.stderr)![1] + '\n');

  const usage = new StageProcess(t, ['tag', '--rewrite', 'nonsense', '--log-format', 'json'], 'pipe');
  usage.child.stdin!.end();
  t.is(await usage.exited, 64);
  t.is((JSON.parse(usage.stderr.trim()) as { level: string }).level, 'error');
});

test('--metrics on forward and receive: events, bytes, per-server state and acks match across the wire', async (t) => {
  const count = 2500;
  const receive = new StageProcess(t, ['receive', '--bind', '127.0.0.1:0', '--metrics', '127.0.0.1:0'], 'ignore');
  receive.child.stdout!.resume();
  await waitFor(() => /listening on (?:tcp:\/\/)?127\.0\.0\.1:\d+/.test(receive.stderr), 'receive to listen');
  const port = /listening on (?:tcp:\/\/)?127\.0\.0\.1:(\d+)/.exec(receive.stderr)![1]!;
  const forward = new StageProcess(t, ['forward', `127.0.0.1:${port}`, '--flush-interval', '0.05', '--chunk-bytes', '20000', '--metrics', '127.0.0.1:0', '--stats'], 'pipe');
  const [receiveUrl, forwardUrl] = await Promise.all([receive.metricsUrl(), forward.metricsUrl()]);
  let input = '';
  for (let i = 0; i < count; i++) input += JSON.stringify({ tag: 'm.t', time: '2026-11-21T00:00:00Z', record: { seq: i } }) + '\n';
  forward.child.stdin!.write(input);

  await waitFor(async () => (await scrape(forwardUrl)).get('logkit_output_events_total') === count, `${count} events acknowledged`);
  const [f, r] = await Promise.all([scrape(forwardUrl), scrape(receiveUrl)]);
  t.is(f.get('logkit_input_events_total'), count);
  t.is(f.get('logkit_forward_pending_events'), 0);
  t.is(f.get(`logkit_forward_server_up{server="127.0.0.1:${port}",role="primary"}`), 1);
  t.is(f.get(`logkit_forward_server_state{server="127.0.0.1:${port}",state="up"}`), 1);
  const chunks = f.get('logkit_forward_acked_chunks_total')!;
  t.true(chunks >= 2, `${chunks} chunks`);
  t.is(f.get(`logkit_forward_server_acked_chunks_total{server="127.0.0.1:${port}",role="primary"}`), chunks);
  t.is(r.get('logkit_input_events_total'), count);
  t.is(r.get('logkit_output_events_total'), count);
  t.is(r.get('logkit_receive_acks_total'), chunks);
  t.is(r.get('logkit_receive_connections_total'), 1);
  t.is(r.get('logkit_receive_open_connections'), 1);
  t.is(r.get('logkit_input_bytes_total'), f.get('logkit_output_bytes_total'));

  forward.child.stdin!.end();
  t.is(await forward.exited, 0);
  t.regex(forward.stderr, new RegExp(`logkit forward: stats \\(exit\\) events=${count} chunks=${chunks} acked_chunks=${chunks} acked_events=${count} `));
  t.is(await receive.stop(), 0);
});

test('forward --no-ack --metrics: the delivered-chunk counters are sent_* as on the stats line, with no acked_* metric', async (t) => {
  const receive = new StageProcess(t, ['receive', '--bind', '127.0.0.1:0'], 'ignore');
  receive.child.stdout!.resume();
  await waitFor(() => /listening on (?:tcp:\/\/)?127\.0\.0\.1:\d+/.test(receive.stderr), 'receive to listen');
  const port = /listening on (?:tcp:\/\/)?127\.0\.0\.1:(\d+)/.exec(receive.stderr)![1]!;
  const forward = new StageProcess(t, ['forward', `127.0.0.1:${port}`, '--no-ack', '--metrics', '127.0.0.1:0', '--stats'], 'pipe');
  const url = await forward.metricsUrl();
  forward.child.stdin!.write(JSON.stringify({ tag: 'm.t', time: '2026-11-21T00:00:00Z', record: { seq: 1 } }) + '\n');
  await waitFor(async () => (await scrape(url)).get('logkit_output_events_total') === 1, 'the event written');
  const m = await scrape(url);
  t.is(m.get('logkit_forward_sent_chunks_total'), 1);
  t.is(m.get(`logkit_forward_server_sent_chunks_total{server="127.0.0.1:${port}",role="primary"}`), 1);
  t.deepEqual([...m.keys()].filter((name) => name.includes('acked')), []);
  forward.child.stdin!.end();
  t.is(await forward.exited, 0);
  t.regex(forward.stderr, / sent_chunks=1 sent_events=1 .* chunks=1 sent=1 /);
  t.is(await receive.stop(), 0);
});
