import test from 'ava';
import { createLineParser, PARSE_FORMATS } from '../../src/parse/parsers.js';
import { LinearRegex } from '../../src/regex/linear-regex.js';
import { TimeZone } from '../../src/parse/time/zone.js';
import { logkit } from '../helpers/logkit.js';

/*
 * Hang detectors, not performance targets: each hostile line must be rejected (or parsed) in
 * well under the bound. A backtracking blow-up on these lines takes minutes to forever.
 */
const BOUND_MS = 5000;
const K100 = 100 * 1024;

const HOSTILE = [
  ' '.repeat(K100),
  '"'.repeat(K100),
  '\\'.repeat(K100),
  '1.2.3.4 - - [' + ' '.repeat(K100),
  '1.2.3.4 - - [21/Nov/2026:00:00:00 +0000] "' + '\\"'.repeat(K100 / 2),
  '1.2.3.4 - - [21/Nov/2026:00:00:00 +0000] "GET ' + ' '.repeat(K100) + 'x',
  '1.2.3.4 - - [21/Nov/2026:00:00:00 +0000] "GET /" 200 1 "' + 'a\\'.repeat(K100 / 2),
  '<13>Nov 21 00:00:00 host ' + 'a['.repeat(K100 / 2),
  '<13>1 ' + '[x '.repeat(K100 / 3),
  '<13>1 - - - - - ' + '[a="\\'.repeat(K100 / 6),
  '[' + ']['.repeat(K100 / 2),
  '[Wed Oct 11 14:32:52 2000] [error]' + ' [client '.repeat(K100 / 9),
  'a=' + '"\\'.repeat(K100 / 2),
  'k' + '='.repeat(K100),
  '"'.repeat(K100) + ',',
  '2026-11-21T00:00:00Z stdout ' + ' '.repeat(K100),
  '{"log":"' + 'x'.repeat(K100),
];

test('every built-in format finishes on 100 KB pathological lines', (t) => {
  const zone = TimeZone.parse('UTC')!;
  for (const format of PARSE_FORMATS) {
    if (format === 'regexp') continue;
    const parser = createLineParser(format, { zone, fields: ['a', 'b', 'c'] });
    for (const line of HOSTILE) {
      const started = Date.now();
      parser.parse(line);
      if (parser.time !== undefined) parser.readTime?.(parser.time.slice(0, 256));
      const took = Date.now() - started;
      t.true(took < BOUND_MS, `${format} took ${took} ms on a ${line.length}-byte line starting ${JSON.stringify(line.slice(0, 30))}`);
    }
  }
});

test('a user pattern that backtracks exponentially elsewhere runs in linear time on RE2', (t) => {
  for (const pattern of ['^(a+)+$', '^(a|a)*$', '^(?<x>(\\w+\\s?)*)$', '^(?<q>(?:[^"]|\\\\.)*?)"$']) {
    const regex = LinearRegex.compile(pattern, 'test');
    const started = Date.now();
    t.is(regex.exec('a'.repeat(K100) + '!'), null);
    regex.exec('\\'.repeat(K100));
    t.true(Date.now() - started < BOUND_MS, pattern);
  }
});

test('the parse command survives a stream of hostile lines and marks them', async (t) => {
  const input = HOSTILE.join('\n') + '\n';
  const started = Date.now();
  const r = await logkit(['parse', 'apache2', '-o', 'json'], { input, timeout: 60_000 });
  t.is(r.exitCode, 0, String(r.stderr));
  const events = String(r.stdout).trimEnd().split('\n');
  t.is(events.length, HOSTILE.length);
  t.true(Date.now() - started < 30_000);
  t.regex(String(r.stderr), new RegExp(`logkit parse: ${HOSTILE.length} of ${HOSTILE.length} lines did not parse as apache2`));
});

test('a backreference or lookahead in a user pattern is refused with exit 64 (RE2 has neither)', async (t) => {
  for (const pattern of ['^(?<a>x)\\1$', '^(?=x)(?<a>.)']) {
    const r = await logkit(['parse', 'regexp', '--pattern', pattern], { input: 'x\n' });
    t.is(r.exitCode, 64, pattern);
    t.regex(String(r.stderr), /logkit: parse: --pattern: invalid regular expression/);
  }
});
