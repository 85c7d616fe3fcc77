import test from 'ava';
import { createLineParser, type ParseFormat } from '../../src/parse/parsers.js';
import { LinearRegex } from '../../src/regex/linear-regex.js';
import { TimeZone } from '../../src/parse/time/zone.js';
import { generatedLines } from './helpers.js';

const UTC = TimeZone.parse('UTC')!;
const parser = (format: ParseFormat, extra: { pattern?: string; fields?: string[] } = {}) =>
  createLineParser(format, { zone: UTC, fields: extra.fields, pattern: extra.pattern ? LinearRegex.compile(extra.pattern, 'test') : undefined });

const iso = (p: ReturnType<typeof parser>) => (p.time === undefined ? undefined : p.readTime!(p.time)?.toISO());

// ----------------------------------------------------------------------------- apache2

test('apache2: every generated combined line parses, with Fluentd field names and types', async (t) => {
  const p = parser('apache2');
  const lines = await generatedLines('apache', 2000);
  for (const line of lines) t.truthy(p.parse(line), line);
  t.deepEqual(p.parse(lines[10]!), {
    host: '10.74.183.10', user: null, method: 'PUT', path: '/health/954', code: 200, size: 9532, referer: null, agent: 'Go-http-client/1.1',
  });
  t.is(iso(p), '2026-11-21T00:00:00.000000000Z');
});

test('apache2: common format, a user, escaped quotes, a zone offset, an odd request', (t) => {
  const p = parser('apache2');
  t.deepEqual(p.parse('127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326'), {
    host: '127.0.0.1', user: 'frank', method: 'GET', path: '/apache_pb.gif', code: 200, size: 2326, referer: null, agent: null,
  });
  t.is(iso(p), '2000-10-10T20:55:36.000000000Z');
  const r = p.parse('1.2.3.4 - - [21/Nov/2026:10:00:00 +0100] "GET /q?a=\\"x\\" HTTP/1.1" 404 - "http://ref/" "Agent \\"quoted\\" (X11)"')!;
  t.is(r.path, '/q?a=\\"x\\"');
  t.is(r.size, null);
  t.is(r.agent, 'Agent \\"quoted\\" (X11)');
  t.is(iso(p), '2026-11-21T09:00:00.000000000Z');
  const bad = p.parse('1.2.3.4 - - [21/Nov/2026:10:00:00 +0000] "-" 400 0 "-" "-"')!;
  t.is(bad.method, '-');
  t.is(bad.path, null);
});

test('apache2: malformed lines fail with a reason', (t) => {
  const p = parser('apache2');
  for (const line of ['', 'hello world', '1.2.3.4 - - [21/Nov/2026:10:00:00 +0000] "GET / HTTP/1.1 200 1', '1.2.3.4 - - 21/Nov/2026 "GET /" 200 1']) {
    t.is(p.parse(line), undefined, line);
    t.regex(p.error, /apache2/);
  }
});

test('nginx: combined with and without x-forwarded-for', (t) => {
  const p = parser('nginx');
  t.deepEqual(p.parse('10.0.0.1 - alice [21/Nov/2026:00:00:01 +0000] "POST /api HTTP/2.0" 201 12 "-" "curl/8.5.0" "203.0.113.9"'), {
    remote: '10.0.0.1', host: '-', user: 'alice', method: 'POST', path: '/api', code: 201, size: 12, referer: null, agent: 'curl/8.5.0', http_x_forwarded_for: '203.0.113.9',
  });
  t.is(p.parse('10.0.0.1 - - [21/Nov/2026:00:00:01 +0000] "GET / HTTP/1.1" 200 5 "-" "x"')!.http_x_forwarded_for, undefined);
  t.is(p.parse('garbage'), undefined);
});

test('apache_error: 2.2 and 2.4 lines, fraction kept', (t) => {
  const p = parser('apache_error');
  t.deepEqual(p.parse('[Wed Oct 11 14:32:52 2000] [error] [client 127.0.0.1] client denied by server configuration: /export/home/live/ap/htdocs/test'), {
    level: 'error', client: '127.0.0.1', message: 'client denied by server configuration: /export/home/live/ap/htdocs/test',
  });
  t.is(iso(p), '2000-10-11T14:32:52.000000000Z');
  t.deepEqual(p.parse('[Sat Nov 21 10:00:00.123456 2026] [core:error] [pid 35708:tid 4328636416] [client 72.15.99.187:51234] AH00037: Symbolic link not allowed'), {
    level: 'error', module: 'core', pid: '35708', tid: '4328636416', client: '72.15.99.187:51234', message: 'AH00037: Symbolic link not allowed',
  });
  t.is(iso(p), '2026-11-21T10:00:00.123456000Z');
  t.is(p.parse('Nov 21 error happened'), undefined);
});

