import test from 'ava';
import { Backoff } from '../../src/retry/backoff.js';

test('backoff doubles from its first wait up to its cap, and a reset starts over', (t) => {
  const backoff = new Backoff({ initialMs: 500, maxMs: 4000, random: () => 0.999_999 }); // the top of each step
  t.deepEqual([backoff.next(), backoff.next(), backoff.next(), backoff.next(), backoff.next()], [500, 1000, 2000, 4000, 4000]);
  t.is(backoff.attempts, 5);
  backoff.reset();
  t.is(backoff.attempts, 0);
  t.is(backoff.next(), 500);
});

test('jitter draws each wait between half and all of its step, never above the cap', (t) => {
  const low = new Backoff({ initialMs: 1000, maxMs: 60_000, random: () => 0 });
  t.deepEqual([low.next(), low.next(), low.next()], [500, 1000, 2000]);
  const real = new Backoff({ initialMs: 100, maxMs: 3000 });
  for (let i = 0; i < 200; i++) {
    const step = Math.min(3000, 100 * 2 ** i);
    const wait = real.next();
    t.true(wait >= step / 2 && wait <= step, `wait ${wait} for step ${step}`);
  }
});
