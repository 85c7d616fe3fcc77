import test from 'ava';
import { formatDuration, formatSize, parseDuration, parseSize } from '../../src/base/units.js';

test('durations: units, case-insensitive; a bare number is seconds; the result is milliseconds', (t) => {
  t.is(parseDuration('250ms'), 250);
  t.is(parseDuration('5s'), 5000);
  t.is(parseDuration('5'), 5000);
  t.is(parseDuration(5), 5000);
  t.is(parseDuration('0.05'), 50);
  t.is(parseDuration('1.5m'), 90_000);
  t.is(parseDuration('2M'), 120_000);
  t.is(parseDuration('1h'), 3_600_000);
  t.is(parseDuration('1d'), 86_400_000);
  t.is(parseDuration(' 10 s '), 10_000);
  t.is(parseDuration('0'), 0);
  for (const bad of ['', 'abc', '5x', '-1s', '1e3', '0x10', 's', '5 5s', '5sec']) t.is(parseDuration(bad), undefined, bad);
});

test('sizes: k, m, g, t binary, b optional, case-insensitive; a bare number is bytes', (t) => {
  t.is(parseSize('512'), 512);
  t.is(parseSize(512), 512);
  t.is(parseSize('64k'), 65_536);
  t.is(parseSize('64KB'), 65_536);
  t.is(parseSize('1m'), 1_048_576);
  t.is(parseSize('1Mb'), 1_048_576);
  t.is(parseSize('1MiB'), 1_048_576);
  t.is(parseSize('1g'), 1024 ** 3);
  t.is(parseSize('1.5k'), 1536);
  t.is(parseSize('100b'), 100);
  for (const bad of ['', 'abc', '1q', '-1k', '1e3', 'k', '1kk']) t.is(parseSize(bad), undefined, bad);
});

test('formatting picks the largest unit that divides, and parses back', (t) => {
  t.is(formatDuration(50), '50ms');
  t.is(formatDuration(1000), '1s');
  t.is(formatDuration(90_000), '90s');
  t.is(formatDuration(3_600_000), '1h');
  t.is(formatDuration(0), '0s');
  t.is(formatSize(1024 ** 3), '1g');
  t.is(formatSize(32 * 1024 * 1024), '32m');
  t.is(formatSize(1000), '1000');
  for (const ms of [1, 50, 999, 1000, 61_000, 3_600_000, 86_400_000]) t.is(parseDuration(formatDuration(ms)), ms);
  for (const bytes of [1, 1000, 1024, 65_536, 1024 ** 3 * 3]) t.is(parseSize(formatSize(bytes)), bytes);
});