// ----------------------------------------------------------------------------- syslog

test('syslog: every generated RFC 3164 line parses; priority gives facility and severity', async (t) => {
  const p = parser('syslog');
  const lines = await generatedLines('syslog', 2000);
  for (const line of lines) t.truthy(p.parse(line), line);
  t.deepEqual(p.parse(lines[10]!), {
    pri: 152, facility: 'local3', severity: 'emerg', host: 'host7', ident: 'cart', pid: '23421', message: 'order handled miss added retry parsed seq=10',
  });
  t.regex(iso(p)!, /-11-21T00:00:00\.000000000Z$/);
});

test('syslog: RFC 3164 without priority or pid, single-digit day; RFC 5424 with structured data', (t) => {
  const p = parser('syslog');
  t.deepEqual(p.parse('Nov  1 08:09:10 web1 CRON: (root) CMD (run-parts /etc/cron.hourly)'), {
    host: 'web1', ident: 'CRON', pid: null, message: '(root) CMD (run-parts /etc/cron.hourly)',
  });
  t.regex(iso(p)!, /-11-01T08:09:10\.000000000Z$/);
  t.deepEqual(p.parse('<165>1 2003-10-11T22:14:15.003000123Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application"] \uFEFFAn application event'), {
    pri: 165, facility: 'local4', severity: 'notice', host: 'mymachine.example.com', ident: 'evntslog', pid: '-', msgid: 'ID47',
    extradata: '[exampleSDID@32473 iut="3" eventSource="Application"]', message: 'An application event',
  });
  t.is(iso(p), '2003-10-11T22:14:15.003000123Z');
  t.deepEqual(p.parse('<34>1 2026-11-21T10:00:00+02:00 host su 77 - -')!.message, '');
  t.is(iso(p), '2026-11-21T08:00:00.000000000Z');
});

test('syslog: malformed lines and out-of-range priorities fail', (t) => {
  const p = parser('syslog');
  t.is(p.parse('just some text'), undefined);
  t.is(p.parse('<999>Nov 21 00:00:00 host app: x'), undefined);
  t.is(p.parse('<192>Nov 21 00:00:00 host app: x'), undefined);
  t.regex(p.error, /priority 192/);
  t.is(p.parse('<34>1 not-enough-fields'), undefined);
});

// ----------------------------------------------------------------------------- json, logfmt, ltsv

test('json: generated lines parse; big integers stay exact; non-objects and bad JSON fail', async (t) => {
  const p = parser('json');
  const lines = await generatedLines('json', 500);
  for (const line of lines) t.truthy(p.parse(line), line);
  t.deepEqual(p.parse(lines[10]!), {
    ts: '2026-11-21T00:00:00.030Z', level: 'warn', service: 'search', msg: 'order handled miss added retry parsed', user_id: 190658, latency_ms: 373.69, path: '/health/954', seq: 10,
  });
  t.is(p.parse('{"id":12345678901234567890}')!.id, 12345678901234567890n);
  for (const bad of ['[1,2]', '"text"', '{"a":', 'plain text', 'null']) {
    t.is(p.parse(bad), undefined, bad);
  }
  t.regex((p.parse('{"a":'), p.error), /invalid JSON/);
});

test('logfmt: generated lines, quoting and escapes, bare keys; malformed lines fail', async (t) => {
  const p = parser('logfmt');
  const lines = await generatedLines('logfmt', 500);
  for (const line of lines) t.truthy(p.parse(line), line);
  t.deepEqual(p.parse(lines[10]!), {
    ts: '2026-11-21T00:00:00.030Z', level: 'info', service: 'inventory', msg: 'upstream session placed item session', latency_ms: '151.5', seq: '10',
  });
  t.deepEqual(p.parse('a=1 b="x \\"y\\" \\\\ z" flag c= d="" e=a=b'), { a: '1', b: 'x "y" \\ z', flag: true, c: '', d: '', e: 'a=b' });
  t.is(p.parse('msg="unterminated'), undefined);
  t.regex(p.error, /unterminated/);
  t.is(p.parse('no pairs here'), undefined);
  t.is(p.parse('=value'), undefined);
});

