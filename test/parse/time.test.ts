import test from 'ava';
import { parseISO8601 } from '../../src/parse/time/iso8601.js';
import { compileStrptime } from '../../src/parse/time/strptime.js';
import { createTimeParser } from '../../src/parse/time/time-parser.js';
import { TimeZone } from '../../src/parse/time/zone.js';

const UTC = TimeZone.parse('UTC')!;
const at = (format: string, value: unknown, zone = UTC) => createTimeParser(format, zone)(value)?.toISO();

test('ISO 8601: nanoseconds kept, offsets applied, impossible dates refused', (t) => {
  t.is(parseISO8601('2026-11-21T10:00:00.123456789Z', UTC)?.toISO(), '2026-11-21T10:00:00.123456789Z');
  t.is(parseISO8601('2026-11-21 10:00:00,5+02:00', UTC)?.toISO(), '2026-11-21T08:00:00.500000000Z');
  t.is(parseISO8601('2026-11-21T10:00:00-0530', UTC)?.toISO(), '2026-11-21T15:30:00.000000000Z');
  t.is(parseISO8601('2024-02-29T00:00:00Z', UTC)?.toISO(), '2024-02-29T00:00:00.000000000Z');
  for (const bad of ['2026-02-30T00:00:00Z', '2026-13-01T00:00:00Z', '2026-11-21T25:00:00Z', '2026-11-21', '2026-11-21T10:00:00Zjunk', '2026-11-21T10:00:00.Z', 'yesterday']) {
    t.is(parseISO8601(bad, UTC), undefined, bad);
  }
});

test('ISO 8601 without an offset is read in --timezone, across a DST change', (t) => {
  const berlin = TimeZone.parse('Europe/Berlin')!;
  t.is(at('iso8601', '2026-07-01T12:00:00', berlin), '2026-07-01T10:00:00.000000000Z'); // CEST, +2
  t.is(at('iso8601', '2026-12-01T12:00:00', berlin), '2026-12-01T11:00:00.000000000Z'); // CET, +1
  t.is(at('iso8601', '2026-12-01T12:00:00Z', berlin), '2026-12-01T12:00:00.000000000Z');
  t.is(at('iso8601', '2026-12-01T12:00:00', TimeZone.parse('+09:00')!), '2026-12-01T03:00:00.000000000Z');
});

test('epoch seconds, milliseconds, nanoseconds: from numbers and from digit text, exactly', (t) => {
  t.is(at('epoch', 1700000000), '2023-11-14T22:13:20.000000000Z');
  t.is(at('epoch', 1441588984.248), '2015-09-07T01:23:04.248000000Z');
  t.is(at('epoch', '1700000000.123456789'), '2023-11-14T22:13:20.123456789Z');
  t.is(at('epoch_ms', 1700000000123), '2023-11-14T22:13:20.123000000Z');
  t.is(at('epoch_ms', '1700000000123.456'), '2023-11-14T22:13:20.123456000Z');
  t.is(at('epoch_ns', '1700000000123456789'), '2023-11-14T22:13:20.123456789Z');
  t.is(at('epoch_ns', 1700000000123456789n), '2023-11-14T22:13:20.123456789Z');
  t.is(at('epoch', 'soon'), undefined);
  t.is(at('epoch', -5), undefined);
});

test('auto: numbers are epoch seconds, text is ISO 8601 or epoch digits', (t) => {
  t.is(at('auto', 1700000000.5), '2023-11-14T22:13:20.500000000Z');
  t.is(at('auto', '1700000000'), '2023-11-14T22:13:20.000000000Z');
  t.is(at('auto', '2026-11-21T00:00:00.030Z'), '2026-11-21T00:00:00.030000000Z');
  t.is(at('auto', 'Nov 21'), undefined);
  t.is(at('auto', true), undefined);
});

test('strptime: Apache, syslog, fractions, AM/PM, %s, composites', (t) => {
  t.is(at('%d/%b/%Y:%H:%M:%S %z', '10/Oct/2000:13:55:36 -0700'), '2000-10-10T20:55:36.000000000Z');
  t.is(at('%Y-%m-%d %H:%M:%S.%N', '2026-11-21 10:00:00.000000042'), '2026-11-21T10:00:00.000000042Z');
  t.is(at('%Y-%m-%dT%H:%M:%S.%3N%z', '2026-11-21T10:00:00.123+01:00'), '2026-11-21T09:00:00.123000000Z');
  t.is(at('%m/%d/%Y %I:%M %p', '11/21/2026 12:05 AM'), '2026-11-21T00:05:00.000000000Z');
  t.is(at('%m/%d/%Y %I:%M %p', '11/21/2026 01:05 pm'), '2026-11-21T13:05:00.000000000Z');
  t.is(at('%s', '1700000000'), '2023-11-14T22:13:20.000000000Z');
  t.is(at('%F %T', '2026-11-21 10:11:12'), '2026-11-21T10:11:12.000000000Z');
  t.is(at('%B %e %Y', 'November  5 2026'), '2026-11-05T00:00:00.000000000Z');
  t.is(at('%d/%b/%Y', '21/Foo/2026'), undefined);
  t.is(at('%Y-%m-%d', '2026-11-21 trailing'), undefined);
  t.throws(() => createTimeParser('%Q', UTC), { message: /unknown directive %Q/ });
  t.throws(() => createTimeParser('weekly', UTC), { message: /unknown time format/ });
});

test('strptime without a year: this year, or last year for a stamp from "the future" (Dec 31 read on Jan 1)', (t) => {
  const jan1 = Date.UTC(2027, 0, 1, 0, 0, 5);
  const parse = compileStrptime('%b %d %H:%M:%S', UTC, () => jan1);
  t.is(parse('Dec 31 23:59:59')?.toISO(), '2026-12-31T23:59:59.000000000Z');
  t.is(parse('Jan  1 00:00:01')?.toISO(), '2027-01-01T00:00:01.000000000Z');
});

test('time zones: names, offsets and nonsense', (t) => {
  t.truthy(TimeZone.parse('local'));
  t.truthy(TimeZone.parse('America/New_York'));
  t.is(TimeZone.parse('+05:30')!.offsetAtWall(0), 19800);
  t.is(TimeZone.parse('Mars/Olympus'), undefined);
  t.is(TimeZone.parse('+25:00'), undefined);
});