test('ltsv: label:value pairs; a field without a label fails', (t) => {
  const p = parser('ltsv');
  t.deepEqual(p.parse('time:2026-11-21T00:00:00Z\thost:10.0.0.1\treq:GET /a:b HTTP/1.1\tstatus:200'), {
    time: '2026-11-21T00:00:00Z', host: '10.0.0.1', req: 'GET /a:b HTTP/1.1', status: '200',
  });
  t.is(p.parse('host:a\tnolabel'), undefined);
  t.is(p.parse('host:a\t:x'), undefined);
});

// ----------------------------------------------------------------------------- csv, tsv

test('csv: RFC 4180 quoting; the value count must match --fields', (t) => {
  const p = parser('csv', { fields: ['time', 'level', 'message'] });
  t.deepEqual(p.parse('1700000000,info,"hello, ""world"""'), { time: '1700000000', level: 'info', message: 'hello, "world"' });
  t.deepEqual(p.parse(',,'), { time: '', level: '', message: '' });
  t.is(p.parse('a,b'), undefined);
  t.regex(p.error, /2 values for 3 fields/);
  t.is(p.parse('a,b,c,d'), undefined);
  t.is(p.parse('a,"b,c'), undefined);
  t.is(p.parse('a,"b"x,c'), undefined);
});

test('tsv: tab split', (t) => {
  const p = parser('tsv', { fields: ['a', 'b'] });
  t.deepEqual(p.parse('x y\t"z"'), { a: 'x y', b: '"z"' });
  t.is(p.parse('only-one'), undefined);
});

// ----------------------------------------------------------------------------- containers, regexp, none

test('docker: json-file lines; newline stripped; a split line is flagged partial', (t) => {
  const p = parser('docker');
  t.deepEqual(p.parse('{"log":"GET / 200\\n","stream":"stdout","time":"2026-11-21T10:00:00.123456789Z"}'), { log: 'GET / 200', stream: 'stdout' });
  t.is(iso(p), '2026-11-21T10:00:00.123456789Z');
  t.deepEqual(p.parse('{"log":"first 16k","stream":"stderr","time":"2026-11-21T10:00:00Z"}'), { log: 'first 16k', stream: 'stderr', partial: true });
  t.is(p.parse('{"stream":"stdout"}'), undefined);
  t.is(p.parse('not json'), undefined);
});

test('cri: full and partial lines, empty message', (t) => {
  const p = parser('cri');
  t.deepEqual(p.parse('2026-11-21T10:00:00.987654321Z stdout F hello world'), { stream: 'stdout', logtag: 'F', message: 'hello world' });
  t.is(iso(p), '2026-11-21T10:00:00.987654321Z');
  t.deepEqual(p.parse('2026-11-21T10:00:00Z stderr P '), { stream: 'stderr', logtag: 'P', message: '' });
  t.is(p.parse('2026-11-21T10:00:00Z stdin F x'), undefined);
  t.is(p.parse('hello'), undefined);
});

test('regexp: named groups become fields; unmatched optional groups are left out', (t) => {
  const p = parser('regexp', { pattern: '^(?<level>[A-Z]+)(?: \\[(?<thread>[^\\]]+)\\])? (?<message>.*)$' });
  t.deepEqual(p.parse('WARN [main] disk almost full'), { level: 'WARN', thread: 'main', message: 'disk almost full' });
  t.deepEqual(p.parse('INFO started'), { level: 'INFO', message: 'started' });
  t.is(p.parse('lowercase line'), undefined);
  t.regex(p.error, /does not match/);
});

test('multiline generator lines: first lines parse with a regexp, continuation lines fail (joining is tail\'s job)', async (t) => {
  const p = parser('regexp', { pattern: '^(?<time>\\d{4}-\\d{2}-\\d{2}T\\S+) (?<level>[A-Z]+) (?<service>\\S+) (?<message>.*)$' });
  const lines = (await generatedLines('multiline', 300)).filter((l) => l !== '');
  let starts = 0;
  let continuations = 0;
  for (const line of lines) {
    if (/^\d{4}-/.test(line)) {
      t.truthy(p.parse(line), line);
      starts++;
    } else {
      t.is(p.parse(line), undefined, line);
      continuations++;
    }
  }
  t.is(starts, 300);
  t.true(continuations > 0);
});

test('none: the whole text becomes message', (t) => {
  t.deepEqual(parser('none').parse('anything at all'), { message: 'anything at all' });
});
